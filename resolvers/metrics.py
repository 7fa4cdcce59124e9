"""Bibliometric indicators, computed from plain citation counts.

Pure functions: standard library only, no I/O, nothing from the rest of the
project. The API layer gathers each researcher's papers into `PaperFacts` and
calls `summarize` once.

A citation count is ``int | None``. ``None`` means the count is unknown: the
paper still counts as a paper, but it adds no citations. Known counts must be
non-negative; a negative count raises ``ValueError``.

Definitions, for a researcher with ``n`` papers:

- paper_count: ``n``, whether or not the counts are known.
- papers_with_citation_count: the number of papers whose count is known.
- citation_count: the sum of the known counts.
- h_index: the largest ``h`` such that ``h`` papers have at least ``h``
  citations each.
- papers_with_at_least(counts, k): the number of papers with at least ``k``
  citations; i10_index and i100_index are ``k = 10`` and ``k = 100``.
- g_index: the largest ``g <= n`` such that the ``g`` most cited papers have
  at least ``g**2`` citations together. Unknown counts count as 0 here, but
  still count as papers for the cap ``n``.
- m_quotient: ``h / (as_of_year - first_year + 1)``; ``None`` when the first
  year is unknown. When ``as_of_year < first_year`` (bad clock or bad data)
  the span is taken as 1 year, so the quotient is ``h``.
- mean_citations / median_citations: over the papers with a known count;
  ``None`` when no paper has one. The median of an even number of counts is
  the mean of the two middle ones.
- h_core: the keys of the ``h`` papers that make up the h-index, most cited
  first. Papers with equal counts keep the order they were given in, which
  also decides which of them are in the core when more than ``h`` papers have
  at least ``h`` citations (e.g. four papers with 3 citations: h is 3 and the
  core is the first three given).
- papers_by_year: ``(year, papers)`` pairs sorted by year; unknown years are
  skipped.
- citations_by_year: ``(year, citations)`` pairs, the counts of
  ``(year, count)`` rows summed per year, sorted by year.
- category_counts: ``(code, papers)`` pairs, most papers first, then by code;
  unknown codes are skipped.
- first_year / last_year: the earliest / latest known year, ``None`` if none.

Every function that needs an ordering sorts once, so each is O(n log n);
`summarize` sorts the papers once and derives everything else in linear
passes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

__all__ = [
    "Count",
    "PaperFacts",
    "Summary",
    "category_counts",
    "citation_count",
    "citations_by_year",
    "first_year",
    "g_index",
    "h_core",
    "h_index",
    "i10_index",
    "i100_index",
    "last_year",
    "m_quotient",
    "mean_citations",
    "median_citations",
    "paper_count",
    "papers_by_year",
    "papers_with_at_least",
    "papers_with_citation_count",
    "summarize",
]

Count = int | None
"""A citation count; ``None`` when unknown."""

K = TypeVar("K")


# --- helpers over counts already sorted most cited first ---------------------


def _checked(count: Count) -> Count:
    if count is not None and count < 0:
        raise ValueError(f"citation counts cannot be negative, got {count}")
    return count


def _known(counts: Iterable[Count]) -> list[int]:
    return [c for c in map(_checked, counts) if c is not None]


def _rank(count: Count) -> int:
    """Sort key putting the most cited first and unknown counts last."""
    return 1 if count is None else -count


def _h_of_descending(desc: Sequence[int]) -> int:
    h = 0
    for rank, count in enumerate(desc, start=1):
        if count < rank:
            break
        h = rank
    return h


def _g_of_descending(desc: Sequence[int], papers: int) -> int:
    # Papers past the known counts add 0 citations but still raise the cap.
    total = 0
    g = 0
    for rank in range(1, papers + 1):
        if rank <= len(desc):
            total += desc[rank - 1]
        if total >= rank * rank:
            g = rank
    return g


def _median_of_descending(desc: Sequence[int]) -> float | None:
    if not desc:
        return None
    middle = len(desc) // 2
    if len(desc) % 2:
        return float(desc[middle])
    return (desc[middle - 1] + desc[middle]) / 2


def _mean(known: Sequence[int]) -> float | None:
    return sum(known) / len(known) if known else None


# --- counts ------------------------------------------------------------------


def paper_count(counts: Iterable[Count]) -> int:
    """The number of papers, known count or not."""
    return sum(1 for _ in map(_checked, counts))


def papers_with_citation_count(counts: Iterable[Count]) -> int:
    """The number of papers whose citation count is known."""
    return len(_known(counts))


def citation_count(counts: Iterable[Count]) -> int:
    """The sum of the known citation counts."""
    return sum(_known(counts))


def papers_with_at_least(counts: Iterable[Count], threshold: int) -> int:
    """The number of papers with at least `threshold` citations."""
    return sum(1 for c in _known(counts) if c >= threshold)


def i10_index(counts: Iterable[Count]) -> int:
    """The number of papers with at least 10 citations."""
    return papers_with_at_least(counts, 10)


def i100_index(counts: Iterable[Count]) -> int:
    """The number of papers with at least 100 citations."""
    return papers_with_at_least(counts, 100)


def h_index(counts: Iterable[Count]) -> int:
    """The largest h such that h papers have at least h citations each."""
    return _h_of_descending(sorted(_known(counts), reverse=True))


def g_index(counts: Iterable[Count]) -> int:
    """The largest g <= paper count whose g most cited papers have >= g**2 citations."""
    materialized = list(counts)
    return _g_of_descending(sorted(_known(materialized), reverse=True), len(materialized))


def m_quotient(h: int, first_year: int | None, as_of_year: int) -> float | None:
    """h per year since the first paper; a span below one year counts as one."""
    if first_year is None:
        return None
    return h / max(as_of_year - first_year + 1, 1)


def mean_citations(counts: Iterable[Count]) -> float | None:
    """The mean of the known counts, or None when none is known."""
    return _mean(_known(counts))


def median_citations(counts: Iterable[Count]) -> float | None:
    """The median of the known counts, or None when none is known."""
    return _median_of_descending(sorted(_known(counts), reverse=True))


def h_core(papers: Iterable[tuple[K, Count]]) -> list[K]:
    """The keys of the h papers making up the h-index, most cited first.

    Equal counts keep the order given (the sort is stable), which also picks
    the core when more than h papers reach h citations.
    """
    ranked = sorted(papers, key=lambda paper: _rank(_checked(paper[1])))
    desc = [count for _, count in ranked if count is not None]
    return [key for key, _ in ranked[: _h_of_descending(desc)]]


# --- years and categories ----------------------------------------------------


def papers_by_year(years: Iterable[int | None]) -> list[tuple[int, int]]:
    """``(year, papers)`` sorted by year, skipping unknown years."""
    return sorted(Counter(y for y in years if y is not None).items())


def citations_by_year(pairs: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """``(year, citations)`` sorted by year, summing the counts of each year."""
    totals: Counter[int] = Counter()
    for year, count in pairs:
        totals[year] += count
    return sorted(totals.items())


def category_counts(codes: Iterable[str | None]) -> list[tuple[str, int]]:
    """``(code, papers)``, most papers first then by code, skipping unknown codes."""
    tally = Counter(code for code in codes if code is not None)
    return sorted(tally.items(), key=lambda item: (-item[1], item[0]))


def first_year(years: Iterable[int | None]) -> int | None:
    """The earliest known year, or None."""
    return min((y for y in years if y is not None), default=None)


def last_year(years: Iterable[int | None]) -> int | None:
    """The latest known year, or None."""
    return max((y for y in years if y is not None), default=None)


# --- one researcher at once --------------------------------------------------


@dataclass(frozen=True, slots=True)
class PaperFacts:
    """What the metrics need to know about one paper."""

    key: int
    year: int | None
    citation_count: int | None
    category: str | None
    has_code: bool


@dataclass(frozen=True, slots=True)
class Summary:
    """Every indicator for one researcher; see the module docstring."""

    paper_count: int
    papers_with_citation_count: int
    citation_count: int
    h_index: int
    i10_index: int
    i100_index: int
    g_index: int
    m_quotient: float | None
    mean_citations: float | None
    median_citations: float | None
    h_core: tuple[int, ...]
    first_year: int | None
    last_year: int | None
    papers_with_code: int
    papers_by_year: tuple[tuple[int, int], ...]
    category_counts: tuple[tuple[str, int], ...]


def summarize(papers: Sequence[PaperFacts], *, as_of_year: int) -> Summary:
    """All indicators for one researcher's papers, sorting them once."""
    ranked = sorted(papers, key=lambda paper: _rank(_checked(paper.citation_count)))
    desc = [p.citation_count for p in ranked if p.citation_count is not None]
    h = _h_of_descending(desc)
    years = [p.year for p in papers]
    start = first_year(years)
    return Summary(
        paper_count=len(papers),
        papers_with_citation_count=len(desc),
        citation_count=sum(desc),
        h_index=h,
        i10_index=papers_with_at_least(desc, 10),
        i100_index=papers_with_at_least(desc, 100),
        g_index=_g_of_descending(desc, len(papers)),
        m_quotient=m_quotient(h, start, as_of_year),
        mean_citations=_mean(desc),
        median_citations=_median_of_descending(desc),
        h_core=tuple(p.key for p in ranked[:h]),
        first_year=start,
        last_year=last_year(years),
        papers_with_code=sum(1 for p in papers if p.has_code),
        papers_by_year=tuple(papers_by_year(years)),
        category_counts=tuple(category_counts(p.category for p in papers)),
    )
