"""The profile page: one nested query renders a researcher's whole page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.conftest import GraphQLClient

PROFILE = """
query Profile($papers: Int!) {
  researcher(slug: "david-bau") {
    name
    reportedMetrics { source capturedYear hIndex citationCount paperCount novelty aiScore }
    metrics {
      paperCount hIndex citationCount papersWithCitationCount papersWithCode firstYear lastYear
      categories { category { code name } count }
    }
    papers(first: $papers) {
      totalCount
      pageInfo { hasNextPage }
      nodes {
        title publishedOn year primaryCategory { code } hasCode links citationCount
        authorsTruncated
        authors { position displayName researcher { slug } }
        institutions { slug name }
        categories { code }
      }
    }
    coauthors(first: 10) {
      totalCount
      edges { sharedPaperCount firstYear lastYear node { name slug } }
    }
  }
}
"""


async def test_the_profile_page_shows_header_figures_and_the_category_breakdown(
    seeded: GraphQLClient,
) -> None:
    researcher = (await seeded.data(PROFILE, papers=50))["researcher"]
    assert researcher["name"] == "David Bau"
    assert researcher["reportedMetrics"] == {
        "source": "profile page of David Bau",
        "capturedYear": 2026,
        "hIndex": 55,
        "citationCount": 14869,
        "paperCount": 71,
        "novelty": 0.48,
        "aiScore": 60.0,
    }
    # No per-paper counts in the seed: the computed figures say so rather than guess.
    assert researcher["metrics"] == {
        "paperCount": 50,
        "hIndex": 0,
        "citationCount": 0,
        "papersWithCitationCount": 0,
        "papersWithCode": 9,
        "firstYear": 2018,
        "lastYear": 2026,
        "categories": [
            {"category": {"code": "cs.CL", "name": "Computation and Language"}, "count": 17},
            {
                "category": {"code": "cs.CV", "name": "Computer Vision and Pattern Recognition"},
                "count": 13,
            },
            {"category": {"code": "cs.LG", "name": "Machine Learning"}, "count": 13},
            {"category": {"code": "cs.AI", "name": "Artificial Intelligence"}, "count": 4},
            {"category": {"code": "cs.DB", "name": "Databases"}, "count": 1},
            {"category": {"code": "cs.GR", "name": "Graphics"}, "count": 1},
            {"category": {"code": "cs.SE", "name": "Software Engineering"}, "count": 1},
        ],
    }


async def test_the_profile_page_lists_every_paper_newest_first_with_bylines_in_order(
    seeded: GraphQLClient,
) -> None:
    papers = (await seeded.data(PROFILE, papers=50))["researcher"]["papers"]
    assert papers["totalCount"] == 50
    assert papers["pageInfo"] == {"hasNextPage": False}
    nodes = papers["nodes"]
    assert len(nodes) == 50
    dates = [node["publishedOn"] for node in nodes]
    assert dates == sorted(dates, reverse=True)
    memit = next(n for n in nodes if n["title"] == "Mass-Editing Memory in a Transformer")
    assert memit == {
        "title": "Mass-Editing Memory in a Transformer",
        "publishedOn": "2022-10-13",
        "year": 2022,
        "primaryCategory": {"code": "cs.CL"},
        "hasCode": False,
        "links": ["https://memit.baulab.info"],
        "citationCount": None,
        "authorsTruncated": True,
        "authors": [
            {"position": 1, "displayName": "Kevin Meng", "researcher": {"slug": "kevin-meng"}},
            {
                "position": 2,
                "displayName": "Arnab Sen Sharma",
                "researcher": {"slug": "arnab-sen-sharma"},
            },
            {
                "position": 3,
                "displayName": "Alex Andonian",
                "researcher": {"slug": "alex-andonian"},
            },
            # The cut byline does not name him: he is on the paper at an unknown place.
            {"position": None, "displayName": "David Bau", "researcher": {"slug": "david-bau"}},
        ],
        "institutions": [{"slug": "mit", "name": "Massachusetts Institute of Technology"}],
        "categories": [{"code": "cs.CL"}],
    }
    miller = next(n for n in nodes if "Renée J. Miller" in [a["displayName"] for a in n["authors"]])
    assert [(a["position"], a["researcher"]["slug"]) for a in miller["authors"]] == [
        (1, "koyena-pal"),
        (2, "david-bau"),
        (3, "renee-j-miller"),
    ]


async def test_coauthors_come_most_shared_first_then_by_name(seeded: GraphQLClient) -> None:
    coauthors = (await seeded.data(PROFILE, papers=5))["researcher"]["coauthors"]
    assert coauthors["totalCount"] == 89
    shared = [
        (e["sharedPaperCount"], e["firstYear"], e["lastYear"], e["node"]["name"])
        for e in coauthors["edges"]
    ]
    assert shared == [
        (8, 2023, 2025, "Rohit Gandikota"),
        (7, 2022, 2025, "Arnab Sen Sharma"),
        (4, 2023, 2025, "Eric Todd"),
        (4, 2022, 2023, "Joanna Materzynska"),
        (4, 2023, 2026, "Nikhil Prakash"),
        (3, 2024, 2025, "Can Rager"),
        (3, 2024, 2026, "Chris Wendler"),
        (3, 2024, 2026, "Jannik Brinkmann"),
        (3, 2018, 2022, "Jun-Yan Zhu"),
        (3, 2023, 2026, "Koyena Pal"),
    ]


async def test_the_profile_query_costs_the_same_statements_for_5_papers_as_for_50(
    seeded: GraphQLClient,
) -> None:
    await seeded.data(PROFILE, papers=1)  # warm the engine's connection pool
    with seeded.counting() as five:
        await seeded.data(PROFILE, papers=5)
    with seeded.counting() as fifty:
        await seeded.data(PROFILE, papers=50)
    assert len(five) == len(fifty)
    assert len(fifty) <= 14, "\n\n".join(fifty)


@contextmanager
def connections_and_transactions(engine: AsyncEngine) -> Iterator[dict[str, int]]:
    """How many pool checkouts and BEGINs the block costs the engine."""
    seen = {"checkouts": 0, "begins": 0, "checked out after": 0}

    def checkout(*_args: Any) -> None:
        seen["checkouts"] += 1

    def begin(*_args: Any) -> None:
        seen["begins"] += 1

    event.listen(engine.sync_engine.pool, "checkout", checkout)
    event.listen(engine.sync_engine, "begin", begin)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine.pool, "checkout", checkout)
        event.remove(engine.sync_engine, "begin", begin)
    seen["checked out after"] = engine.sync_engine.pool.checkedout()


async def test_the_profile_query_reads_one_snapshot_through_one_connection(
    seeded: GraphQLClient,
) -> None:
    await seeded.data(PROFILE, papers=1)
    with (
        connections_and_transactions(seeded.graphql_engine) as used,
        seeded.counting() as statements,
    ):
        await seeded.data(PROFILE, papers=50)
    # Every statement of the request ran in one transaction on one connection,
    # which went back to the pool when the request ended.
    assert used == {"checkouts": 1, "begins": 1, "checked out after": 0}
    assert all(s.lstrip().startswith(("SELECT", "WITH")) for s in statements), statements


async def test_a_query_that_fails_validation_takes_no_connection(seeded: GraphQLClient) -> None:
    with connections_and_transactions(seeded.graphql_engine) as used:
        message = await seeded.error('{ researcher(slug: "david-bau") { nope } }')
    assert message == "Cannot query field 'nope' on type 'Researcher'. Did you mean 'name'?"
    assert used == {"checkouts": 0, "begins": 0, "checked out after": 0}
