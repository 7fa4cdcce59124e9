"""The errors a caller may see, and what they mean.

Every error here is a GraphQLError, so its message and `extensions.code`
reach the client as written; any other exception is a fault of ours and is
masked before it leaves the server.

- InvalidArgumentError (code BAD_USER_INPUT): an argument the caller can
  fix: two lookups at once, a page over the size limit, a cursor that is
  not ours or belongs to another ordering, an ID that is not a valid ID.
"""

from __future__ import annotations

from graphql import GraphQLError


class InvalidArgumentError(GraphQLError):
    """A request argument that is malformed or out of bounds; nothing was done."""

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "BAD_USER_INPUT"})
