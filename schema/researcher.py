"""Researchers, their coauthors and what their profile's source reported."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from db.tables import AnyRow
from resolvers import papers, researchers
from resolvers.context import Context
from resolvers.indicators import Window
from resolvers.pages import PageResult
from schema.connection import (
    After,
    Before,
    Connection,
    First,
    Last,
    PageInfo,
    connection,
    page_args,
    page_info,
)
from schema.inputs import MetricsWindow, PaperFilter, PaperOrder, filter_spec, paper_order
from schema.metrics import Metrics
from schema.node import Node
from schema.paper import Paper

if TYPE_CHECKING:
    from schema.institution import Institution


@strawberry.type(
    description="What the source of an imported profile reported, kept beside what we compute."
)
class ReportedMetrics:
    source: str = strawberry.field(description="Where the figures come from.")
    captured_on: date | None = strawberry.field(
        description="When the source was captured; null when only the year is known."
    )
    captured_year: int | None = strawberry.field(description="The year the source was captured.")
    h_index: int | None = strawberry.field(description="The h-index the source reported.")
    citation_count: int | None = strawberry.field(description="The citations the source reported.")
    paper_count: int | None = strawberry.field(
        description="The paper count the source reported (it may list fewer)."
    )
    novelty: float | None = strawberry.field(description="0..1, from a percentage in the source.")
    ai_score: float | None = strawberry.field(description="The source's AI score, as printed.")
    i10_index: int | None = strawberry.field(
        description="Papers with at least 10 citations, as the source reported (OpenAlex)."
    )
    two_year_mean_citedness: float | None = strawberry.field(
        description="Citations received last year per work of the two years before, as the "
        "source reported (OpenAlex's 2yr_mean_citedness)."
    )

    @classmethod
    def from_row(cls, row: AnyRow) -> ReportedMetrics:
        return cls(
            source=row.source,
            captured_on=row.captured_on,
            captured_year=row.captured_year,
            h_index=row.h_index,
            citation_count=row.citation_count,
            paper_count=row.paper_count,
            novelty=row.novelty,
            ai_score=row.ai_score,
            i10_index=row.i10_index,
            two_year_mean_citedness=row.two_year_mean_citedness,
        )


@strawberry.type(description="A researcher: identity, papers, coauthors and indicators.")
class Researcher(Node):
    db_id: strawberry.Private[int]
    slug: str = strawberry.field(description="URL-safe unique handle made from the name.")
    name: str = strawberry.field(description="The name as first recorded.")
    orcid: str | None = strawberry.field(description="ORCID iD, e.g. 0000-0002-1825-0097.")
    openalex_id: str | None = strawberry.field(description="OpenAlex author id.")
    semantic_scholar_id: str | None = strawberry.field(description="Semantic Scholar author id.")
    homepage: str | None = strawberry.field(description="Personal or lab web page.")

    @strawberry.field(description="Other spellings of the name that match this researcher.")
    async def aliases(self, info: strawberry.Info[Context]) -> list[str]:
        return await info.context.loaders.aliases_by_researcher_id.load(self.db_id)

    @strawberry.field(
        description="Institutions a source names as this researcher's affiliation (on an "
        "authorship or on the researcher's record); an institution printed on a paper without "
        "saying whose it is does not count."
    )
    async def institutions(
        self, info: strawberry.Info[Context]
    ) -> list[Annotated[Institution, strawberry.lazy("schema.institution")]]:
        from schema.institution import Institution

        rows = await info.context.loaders.institutions_by_researcher_id.load(self.db_id)
        return [Institution.from_row(row) for row in rows]

    @strawberry.field(
        description="The researcher's papers, newest first unless orderBy says otherwise."
    )
    async def papers(
        self,
        info: strawberry.Info[Context],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: Annotated[
            PaperFilter | None, strawberry.argument(description="Which papers.")
        ] = None,
        order_by: Annotated[
            PaperOrder | None, strawberry.argument(description="Sort order.")
        ] = None,
    ) -> Connection[Paper]:
        result = await papers.papers_of_researcher(
            info.context,
            self.db_id,
            page_args(first, after, last, before),
            spec=filter_spec(filter),
            order=paper_order(order_by),
        )
        return connection(result, Paper.from_row)

    @strawberry.field(
        description="People who share papers with this researcher, most shared first, then by name."
    )
    async def coauthors(
        self,
        info: strawberry.Info[Context],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> CoauthorConnection:
        result = await researchers.coauthors_of(
            info.context, self.db_id, page_args(first, after, last, before)
        )
        return CoauthorConnection.from_result(result)

    @strawberry.field(
        description="Computed on demand from the stored papers and their citation counts."
    )
    async def metrics(
        self,
        info: strawberry.Info[Context],
        window: Annotated[
            MetricsWindow | None, strawberry.argument(description="Count only part of the record.")
        ] = None,
        as_of_year: Annotated[
            int | None,
            strawberry.argument(
                description="The year mQuotient counts to; default the current year."
            ),
        ] = None,
    ) -> Metrics:
        chosen = window.to_window() if window is not None else Window()
        year = as_of_year if as_of_year is not None else info.context.today.year
        selected = info.selected_fields[0].selections
        return Metrics.of(self.db_id, chosen, as_of_year=year, selected=selected)

    @strawberry.field(
        description="What the source of an imported profile reported, kept beside what we compute."
    )
    async def reported_metrics(self, info: strawberry.Info[Context]) -> ReportedMetrics | None:
        row = await info.context.loaders.reported_by_researcher_id.load(self.db_id)
        return None if row is None else ReportedMetrics.from_row(row)

    updated_at: datetime = strawberry.field(
        description="When this researcher's own record last changed (UTC); for caches to compare."
    )

    @classmethod
    def from_row(cls, row: AnyRow) -> Researcher:
        return cls(
            db_id=row.id,
            updated_at=row.updated_at,
            slug=row.slug,
            name=row.name,
            orcid=row.orcid,
            openalex_id=row.openalex_id,
            semantic_scholar_id=row.semantic_scholar_id,
            homepage=row.homepage,
        )


@strawberry.type(description="A coauthor, most shared papers first.")
class CoauthorEdge:
    cursor: str = strawberry.field(description="Opaque place of this coauthor in the list.")
    node: Researcher = strawberry.field(description="The coauthor.")
    shared_paper_count: int = strawberry.field(description="Papers both wrote.")
    first_year: int | None = strawberry.field(description="Year of the first shared paper.")
    last_year: int | None = strawberry.field(description="Year of the latest shared paper.")


@strawberry.type(description="A page of a researcher's coauthors.")
class CoauthorConnection:
    page_info: PageInfo = strawberry.field(description="How to fetch the pages around this one.")
    edges: list[CoauthorEdge] = strawberry.field(description="The coauthors with what they share.")
    result: strawberry.Private[PageResult]

    @strawberry.field(description="Coauthors in all, across all pages.")
    async def total_count(self) -> int:
        return await self.result.count_all()

    @strawberry.field(description="The coauthors alone.")
    def nodes(self) -> list[Researcher]:
        return [edge.node for edge in self.edges]

    @classmethod
    def from_result(cls, result: PageResult) -> CoauthorConnection:
        edges = [
            CoauthorEdge(
                cursor=cursor,
                node=Researcher.from_row(row),
                shared_paper_count=row.shared_paper_count,
                first_year=row.first_year,
                last_year=row.last_year,
            )
            for cursor, row in zip(result.cursors, result.page.rows, strict=True)
        ]
        return cls(page_info=page_info(result), edges=edges, result=result)


ResearcherConnection = Connection[Researcher]
