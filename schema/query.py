"""The root of every read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import strawberry

from db.tables import AnyRow
from resolvers import categories, institutions, papers, researchers
from resolvers.context import Context
from resolvers.nodes import load_node, load_nodes
from schema.category import Category
from schema.connection import After, Before, Connection, First, Last, connection, page_args
from schema.corpus import CorpusStats
from schema.inputs import (
    PaperFilter,
    PaperOrder,
    ResearcherOrder,
    filter_spec,
    paper_order,
    researcher_order,
)
from schema.institution import Institution
from schema.node import Node
from schema.paper import Paper
from schema.researcher import Researcher

NODE_TYPES: dict[str, Callable[[AnyRow], Node]] = {
    "Researcher": Researcher.from_row,
    "Paper": Paper.from_row,
    "Institution": Institution.from_row,
}


def _arg(description: str) -> object:
    return strawberry.argument(description=description)


async def _node(info: strawberry.Info[Context], global_id: str) -> Node | None:
    found = await load_node(info.context, global_id)
    if found is None:
        return None
    type_name, row = found
    return NODE_TYPES[type_name](row)


@strawberry.type(description="Everything that can be read. Reads need no token.")
class Query:
    @strawberry.field(
        description="Fetch any object by its global ID; null when it no longer exists."
    )
    async def node(
        self, info: strawberry.Info[Context], id: Annotated[strawberry.ID, _arg("A global ID.")]
    ) -> Node | None:
        return await _node(info, id)

    @strawberry.field(
        description="Fetch several objects by global ID, in the order given; null for each "
        "one that no longer exists. At most 100 IDs at a time."
    )
    async def nodes(
        self,
        info: strawberry.Info[Context],
        ids: Annotated[list[strawberry.ID], _arg("Global IDs.")],
    ) -> list[Node | None]:
        found = await load_nodes(info.context, ids)
        return [None if item is None else NODE_TYPES[item[0]](item[1]) for item in found]

    @strawberry.field(description="One researcher: exactly one of id, slug and orcid.")
    async def researcher(
        self,
        info: strawberry.Info[Context],
        id: Annotated[strawberry.ID | None, _arg("Global ID.")] = None,
        slug: Annotated[str | None, _arg("Slug, e.g. david-bau.")] = None,
        orcid: Annotated[str | None, _arg("ORCID iD.")] = None,
    ) -> Researcher | None:
        row = await researchers.find_researcher(info.context, id=id, slug=slug, orcid=orcid)
        return None if row is None else Researcher.from_row(row)

    @strawberry.field(description="Researchers by name, or as a leaderboard by an indicator.")
    async def researchers(
        self,
        info: strawberry.Info[Context],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        query: Annotated[
            str | None, _arg("Case- and accent-insensitive match on names and aliases.")
        ] = None,
        order_by: Annotated[ResearcherOrder | None, _arg("Sort order; default by name.")] = None,
    ) -> Connection[Researcher]:
        result = await researchers.list_researchers(
            info.context,
            page_args(first, after, last, before),
            query=query,
            order=researcher_order(order_by),
        )
        return connection(result, Researcher.from_row)

    @strawberry.field(description="One paper: exactly one of id, arxivId and doi.")
    async def paper(
        self,
        info: strawberry.Info[Context],
        id: Annotated[strawberry.ID | None, _arg("Global ID.")] = None,
        arxiv_id: Annotated[str | None, _arg("The arXiv identifier, e.g. 2210.07229.")] = None,
        doi: Annotated[str | None, _arg("DOI, any case.")] = None,
    ) -> Paper | None:
        row = await papers.find_paper(info.context, id=id, arxiv_id=arxiv_id, doi=doi)
        return None if row is None else Paper.from_row(row)

    @strawberry.field(description="Papers, newest first; with a query, best match first.")
    async def papers(
        self,
        info: strawberry.Info[Context],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        query: Annotated[
            str | None,
            _arg(
                "Full-text search over titles and abstracts, best match first unless orderBy "
                "is given. English stop words (a, the, of, ...) are ignored: a search of "
                "stop words only finds nothing."
            ),
        ] = None,
        filter: Annotated[PaperFilter | None, _arg("Which papers.")] = None,
        order_by: Annotated[PaperOrder | None, _arg("Sort order.")] = None,
    ) -> Connection[Paper]:
        result = await papers.list_papers(
            info.context,
            page_args(first, after, last, before),
            query=query,
            spec=filter_spec(filter),
            order=paper_order(order_by),
        )
        return connection(result, Paper.from_row)

    @strawberry.field(description="The whole arXiv taxonomy, by code.")
    async def categories(self, info: strawberry.Info[Context]) -> list[Category]:
        return [Category.from_row(row) for row in await categories.all_categories(info.context)]

    @strawberry.field(description="One institution: exactly one of id and slug.")
    async def institution(
        self,
        info: strawberry.Info[Context],
        id: Annotated[strawberry.ID | None, _arg("Global ID.")] = None,
        slug: Annotated[str | None, _arg("Slug, e.g. mit.")] = None,
    ) -> Institution | None:
        row = await institutions.find_institution(info.context, id=id, slug=slug)
        return None if row is None else Institution.from_row(row)

    @strawberry.field(description="Aggregates over everything stored.")
    def corpus(self) -> CorpusStats:
        return CorpusStats()
