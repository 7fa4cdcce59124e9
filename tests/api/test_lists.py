"""Search, filters and orders over papers and researchers."""

from __future__ import annotations

from datetime import date

import pytest

from db.names import name_key
from tests.api.conftest import GraphQLClient
from tests.api.factories import add_researcher_with_papers

PAPERS = """
query($query: String, $filter: PaperFilter, $order: PaperOrder) {
  papers(first: 100, query: $query, filter: $filter, orderBy: $order) {
    totalCount nodes { title publishedOn hasCode citationCount }
  }
}
"""
RESEARCHERS = """
query($query: String, $order: ResearcherOrder, $first: Int, $after: String) {
  researchers(first: $first, after: $after, query: $query, orderBy: $order) {
    totalCount pageInfo { hasNextPage endCursor } nodes { name }
  }
}
"""


async def titles(client: GraphQLClient, **variables: object) -> list[str]:
    return [n["title"] for n in (await client.data(PAPERS, **variables))["papers"]["nodes"]]


async def test_search_ranks_the_best_match_first(seeded: GraphQLClient) -> None:
    found = await titles(seeded, query="relighting")
    assert found[0] == "Local Relighting of Real Scenes"


async def test_search_matches_words_in_abstracts_and_counts_matches(seeded: GraphQLClient) -> None:
    data = await seeded.data(PAPERS, query="Othello")
    assert data["papers"]["totalCount"] == len(data["papers"]["nodes"]) >= 1
    assert "Emergent World Representations" in data["papers"]["nodes"][0]["title"]


async def test_search_with_an_order_keeps_the_matches_and_the_order(seeded: GraphQLClient) -> None:
    found = await titles(seeded, query="diffusion", order={"field": "TITLE", "direction": "ASC"})
    assert len(found) > 2
    assert found == sorted(found, key=str.casefold)


async def test_search_text_without_words_finds_nothing(seeded: GraphQLClient) -> None:
    data = await seeded.data(PAPERS, query='"*-:()')
    assert data["papers"] == {"totalCount": 0, "nodes": []}


@pytest.mark.parametrize(
    ("paper_filter", "count"),
    [
        ({"categories": ["cs.CV"]}, 13),
        ({"categories": ["cs.DB", "cs.SE"]}, 2),
        ({"hasCode": True}, 9),
        ({"hasCode": False}, 41),
        ({"institution": "mit"}, 4),
        ({"publishedFrom": "2025-01-01"}, 20),
        ({"publishedFrom": "2022-01-01", "publishedTo": "2022-12-31"}, 6),
        ({"minCitations": 0}, 0),  # no counts are known: none can be said to have 0
        ({"categories": ["cs.CV"], "hasCode": True}, 4),
    ],
)
async def test_each_filter_keeps_the_papers_it_names(
    seeded: GraphQLClient, paper_filter: dict[str, object], count: int
) -> None:
    data = await seeded.data(PAPERS, filter=paper_filter)
    assert data["papers"]["totalCount"] == count == len(data["papers"]["nodes"])


async def test_the_date_filter_is_inclusive(seeded: GraphQLClient) -> None:
    day = {"publishedFrom": "2022-10-13", "publishedTo": "2022-10-13"}
    assert await titles(seeded, filter=day) == ["Mass-Editing Memory in a Transformer"]


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_papers_sort_by_date_title_and_citations(
    seeded: GraphQLClient, direction: str
) -> None:
    nodes = await seeded.data(PAPERS, order={"field": "PUBLISHED_ON", "direction": direction})
    dates = [n["publishedOn"] for n in nodes["papers"]["nodes"]]
    assert dates == sorted(dates, reverse=direction == "DESC")
    by_title = await titles(seeded, order={"field": "TITLE", "direction": direction})
    assert by_title == sorted(by_title, key=str.casefold, reverse=direction == "DESC")


async def test_researcher_search_ignores_case_and_accents(seeded: GraphQLClient) -> None:
    for query in ("renee", "RENÉE j. miller", "Miller"):
        data = await seeded.data(RESEARCHERS, query=query, first=10)
        assert data["researchers"]["nodes"] == [{"name": "Renée J. Miller"}], query


async def test_researchers_list_by_name_by_default(seeded: GraphQLClient) -> None:
    data = await seeded.data(RESEARCHERS, first=100)
    names = [n["name"] for n in data["researchers"]["nodes"]]
    assert data["researchers"]["totalCount"] == 90 == len(names)
    assert names == sorted(names, key=name_key)
    assert names[:3] == ["Aaron Mueller", "Adam Belfki", "Adam Karvonen"]


async def test_leaderboards_rank_by_indicators_computed_in_sql(blank: GraphQLClient) -> None:
    # h-index 2 with 3 papers; h-index 1 with the most citations; 3 papers with no counts.
    await add_researcher_with_papers(
        blank.engine, "Ada", [{"citation_count": 5}, {"citation_count": 3}, {"citation_count": 1}]
    )
    await add_researcher_with_papers(blank.engine, "Bob", [{"citation_count": 50}])
    await add_researcher_with_papers(blank.engine, "Cy", [{}, {}, {}, {}])
    await add_researcher_with_papers(blank.engine, "Dee", [])

    async def board(field: str, direction: str = "DESC") -> list[str]:
        order = {"field": field, "direction": direction}
        data = await blank.data(RESEARCHERS, order=order, first=10)
        return [n["name"] for n in data["researchers"]["nodes"]]

    # Cy and Dee tie at 0: the one added first comes first.
    assert await board("H_INDEX") == ["Ada", "Bob", "Cy", "Dee"]
    assert await board("CITATION_COUNT") == ["Bob", "Ada", "Cy", "Dee"]
    assert await board("H_INDEX", "ASC") == ["Cy", "Dee", "Bob", "Ada"]
    assert await board("PAPER_COUNT") == ["Cy", "Ada", "Bob", "Dee"]
    assert await board("PAPER_COUNT", "ASC") == ["Dee", "Bob", "Ada", "Cy"]
    assert await board("NAME", "DESC") == ["Dee", "Cy", "Bob", "Ada"]


LEADERBOARD_PAGE = """
query($order: ResearcherOrder, $first: Int, $after: String, $last: Int, $before: String) {
  researchers(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } nodes { name }
  }
}
"""


async def walk(client: GraphQLClient, order: dict[str, str], *, backwards: bool) -> list[str]:
    """Every name of a leaderboard, two at a time, from the first page or from the last."""
    names: list[str] = []
    cursor = None
    while True:
        if backwards:
            variables = {"order": order, "last": 2, "before": cursor}
        else:
            variables = {"order": order, "first": 2, "after": cursor}
        page = (await client.data(LEADERBOARD_PAGE, **variables))["researchers"]
        found = [n["name"] for n in page["nodes"]]
        names = found + names if backwards else names + found
        info = page["pageInfo"]
        if not info["hasPreviousPage" if backwards else "hasNextPage"]:
            return names
        cursor = info["startCursor" if backwards else "endCursor"]


async def test_leaderboard_pages_stay_in_order_across_ties(blank: GraphQLClient) -> None:
    await add_researcher_with_papers(blank.engine, "Top", [{"citation_count": 9}] * 2)
    for name in ["E", "D", "C", "B", "A"]:
        await add_researcher_with_papers(blank.engine, name, [{"citation_count": 7}])
    await add_researcher_with_papers(blank.engine, "Bottom", [])
    # Equal h-indexes come in the order the researchers were added, in both
    # directions, page after page, forwards and backwards.
    descending = {"field": "H_INDEX", "direction": "DESC"}
    ascending = {"field": "H_INDEX", "direction": "ASC"}
    assert await walk(blank, descending, backwards=False) == [
        "Top", "E", "D", "C", "B", "A", "Bottom"
    ]  # fmt: skip
    assert await walk(blank, descending, backwards=True) == [
        "Top", "E", "D", "C", "B", "A", "Bottom"
    ]  # fmt: skip
    assert await walk(blank, ascending, backwards=False) == [
        "Bottom", "E", "D", "C", "B", "A", "Top"
    ]  # fmt: skip
    assert await walk(blank, ascending, backwards=True) == [
        "Bottom", "E", "D", "C", "B", "A", "Top"
    ]  # fmt: skip


async def test_metrics_windows_select_papers_and_citations(blank: GraphQLClient) -> None:
    await add_researcher_with_papers(
        blank.engine,
        "Win Dow",
        [
            {
                "year": 2019,
                "published_on": date(2019, 5, 1),
                "citation_count": 10,
                "primary_category": "cs.LG",
                "by_year": [(2019, 4), (2020, 6)],
            },
            {
                "year": 2021,
                "published_on": date(2021, 5, 1),
                "citation_count": 3,
                "primary_category": "cs.CL",
                "by_year": [(2021, 1), (2022, 2)],
            },
            {"year": 2022, "citation_count": 2, "primary_category": "cs.CL"},
        ],
    )
    query = """query($window: MetricsWindow) { researcher(slug: "win-dow") {
      metrics(window: $window, asOfYear: 2024) {
        paperCount papersWithCitationCount citationCount hIndex mQuotient
        citationsByYear { year count }
      } } }"""

    async def metrics(**window: object) -> dict[str, object]:
        return (await blank.data(query, window=window or None))["researcher"]["metrics"]

    assert await metrics() == {
        "paperCount": 3,
        "papersWithCitationCount": 3,
        "citationCount": 15,
        "hIndex": 2,
        "mQuotient": pytest.approx(2 / 6),
        "citationsByYear": [
            {"year": y, "count": n} for y, n in [(2019, 4), (2020, 6), (2021, 1), (2022, 2)]
        ],
    }
    assert (await metrics(publishedFrom=2021))["paperCount"] == 2
    assert (await metrics(categories=["cs.LG"]))["citationCount"] == 10
    since_2020 = await metrics(citedFrom=2020)
    # The 2022 paper has no per-year counts: unknown in a "since" window.
    assert since_2020["papersWithCitationCount"] == 2
    assert since_2020["citationCount"] == 6 + 1 + 2
