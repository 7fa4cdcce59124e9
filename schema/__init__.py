"""The GraphQL schema: Strawberry types over the resolvers."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import strawberry
from graphql import GraphQLError, lexicographic_sort_schema, print_schema
from strawberry.extensions import MaskErrors, ParserCache, SchemaExtension, ValidationCache

from schema.institution import Institution
from schema.mutation import Mutation
from schema.paper import Paper
from schema.query import Query
from schema.researcher import Researcher

ExtensionFactory = Callable[[], SchemaExtension] | type[SchemaExtension]


def _is_unexpected(error: GraphQLError) -> bool:
    """Errors we raised on purpose (and GraphQL's own) keep their message; others are masked."""
    return error.original_error is not None and not isinstance(error.original_error, GraphQLError)


def build_schema(*, extensions: Sequence[ExtensionFactory] = ()) -> strawberry.Schema:
    """The schema, with the server's own extensions (limits, logging) added after ours."""
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=[Researcher, Paper, Institution],
        extensions=[
            # Parsing and validating the same document again on every request is wasted work.
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
            *extensions,
            lambda: MaskErrors(should_mask_error=_is_unexpected),
        ],
    )


schema = build_schema()


def sorted_sdl(built: strawberry.Schema = schema) -> str:
    """The served schema as SDL, types and fields sorted, as committed in schema.graphql."""
    return print_schema(lexicographic_sort_schema(built._schema)) + "\n"
