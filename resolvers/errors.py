"""The errors a caller may see, and what they mean.

Every error here is a GraphQLError, so its message and `extensions.code`
reach the client as written; any other exception is a fault of ours and is
masked before it leaves the server.

- InvalidArgumentError (code BAD_USER_INPUT): an argument the caller can
  fix: two lookups at once, a page over the size limit, a cursor that is
  not ours or belongs to another ordering, an ID that is not a valid ID,
  text holding a NUL character (refused for the whole request).
- UnauthenticatedError (code UNAUTHENTICATED): a mutation came without a
  valid bearer token (none, not ours, or revoked); nothing was written.
- ForbiddenError (code FORBIDDEN): the token is valid but lacks the scope
  the mutation needs; nothing was written.

Problems with a mutation's input are not errors here: they come back in the
payload's userErrors (resolvers.mutations.validation).
"""

from __future__ import annotations

from collections.abc import Collection

from graphql import GraphQLError, Node


class InvalidArgumentError(GraphQLError):
    """A request argument that is malformed or out of bounds; nothing was done."""

    def __init__(self, message: str, *, nodes: Collection[Node] | None = None) -> None:
        super().__init__(message, nodes, extensions={"code": "BAD_USER_INPUT"})


class UnauthenticatedError(GraphQLError):
    """No valid bearer token came with a mutation; nothing was written."""

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "UNAUTHENTICATED"})


class ForbiddenError(GraphQLError):
    """The token is valid but may not do this; nothing was written."""

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "FORBIDDEN"})
