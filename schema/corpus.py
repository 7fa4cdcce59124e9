"""Aggregates over everything stored."""

from __future__ import annotations

import strawberry

from db.tables import AnyRow
from resolvers import corpus
from resolvers.context import Context
from schema.category import CategoryCount, YearCount, category_counts, year_counts


@strawberry.type(description="Aggregates over everything stored.")
class CorpusStats:
    @strawberry.field(description="Researchers stored.")
    async def researcher_count(self, info: strawberry.Info[Context]) -> int:
        return int((await _totals(info)).researcher_count)

    @strawberry.field(description="Papers stored.")
    async def paper_count(self, info: strawberry.Info[Context]) -> int:
        return int((await _totals(info)).paper_count)

    @strawberry.field(description="Sum of the known citation counts of all papers.")
    async def citation_count(self, info: strawberry.Info[Context]) -> int:
        return int((await _totals(info)).citation_count)

    @strawberry.field(description="Papers per publication year.")
    async def papers_by_year(self, info: strawberry.Info[Context]) -> list[YearCount]:
        return year_counts(await corpus.corpus_papers_by_year(info.context))

    @strawberry.field(description="Papers per primary category, most first.")
    async def categories(self, info: strawberry.Info[Context]) -> list[CategoryCount]:
        return category_counts(await corpus.corpus_categories(info.context))


async def _totals(info: strawberry.Info[Context]) -> AnyRow:
    return await corpus.corpus_totals(info.context)
