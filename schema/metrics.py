"""Indicators computed on demand; the definitions live in resolvers.metrics."""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry
from strawberry.types.nodes import SelectedField

from resolvers import metrics
from resolvers.context import Context
from resolvers.indicators import Window, citations_by_year_of, summary_of
from schema.category import CategoryCount, YearCount, category_counts, year_counts
from schema.paper import Paper

# What researcher_indicators keeps, by GraphQL name; mQuotient and the rest need the papers.
KEPT_FIELDS = frozenset({"paperCount", "citationCount", "hIndex", "__typename"})


@strawberry.type(
    description="Bibliometric indicators over a researcher's stored papers. Papers whose "
    "citation count is unknown count as papers but add no citations."
)
class Metrics:
    """Resolved lazily. When a query asks only for paper count, citations and h-index of a
    whole record (a leaderboard), they come from the kept leaderboard figures and no
    paper is read; otherwise the engine runs once over the papers for every field."""

    researcher_id: strawberry.Private[int]
    window: strawberry.Private[Window]
    as_of_year: strawberry.Private[int]
    use_kept_figures: strawberry.Private[bool]
    computed: strawberry.Private[dict[str, asyncio.Task[metrics.Summary]]]

    async def _summary(self, info: strawberry.Info[Context]) -> metrics.Summary:
        # Fields resolve concurrently; the first to ask starts the one computation.
        if "summary" not in self.computed:
            self.computed["summary"] = asyncio.ensure_future(
                summary_of(
                    info.context, self.researcher_id, self.window, as_of_year=self.as_of_year
                )
            )
        return await self.computed["summary"]

    async def _kept(self, info: strawberry.Info[Context], name: str) -> int:
        """A figure researcher_indicators keeps, when the whole record is asked for."""
        if self.use_kept_figures:
            row = await info.context.loaders.indicators_by_researcher_id.load(self.researcher_id)
            if row is not None:
                return int(getattr(row, name))
        return int(getattr(await self._summary(info), name))

    @strawberry.field(description="Papers in the window.")
    async def paper_count(self, info: strawberry.Info[Context]) -> int:
        return await self._kept(info, "paper_count")

    @strawberry.field(description="Sum of the known citation counts.")
    async def citation_count(self, info: strawberry.Info[Context]) -> int:
        return await self._kept(info, "citation_count")

    @strawberry.field(
        description="Hirsch index: the largest h such that h papers have at least h citations each."
    )
    async def h_index(self, info: strawberry.Info[Context]) -> int:
        return await self._kept(info, "h_index")

    @strawberry.field(description="Papers whose citation count is known.")
    async def papers_with_citation_count(self, info: strawberry.Info[Context]) -> int:
        return (await self._summary(info)).papers_with_citation_count

    @strawberry.field(description="Papers with at least 10 citations.")
    async def i10_index(self, info: strawberry.Info[Context]) -> int:
        return (await self._summary(info)).i10_index

    @strawberry.field(description="Papers with at least 100 citations.")
    async def i100_index(self, info: strawberry.Info[Context]) -> int:
        return (await self._summary(info)).i100_index

    @strawberry.field(
        description="The largest g (at most paperCount) such that the g most cited papers have "
        "at least g² citations together."
    )
    async def g_index(self, info: strawberry.Info[Context]) -> int:
        return (await self._summary(info)).g_index

    @strawberry.field(
        description="The m-quotient: hIndex divided by the years from the first publication "
        "to asOfYear, both counted (a first paper this year divides by 1); null without dated "
        "papers."
    )
    async def m_quotient(self, info: strawberry.Info[Context]) -> float | None:
        return (await self._summary(info)).m_quotient

    @strawberry.field(
        description="Mean citations over papers with a known count; null when none has one."
    )
    async def mean_citations(self, info: strawberry.Info[Context]) -> float | None:
        return (await self._summary(info)).mean_citations

    @strawberry.field(
        description="Median citations over papers with a known count; null when none has one."
    )
    async def median_citations(self, info: strawberry.Info[Context]) -> float | None:
        return (await self._summary(info)).median_citations

    @strawberry.field(description="Year of the earliest dated paper.")
    async def first_year(self, info: strawberry.Info[Context]) -> int | None:
        return (await self._summary(info)).first_year

    @strawberry.field(description="Year of the latest dated paper.")
    async def last_year(self, info: strawberry.Info[Context]) -> int | None:
        return (await self._summary(info)).last_year

    @strawberry.field(description="Papers whose authors released code.")
    async def papers_with_code(self, info: strawberry.Info[Context]) -> int:
        return (await self._summary(info)).papers_with_code

    @strawberry.field(description="Papers per publication year.")
    async def papers_by_year(self, info: strawberry.Info[Context]) -> list[YearCount]:
        return year_counts((await self._summary(info)).papers_by_year)

    @strawberry.field(description="Papers per primary category, most first.")
    async def categories(self, info: strawberry.Info[Context]) -> list[CategoryCount]:
        return category_counts((await self._summary(info)).category_counts)

    @strawberry.field(
        description="Citations received per calendar year, from per-year counts where known."
    )
    async def citations_by_year(self, info: strawberry.Info[Context]) -> list[YearCount]:
        pairs = await citations_by_year_of(info.context, self.researcher_id, self.window)
        return year_counts(pairs)

    @strawberry.field(description="The papers that make up the h-index, most cited first.")
    async def h_core(self, info: strawberry.Info[Context]) -> list[Paper]:
        keys = list((await self._summary(info)).h_core)
        rows = await info.context.loaders.papers_by_id.load_many(keys)
        return [Paper.from_row(row) for row in rows if row is not None]

    @classmethod
    def of(
        cls, researcher_id: int, window: Window, *, as_of_year: int, selected: list[Any]
    ) -> Metrics:
        """Metrics of a researcher; `selected` is what the query asks of them."""
        only_kept = all(
            isinstance(field, SelectedField) and field.name in KEPT_FIELDS for field in selected
        )
        return cls(
            researcher_id=researcher_id,
            window=window,
            as_of_year=as_of_year,
            use_kept_figures=only_kept and window == Window(),
            computed={},
        )
