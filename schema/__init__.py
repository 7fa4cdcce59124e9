"""The GraphQL schema: Strawberry types over the resolvers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import strawberry
from graphql import GraphQLError, lexicographic_sort_schema, print_schema
from strawberry.extensions import SchemaExtension

from resolvers.context import EndReads
from schema.dates import Date
from schema.execution import DeadlineExecutor
from schema.input_text import RefuseNulCharacters
from schema.institution import Institution
from schema.masking import MaskUnexpectedErrors
from schema.mutation import Mutation
from schema.paper import Paper
from schema.query import Query
from schema.researcher import Researcher

ExtensionFactory = Callable[[], SchemaExtension] | type[SchemaExtension]


class Schema(strawberry.Schema):
    """Strawberry's schema, without its log line for every error a caller caused.

    Errors a caller can fix are answers, not faults; the faults are logged,
    with their request id, where they are masked (schema.masking).
    """

    def process_errors(
        self,
        errors: list[GraphQLError],  # noqa: ARG002 - the signature is strawberry's
        execution_context: Any = None,  # noqa: ARG002
    ) -> None:
        return None


def build_schema(*, extensions: Sequence[ExtensionFactory] = ()) -> strawberry.Schema:
    """The schema, with the server's own extensions (limits, logging) added after ours."""
    return Schema(
        execution_context_class=DeadlineExecutor,
        query=Query,
        mutation=Mutation,
        types=[Researcher, Paper, Institution],
        # A day the calendar lacks reaches a mutation, to be reported with its field's path.
        scalar_overrides={date: Date},
        extensions=[
            EndReads,  # first, so that it closes the request's reads after every other
            RefuseNulCharacters,
            *extensions,
            MaskUnexpectedErrors,
        ],
    )


schema = build_schema()


def sorted_sdl(built: strawberry.Schema = schema) -> str:
    """The served schema as SDL, types and fields sorted, as committed in schema.graphql."""
    return print_schema(lexicographic_sort_schema(built._schema)) + "\n"
