"""What the Metrics fields do: a researcher's papers, cut to a window, through the engine."""

from __future__ import annotations

from dataclasses import dataclass, replace

from resolvers import metrics
from resolvers.context import Context


@dataclass(frozen=True, slots=True)
class Window:
    """Which papers and which citations count; None means no limit."""

    published_from: int | None = None
    published_to: int | None = None
    cited_from: int | None = None
    categories: tuple[str, ...] | None = None


async def summary_of(
    context: Context, researcher_id: int, window: Window, *, as_of_year: int
) -> metrics.Summary:
    """Every indicator of the engine over the researcher's papers in the window."""
    facts = await _facts_in(context, researcher_id, window)
    received: dict[int, int] | None = None
    if window.cited_from is not None:
        received = {}
        kept = {paper.key for paper in facts}
        for paper_id, _, count in await _years_in(context, researcher_id, window, kept):
            received[paper_id] = received.get(paper_id, 0) + count
        facts = [_received_since(paper, received) for paper in facts]
    return metrics.summarize(facts, as_of_year=as_of_year)


async def citations_by_year_of(
    context: Context, researcher_id: int, window: Window
) -> list[tuple[int, int]]:
    """Citations per year received by the researcher's papers in the window.

    Loaded only when asked for: per-year rows outnumber papers several times.
    """
    kept = {paper.key for paper in await _facts_in(context, researcher_id, window)}
    years = await _years_in(context, researcher_id, window, kept)
    return metrics.citations_by_year((year, count) for _, year, count in years)


async def _facts_in(
    context: Context, researcher_id: int, window: Window
) -> list[metrics.PaperFacts]:
    papers = await context.loaders.paper_facts_by_researcher_id.load(researcher_id)
    if window == Window():
        return papers
    return [paper for paper in papers if _inside(paper, window)]


async def _years_in(
    context: Context, researcher_id: int, window: Window, kept: set[int]
) -> list[tuple[int, int, int]]:
    rows = await context.loaders.citation_years_by_researcher_id.load(researcher_id)
    since = window.cited_from
    return [row for row in rows if row[0] in kept and (since is None or row[1] >= since)]


def _inside(paper: metrics.PaperFacts, window: Window) -> bool:
    year = paper.year
    if window.published_from is not None and (year is None or year < window.published_from):
        return False
    if window.published_to is not None and (year is None or year > window.published_to):
        return False
    return window.categories is None or paper.category in window.categories


def _received_since(paper: metrics.PaperFacts, received: dict[int, int]) -> metrics.PaperFacts:
    """A paper's facts with the count it received in a citedFrom window.

    Only per-year counts can say what came after a year: a paper without
    them has an unknown count in such a window.
    """
    return replace(paper, citation_count=received.get(paper.key))
