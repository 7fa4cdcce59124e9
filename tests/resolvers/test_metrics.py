"""The metrics engine, against literal implementations of its definitions."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resolvers.metrics import (
    Count,
    PaperFacts,
    Summary,
    category_counts,
    citation_count,
    citations_by_year,
    first_year,
    g_index,
    h_core,
    h_index,
    i10_index,
    i100_index,
    last_year,
    m_quotient,
    mean_citations,
    median_citations,
    paper_count,
    papers_by_year,
    papers_with_at_least,
    papers_with_citation_count,
    summarize,
)

# --- literal definitions -----------------------------------------------------


def known_of(counts: list[Count]) -> list[int]:
    return [c for c in counts if c is not None]


def literal_h(counts: list[Count]) -> int:
    known = known_of(counts)
    return max(h for h in range(len(counts) + 1) if sum(c >= h for c in known) >= h)


def literal_g(counts: list[Count]) -> int:
    as_zero = sorted((0 if c is None else c for c in counts), reverse=True)
    return max(g for g in range(len(counts) + 1) if sum(as_zero[:g]) >= g * g)


def literal_at_least(counts: list[Count], n: int) -> int:
    return len([c for c in known_of(counts) if c >= n])


def literal_median(counts: list[Count]) -> float | None:
    known = sorted(known_of(counts))
    if not known:
        return None
    half = len(known) // 2
    if len(known) % 2 == 1:
        return float(known[half])
    return (known[half - 1] + known[half]) / 2


def literal_h_core(papers: list[tuple[int, Count]]) -> list[int]:
    """Paper i outranks paper j when it has more citations, or as many and comes first."""
    h = literal_h([c for _, c in papers])

    def score(count: Count) -> int:
        return -1 if count is None else count

    def outranked_by(i: int) -> int:
        mine = score(papers[i][1])
        return sum(
            1
            for j, (_, theirs) in enumerate(papers)
            if score(theirs) > mine or (score(theirs) == mine and j < i)
        )

    # The paper outranked by exactly r others sits at position r.
    by_position = {outranked_by(i): key for i, (key, _) in enumerate(papers)}
    return [by_position[r] for r in range(h)]


# --- strategies --------------------------------------------------------------

counts_st = st.lists(
    st.one_of(
        st.none(),
        st.just(0),
        st.integers(min_value=0, max_value=30),
        st.integers(min_value=0, max_value=200),
        st.integers(min_value=10**9, max_value=10**15),
    ),
    max_size=60,
)
years_st = st.lists(st.one_of(st.none(), st.integers(1950, 2030)), max_size=60)
codes_st = st.lists(st.one_of(st.none(), st.sampled_from(["cs.LG", "cs.AI", "math.ST", "q-bio"])))
papers_st = st.lists(
    st.builds(
        PaperFacts,
        key=st.integers(0, 10**6),
        year=st.one_of(st.none(), st.integers(1990, 2030)),
        citation_count=st.one_of(st.none(), st.integers(0, 40), st.integers(0, 10**12)),
        category=st.one_of(st.none(), st.sampled_from(["cs.LG", "cs.AI", "stat.ML"])),
        has_code=st.booleans(),
    ),
    max_size=40,
    unique_by=lambda p: p.key,
)


def keyed(counts: list[Count]) -> list[tuple[int, Count]]:
    """Distinct keys that do not follow the count order."""
    return [(1000 - i, c) for i, c in enumerate(counts)]


# --- properties against the definitions --------------------------------------


@given(counts_st)
def test_paper_count_counts_every_paper_known_or_not(counts: list[Count]) -> None:
    assert paper_count(counts) == len(counts)
    assert paper_count(iter(counts)) == len(counts)


@given(counts_st)
def test_citation_totals_cover_only_known_counts(counts: list[Count]) -> None:
    assert papers_with_citation_count(counts) == sum(c is not None for c in counts)
    assert citation_count(counts) == sum(c for c in counts if c is not None)


@given(counts_st)
def test_h_index_matches_its_definition(counts: list[Count]) -> None:
    assert h_index(counts) == literal_h(counts)


@given(counts_st)
def test_g_index_matches_its_definition(counts: list[Count]) -> None:
    assert g_index(counts) == literal_g(counts)


@given(counts_st, st.integers(min_value=0, max_value=250))
def test_papers_with_at_least_matches_its_definition(counts: list[Count], n: int) -> None:
    assert papers_with_at_least(counts, n) == literal_at_least(counts, n)
    assert i10_index(counts) == literal_at_least(counts, 10)
    assert i100_index(counts) == literal_at_least(counts, 100)


@given(counts_st)
def test_mean_and_median_match_their_definitions(counts: list[Count]) -> None:
    known = known_of(counts)
    assert mean_citations(counts) == (sum(known) / len(known) if known else None)
    assert median_citations(counts) == literal_median(counts)


@given(counts_st)
def test_h_core_matches_its_definition(counts: list[Count]) -> None:
    assert h_core(keyed(counts)) == literal_h_core(keyed(counts))


@given(counts_st)
def test_h_core_papers_each_have_at_least_h_and_outrank_the_rest(counts: list[Count]) -> None:
    papers = keyed(counts)
    core = h_core(papers)
    h = h_index(counts)
    assert len(core) == h
    core_counts = [c for k, c in papers if k in core]
    rest_counts = [0 if c is None else c for k, c in papers if k not in core]
    assert all(c is not None and c >= h for c in core_counts)
    if core_counts and rest_counts:
        assert min(c for c in core_counts if c is not None) >= max(rest_counts)


@given(counts_st)
def test_h_at_most_g_at_most_paper_count(counts: list[Count]) -> None:
    assert h_index(counts) <= g_index(counts) <= paper_count(counts)


@given(counts_st)
def test_h_at_most_i10_once_h_reaches_10(counts: list[Count]) -> None:
    h = h_index(counts)
    if h >= 10:
        assert h <= i10_index(counts)
    if h >= 100:
        assert h <= i100_index(counts)


@given(
    st.integers(min_value=0, max_value=500),
    st.integers(min_value=1900, max_value=2100),
    st.integers(min_value=1900, max_value=2100),
)
def test_m_quotient_divides_h_by_the_career_span_of_at_least_one_year(
    h: int, start: int, as_of: int
) -> None:
    span = as_of - start + 1 if as_of >= start else 1
    assert m_quotient(h, start, as_of) == h / span
    assert m_quotient(h, None, as_of) is None


@given(years_st)
def test_papers_by_year_tallies_known_years_in_order(years: list[int | None]) -> None:
    known = [y for y in years if y is not None]
    assert papers_by_year(years) == [(y, known.count(y)) for y in sorted(set(known))]


@given(years_st)
def test_first_and_last_year_are_the_extremes_of_known_years(years: list[int | None]) -> None:
    known = [y for y in years if y is not None]
    assert first_year(years) == (min(known) if known else None)
    assert last_year(years) == (max(known) if known else None)


@given(st.lists(st.tuples(st.integers(2000, 2010), st.integers(0, 10**6)), max_size=50))
def test_citations_by_year_sums_each_year_in_order(pairs: list[tuple[int, int]]) -> None:
    years = sorted({y for y, _ in pairs})
    assert citations_by_year(pairs) == [(y, sum(c for yy, c in pairs if yy == y)) for y in years]


@given(codes_st)
def test_category_counts_most_papers_first_then_by_code(codes: list[str | None]) -> None:
    known = [c for c in codes if c is not None]
    expected = sorted({(c, known.count(c)) for c in known}, key=lambda cc: (-cc[1], cc[0]))
    assert category_counts(codes) == expected


@given(papers_st, st.integers(min_value=1980, max_value=2040))
def test_summarize_agrees_with_the_single_metric_functions(
    papers: list[PaperFacts], as_of: int
) -> None:
    counts = [p.citation_count for p in papers]
    years = [p.year for p in papers]
    h = literal_h(counts)
    summary = summarize(papers, as_of_year=as_of)
    assert summary == Summary(
        paper_count=len(papers),
        papers_with_citation_count=len(known_of(counts)),
        citation_count=sum(known_of(counts)),
        h_index=h,
        i10_index=literal_at_least(counts, 10),
        i100_index=literal_at_least(counts, 100),
        g_index=literal_g(counts),
        m_quotient=m_quotient(h, first_year(years), as_of),
        mean_citations=mean_citations(counts),
        median_citations=literal_median(counts),
        h_core=tuple(literal_h_core([(p.key, p.citation_count) for p in papers])),
        first_year=first_year(years),
        last_year=last_year(years),
        papers_with_code=sum(p.has_code for p in papers),
        papers_by_year=tuple(papers_by_year(years)),
        category_counts=tuple(category_counts(p.category for p in papers)),
    )


# --- hand cases ----------------------------------------------------------------


def test_no_papers_gives_zeros_and_no_averages() -> None:
    assert paper_count([]) == 0
    assert citation_count([]) == 0
    assert h_index([]) == 0
    assert g_index([]) == 0
    assert i10_index([]) == 0
    assert mean_citations([]) is None
    assert median_citations([]) is None
    assert h_core([]) == []
    assert first_year([]) is None
    assert last_year([]) is None
    assert papers_by_year([]) == []
    assert category_counts([]) == []
    assert citations_by_year([]) == []


def test_no_papers_summary() -> None:
    assert summarize([], as_of_year=2025) == Summary(
        paper_count=0,
        papers_with_citation_count=0,
        citation_count=0,
        h_index=0,
        i10_index=0,
        i100_index=0,
        g_index=0,
        m_quotient=None,
        mean_citations=None,
        median_citations=None,
        h_core=(),
        first_year=None,
        last_year=None,
        papers_with_code=0,
        papers_by_year=(),
        category_counts=(),
    )


def test_all_zero_counts_give_zero_indices_and_zero_averages() -> None:
    counts: list[Count] = [0, 0, 0]
    assert (h_index(counts), g_index(counts), i10_index(counts)) == (0, 0, 0)
    assert mean_citations(counts) == 0.0
    assert median_citations(counts) == 0.0
    assert h_core([(1, 0), (2, 0)]) == []


def test_unknown_counts_count_as_papers_but_add_no_citations() -> None:
    counts: list[Count] = [None, 5, None]
    assert paper_count(counts) == 3
    assert papers_with_citation_count(counts) == 1
    assert citation_count(counts) == 5
    assert mean_citations(counts) == 5.0
    assert median_citations(counts) == 5.0
    # The unknown papers still lift the g cap: 5 >= 2**2 but 5 < 3**2.
    assert g_index(counts) == 2
    assert g_index([5]) == 1


def test_all_unknown_counts_give_zero_indices_and_no_averages() -> None:
    counts: list[Count] = [None, None]
    assert paper_count(counts) == 2
    assert papers_with_citation_count(counts) == 0
    assert citation_count(counts) == 0
    assert (h_index(counts), g_index(counts)) == (0, 0)
    assert mean_citations(counts) is None
    assert median_citations(counts) is None


@pytest.mark.parametrize(
    ("counts", "h"),
    [
        ([3, 3, 3], 3),
        ([4, 4, 4, 4, 1], 4),
        ([3, 3, 3, 3], 3),
        ([10, 8, 5, 4, 3], 4),
        ([25, 8, 5, 3, 3], 3),
        ([1], 1),
        ([0], 0),
    ],
)
def test_h_index_at_and_around_the_threshold(counts: list[Count], h: int) -> None:
    assert h_index(counts) == h


def test_one_paper_with_a_huge_count_caps_g_at_one() -> None:
    assert g_index([10**30]) == 1
    assert h_index([10**30]) == 1
    assert i100_index([10**30]) == 1


def test_g_reaches_the_paper_count_cap() -> None:
    assert g_index([100, 100, 100]) == 3


def test_g_index_counts_citations_beyond_h() -> None:
    # Top 4 sum to 16 = 4**2, top 5 sum to 17 < 25.
    assert g_index([10, 3, 2, 1, 1]) == 4
    assert h_index([10, 3, 2, 1, 1]) == 2


def test_median_of_odd_and_even_numbers_of_known_counts() -> None:
    assert median_citations([7, 1, 3]) == 3.0
    assert median_citations([7, 1, 3, 4]) == 3.5
    assert median_citations([None, 2, 4, None]) == 3.0


def test_mean_over_known_counts_only() -> None:
    assert mean_citations([1, 2, None, 6]) == 3.0


def test_i10_and_i100_count_papers_reaching_the_threshold() -> None:
    counts: list[Count] = [9, 10, 99, 100, 101, None]
    assert i10_index(counts) == 4
    assert i100_index(counts) == 2
    assert papers_with_at_least(counts, 0) == 5


def test_m_quotient_over_a_ten_year_career() -> None:
    assert m_quotient(10, 2016, 2025) == 1.0


def test_m_quotient_in_the_first_year_is_h() -> None:
    assert m_quotient(3, 2025, 2025) == 3.0


def test_m_quotient_with_first_year_after_as_of_year_uses_a_one_year_span() -> None:
    assert m_quotient(4, 2030, 2025) == 4.0


def test_m_quotient_without_a_first_year_is_none() -> None:
    assert m_quotient(5, None, 2025) is None


def test_h_core_lists_the_most_cited_first() -> None:
    assert h_core([("a", 1), ("b", 50), ("c", 7), ("d", None), ("e", 3)]) == ["b", "c", "e"]


def test_h_core_breaks_ties_by_given_order() -> None:
    assert h_core([("a", 5), ("b", 9), ("c", 5), ("d", 5)]) == ["b", "a", "c", "d"]
    # Four papers reach 3 citations but h is 3: the first three given win.
    assert h_core([("w", 3), ("x", 3), ("y", 3), ("z", 3)]) == ["w", "x", "y"]


def test_papers_by_year_skips_unknown_years() -> None:
    assert papers_by_year([2020, None, 2018, 2020]) == [(2018, 1), (2020, 2)]


def test_citations_by_year_sums_rows_of_the_same_year() -> None:
    assert citations_by_year([(2021, 4), (2019, 1), (2021, 6)]) == [(2019, 1), (2021, 10)]


def test_category_counts_sort_ties_by_code() -> None:
    codes = ["cs.LG", None, "cs.AI", "math.ST", "cs.LG", "cs.AI", "cs.CL"]
    assert category_counts(codes) == [("cs.AI", 2), ("cs.LG", 2), ("cs.CL", 1), ("math.ST", 1)]


def test_negative_counts_are_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        h_index([3, -1])
    with pytest.raises(ValueError, match="negative"):
        summarize([PaperFacts(1, 2020, -2, None, False)], as_of_year=2025)


def test_summarize_one_researcher() -> None:
    papers = [
        PaperFacts(key=1, year=2016, citation_count=120, category="cs.LG", has_code=True),
        PaperFacts(key=2, year=2018, citation_count=15, category="cs.LG", has_code=False),
        PaperFacts(key=3, year=2018, citation_count=None, category="stat.ML", has_code=True),
        PaperFacts(key=4, year=None, citation_count=2, category=None, has_code=False),
        PaperFacts(key=5, year=2024, citation_count=15, category="cs.AI", has_code=False),
    ]
    assert summarize(papers, as_of_year=2025) == Summary(
        paper_count=5,
        papers_with_citation_count=4,
        citation_count=152,
        h_index=3,
        i10_index=3,
        i100_index=1,
        g_index=5,
        m_quotient=0.3,
        mean_citations=38.0,
        median_citations=15.0,
        h_core=(1, 2, 5),
        first_year=2016,
        last_year=2024,
        papers_with_code=2,
        papers_by_year=((2016, 1), (2018, 2), (2024, 1)),
        category_counts=(("cs.LG", 2), ("cs.AI", 1), ("stat.ML", 1)),
    )


def test_summary_and_paper_facts_are_frozen() -> None:
    facts = PaperFacts(key=1, year=None, citation_count=None, category=None, has_code=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.key = 2  # type: ignore[misc]
    summary = summarize([facts], as_of_year=2025)
    with pytest.raises(dataclasses.FrozenInstanceError):
        summary.h_index = 9  # type: ignore[misc]


def test_summarize_handles_thousands_of_papers() -> None:
    papers = [
        PaperFacts(key=i, year=2000 + i % 25, citation_count=i % 997, category=None, has_code=False)
        for i in range(20_000)
    ]
    summary = summarize(papers, as_of_year=2025)
    counts: list[Count] = [p.citation_count for p in papers]
    assert summary.h_index == h_index(counts)
    assert summary.g_index == g_index(counts)
    assert len(summary.h_core) == summary.h_index
