"""What the Metrics fields do: a researcher's papers, cut to a window, through the engine."""

from __future__ import annotations

from dataclasses import dataclass

from db.tables import AnyRow
from resolvers import metrics
from resolvers.context import Context


@dataclass(frozen=True, slots=True)
class Window:
    """Which papers and which citations count; None means no limit."""

    published_from: int | None = None
    published_to: int | None = None
    cited_from: int | None = None
    categories: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Indicators:
    summary: metrics.Summary
    citations_by_year: list[tuple[int, int]]


async def indicators_of(
    context: Context, researcher_id: int, window: Window, *, as_of_year: int
) -> Indicators:
    loaders = context.loaders
    facts = [
        row
        for row in await loaders.paper_facts_by_researcher_id.load(researcher_id)
        if _inside(row, window)
    ]
    kept = {row.paper_id for row in facts}
    years = [
        (paper_id, year, count)
        for paper_id, year, count in await loaders.citation_years_by_researcher_id.load(
            researcher_id
        )
        if paper_id in kept and (window.cited_from is None or year >= window.cited_from)
    ]
    received: dict[int, int] | None = None
    if window.cited_from is not None:
        received = {}
        for paper_id, _, count in years:
            received[paper_id] = received.get(paper_id, 0) + count
    papers = [_facts(row, received) for row in facts]
    summary = metrics.summarize(papers, as_of_year=as_of_year)
    by_year = metrics.citations_by_year((year, count) for _, year, count in years)
    return Indicators(summary=summary, citations_by_year=by_year)


def _inside(row: AnyRow, window: Window) -> bool:
    if window.published_from is not None and (row.year is None or row.year < window.published_from):
        return False
    if window.published_to is not None and (row.year is None or row.year > window.published_to):
        return False
    return window.categories is None or row.primary_category in window.categories


def _facts(row: AnyRow, received: dict[int, int] | None) -> metrics.PaperFacts:
    """A paper's facts; with a citedFrom window its count is what it received since then.

    Only per-year counts can say what came after a year: a paper without
    them has an unknown count in such a window.
    """
    count = row.citation_count if received is None else received.get(row.paper_id)
    return metrics.PaperFacts(
        key=row.paper_id,
        year=row.year,
        citation_count=count,
        category=row.primary_category,
        has_code=row.has_code,
    )
