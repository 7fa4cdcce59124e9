"""Indicators computed on demand; the definitions live in resolvers.metrics."""

from __future__ import annotations

import strawberry

from resolvers import metrics
from resolvers.context import Context
from resolvers.indicators import Window, citations_by_year_of
from schema.category import CategoryCount, YearCount, category_counts, year_counts
from schema.paper import Paper


@strawberry.type(
    description="Bibliometric indicators over a researcher's stored papers. Papers whose "
    "citation count is unknown count as papers but add no citations."
)
class Metrics:
    researcher_id: strawberry.Private[int]
    window: strawberry.Private[Window]
    h_core_ids: strawberry.Private[tuple[int, ...]]
    paper_count: int = strawberry.field(description="Papers in the window.")
    papers_with_citation_count: int = strawberry.field(
        description="Papers whose citation count is known."
    )
    citation_count: int = strawberry.field(description="Sum of the known citation counts.")
    h_index: int = strawberry.field(
        description="Hirsch index: the largest h such that h papers have at least h citations each."
    )
    i10_index: int = strawberry.field(description="Papers with at least 10 citations.")
    i100_index: int = strawberry.field(description="Papers with at least 100 citations.")
    g_index: int = strawberry.field(
        description="The largest g (at most paperCount) such that the g most cited papers have "
        "at least g² citations together."
    )
    m_quotient: float | None = strawberry.field(
        description="h-index divided by the years since the first publication (that year counts "
        "as 1); null without dated papers."
    )
    mean_citations: float | None = strawberry.field(
        description="Mean citations over papers with a known count; null when none has one."
    )
    median_citations: float | None = strawberry.field(
        description="Median citations over papers with a known count; null when none has one."
    )
    first_year: int | None = strawberry.field(description="Year of the earliest dated paper.")
    last_year: int | None = strawberry.field(description="Year of the latest dated paper.")
    papers_with_code: int = strawberry.field(description="Papers whose authors released code.")
    papers_by_year: list[YearCount] = strawberry.field(description="Papers per publication year.")
    categories: list[CategoryCount] = strawberry.field(
        description="Papers per primary category, most first."
    )

    @strawberry.field(
        description="Citations received per calendar year, from per-year counts where known."
    )
    async def citations_by_year(self, info: strawberry.Info[Context]) -> list[YearCount]:
        pairs = await citations_by_year_of(info.context, self.researcher_id, self.window)
        return year_counts(pairs)

    @strawberry.field(description="The papers that make up the h-index, most cited first.")
    async def h_core(self, info: strawberry.Info[Context]) -> list[Paper]:
        rows = await info.context.loaders.papers_by_id.load_many(list(self.h_core_ids))
        return [Paper.from_row(row) for row in rows if row is not None]

    @classmethod
    def from_summary(cls, s: metrics.Summary, *, researcher_id: int, window: Window) -> Metrics:
        return cls(
            researcher_id=researcher_id,
            window=window,
            h_core_ids=s.h_core,
            paper_count=s.paper_count,
            papers_with_citation_count=s.papers_with_citation_count,
            citation_count=s.citation_count,
            h_index=s.h_index,
            i10_index=s.i10_index,
            i100_index=s.i100_index,
            g_index=s.g_index,
            m_quotient=s.m_quotient,
            mean_citations=s.mean_citations,
            median_citations=s.median_citations,
            first_year=s.first_year,
            last_year=s.last_year,
            papers_with_code=s.papers_with_code,
            papers_by_year=year_counts(s.papers_by_year),
            categories=category_counts(s.category_counts),
        )
