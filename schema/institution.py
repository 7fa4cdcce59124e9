"""Institutions: where papers come from and researchers work."""

from __future__ import annotations

from typing import Annotated

import strawberry

from db.tables import AnyRow
from resolvers import papers, researchers
from resolvers.context import Context
from schema.connection import After, Before, Connection, First, Last, connection, page_args
from schema.inputs import PaperOrder, paper_order
from schema.node import Node
from schema.paper import Paper
from schema.researcher import Researcher


@strawberry.type(description="A university, lab or company that papers name.")
class Institution(Node):
    db_id: strawberry.Private[int]
    slug: str = strawberry.field(description="URL-safe unique handle, e.g. mit.")
    name: str = strawberry.field(description="Display name.")

    @strawberry.field(
        description="Papers that print this institution, newest first unless orderBy says "
        "otherwise."
    )
    async def papers(
        self,
        info: strawberry.Info[Context],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[
            PaperOrder | None, strawberry.argument(description="Sort order.")
        ] = None,
    ) -> Connection[Paper]:
        result = await papers.papers_of_institution(
            info.context,
            self.db_id,
            page_args(first, after, last, before),
            order=paper_order(order_by),
        )
        return connection(result, Paper.from_row)

    @strawberry.field(description="Researchers a source names as affiliated with it, by name.")
    async def researchers(
        self,
        info: strawberry.Info[Context],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Researcher]:
        result = await researchers.researchers_of_institution(
            info.context, self.db_id, page_args(first, after, last, before)
        )
        return connection(result, Researcher.from_row)

    @classmethod
    def from_row(cls, row: AnyRow) -> Institution:
        return cls(
            db_id=row.id,
            slug=row.slug,
            name=row.name,
        )
