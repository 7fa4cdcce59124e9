"""What the CorpusStats fields do."""

from __future__ import annotations

from db.queries import metrics
from db.reads import ALL_PAPERS, note_list
from db.tables import AnyRow
from resolvers.context import Context


async def corpus_totals(context: Context) -> AnyRow:
    """researcher_count, paper_count and citation_count: one statement however many are asked."""
    return await context.loaders.corpus_totals.load(None)


async def corpus_papers_by_year(context: Context) -> list[tuple[int, int]]:
    note_list(ALL_PAPERS)
    return await context.read(metrics.corpus_papers_by_year)


async def corpus_categories(context: Context) -> list[tuple[str, int]]:
    note_list(ALL_PAPERS)
    return await context.read(metrics.corpus_primary_categories)
