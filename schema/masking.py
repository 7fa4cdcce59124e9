"""Unexpected errors: masked for the client, logged in full with the request's id.

A resolver's own errors (GraphQLError and its subclasses in resolvers.errors)
and GraphQL's validation errors reach the client as written. Anything else
is a fault of ours: the client sees "Unexpected error." with the request
id to quote, and the log gets the traceback under the same id; no stack,
SQL or data leaves the server.
"""

from __future__ import annotations

import logging

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

logger = logging.getLogger("scholargraph.errors")


def is_unexpected(error: GraphQLError) -> bool:
    return error.original_error is not None and not isinstance(error.original_error, GraphQLError)


class MaskUnexpectedErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request_id = getattr(self.execution_context.context, "request_id", None)
        logger.error(
            "unexpected error at %s (request %s)",
            ".".join(str(step) for step in error.path or ()),
            request_id,
            exc_info=error.original_error,
        )
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
        return masked
