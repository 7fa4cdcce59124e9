"""Concurrent writes to the same rows stay consistent on both databases.

Twenty requests are in flight at once against the ASGI app (httpx runs each
as its own task on the loop): on SQLite they queue for the write lock (BEGIN
IMMEDIATE), on PostgreSQL for the row locks. The end state must be exactly
what one of the requests asked for, never a mix.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from db.names import title_key
from db.tables import paper, researcher_indicators
from tests.api.conftest import GraphQLClient
from tests.api.writes import (
    CREATE_PAPER,
    CREATE_RESEARCHER,
    SET_CITATION_COUNTS,
    SOME_AUTHOR,
    counts,
    create_paper,
    create_researcher,
    mutate,
    open_writer,
)

REQUESTS = 20
UPDATE_PAPER = """
mutation($input: UpdatePaperInput!) {
  updatePaper(input: $input) { paper { id } userErrors { field message code } }
}
"""
MERGE = """
mutation($source: ID!, $target: ID!) {
  mergeResearchers(sourceId: $source, targetId: $target) {
    researcher { id } userErrors { field message code }
  }
}
"""
PAPER = """
query($id: ID!) { paper(id: $id) { title doi citationCount citationsByYear { year count } } }
"""


@pytest.fixture
async def writer(database_url: str) -> AsyncIterator[GraphQLClient]:
    async for client in open_writer(database_url):
        yield client


async def _all(client: GraphQLClient, document: str, variables: list[dict[str, Any]]) -> list[Any]:
    return await asyncio.gather(*(mutate(client, document, **v) for v in variables))


async def test_concurrent_counts_for_one_paper_end_as_one_request_set_them(
    writer: GraphQLClient,
) -> None:
    target = await create_paper(writer, "Contended")
    requests = [
        {
            "input": [
                {
                    "paperId": target["id"],
                    "total": 100 + k,
                    "byYear": [{"year": 2020, "count": k}, {"year": 2021 + k % 3, "count": k}],
                }
            ]
        }
        for k in range(REQUESTS)
    ]
    payloads = await _all(writer, SET_CITATION_COUNTS, requests)
    assert all(p["userErrors"] == [] for p in payloads)
    stored = (await writer.data(PAPER, id=target["id"]))["paper"]
    k = stored["citationCount"] - 100
    assert 0 <= k < REQUESTS
    assert stored["citationsByYear"] == sorted(
        [{"year": 2020, "count": k}, {"year": 2021 + k % 3, "count": k}], key=lambda y: y["year"]
    )


async def test_concurrent_batches_over_the_same_papers_never_interleave(
    writer: GraphQLClient,
) -> None:
    papers = [await create_paper(writer, f"Paper {i}") for i in range(3)]
    requests = []
    for k in range(REQUESTS):
        entries = [{"paperId": p["id"], "total": k} for p in papers]
        random.Random(k).shuffle(entries)  # lock order must not depend on the order given
        requests.append({"input": entries})
    payloads = await _all(writer, SET_CITATION_COUNTS, requests)
    assert all(p["userErrors"] == [] for p in payloads)
    totals = {(await writer.data(PAPER, id=p["id"]))["paper"]["citationCount"] for p in papers}
    assert len(totals) == 1


async def test_concurrent_updates_of_one_paper_leave_one_requests_fields(
    writer: GraphQLClient,
) -> None:
    target = await create_paper(writer, "Original")
    requests = [
        {"input": {"id": target["id"], "title": f"Title number {k}", "doi": f"10.1000/{k}"}}
        for k in range(REQUESTS)
    ]
    payloads = await _all(writer, UPDATE_PAPER, requests)
    assert all(p["userErrors"] == [] for p in payloads)
    stored = (await writer.data(PAPER, id=target["id"]))["paper"]
    k = int(stored["title"].rsplit(" ", 1)[1])
    assert stored["doi"] == f"10.1000/{k}"
    async with writer.engine.connect() as connection:
        key = (await connection.execute(select(paper.c.title_key))).scalar_one()
    assert key == title_key(stored["title"])


async def test_concurrent_papers_with_one_doi_make_one_paper_and_conflicts(
    writer: GraphQLClient,
) -> None:
    requests = [
        {"input": {"title": f"Claim {k}", "doi": "10.1000/contested", "authors": [SOME_AUTHOR]}}
        for k in range(REQUESTS)
    ]
    payloads = await _all(writer, CREATE_PAPER, requests)
    created = [p for p in payloads if p["paper"] is not None]
    refused = [p for p in payloads if p["paper"] is None]
    assert len(created) == 1
    assert {(tuple(e["field"]), e["code"]) for p in refused for e in p["userErrors"]} == {
        (("input", "doi"), "CONFLICT")
    }
    assert (await counts(writer))["paper"] == 1


async def test_concurrent_researchers_of_one_name_get_distinct_slugs(
    writer: GraphQLClient,
) -> None:
    requests = [{"input": {"name": "Li Wei"}} for _ in range(REQUESTS)]
    payloads = await _all(writer, CREATE_RESEARCHER, requests)
    assert all(p["userErrors"] == [] for p in payloads)
    slugs = {p["researcher"]["slug"] for p in payloads}
    assert slugs == {"li-wei", *(f"li-wei-{n}" for n in range(2, REQUESTS + 1))}


async def test_concurrent_counts_for_papers_of_one_author_keep_the_leaderboard_right(
    writer: GraphQLClient,
) -> None:
    author = await create_researcher(writer, "Prolific")
    byline = [{"researcherId": author["id"]}, {"name": "Frequent Coauthor"}]
    papers = [await create_paper(writer, f"Work {i}", authors=byline) for i in range(REQUESTS)]
    requests = [
        {"input": [{"paperId": p["id"], "total": REQUESTS + i}]} for i, p in enumerate(papers)
    ]
    payloads = await _all(writer, SET_CITATION_COUNTS, requests)
    assert all(p["userErrors"] == [] for p in payloads)
    async with writer.engine.connect() as connection:
        kept = (await connection.execute(select(researcher_indicators))).all()
    assert (
        sorted((row.paper_count, row.citation_count, row.h_index) for row in kept)
        == [(REQUESTS, sum(range(REQUESTS, 2 * REQUESTS)), REQUESTS)] * 2
    )
    board = await writer.data(
        "{ researchers(orderBy: {field: H_INDEX, direction: DESC}, first: 2) "
        "{ nodes { name metrics { hIndex } } } }"
    )
    assert sorted(board["researchers"]["nodes"], key=lambda n: n["name"]) == [
        {"name": "Frequent Coauthor", "metrics": {"hIndex": REQUESTS}},
        {"name": "Prolific", "metrics": {"hIndex": REQUESTS}},
    ]


@pytest.mark.parametrize("direction", ["same", "opposite"])
async def test_concurrent_merges_of_one_pair_leave_one_researcher(
    writer: GraphQLClient, direction: str
) -> None:
    a = await create_researcher(writer, "Ann A")
    b = await create_researcher(writer, "Ann B")
    for i in range(5):
        await create_paper(writer, f"A{i}", authors=[{"researcherId": a["id"]}, {"name": "Co"}])
        await create_paper(writer, f"B{i}", authors=[{"researcherId": b["id"]}, {"name": "Co"}])
    await create_paper(
        writer, "Both", authors=[{"researcherId": a["id"]}, {"researcherId": b["id"]}]
    )
    forward = {"source": a["id"], "target": b["id"]}
    backward = {"source": b["id"], "target": a["id"]}
    requests = [backward if direction == "opposite" and k % 2 else forward for k in range(10)]
    payloads = await _all(writer, MERGE, requests)
    winners = [p for p in payloads if p["researcher"] is not None]
    losers = [p for p in payloads if p["researcher"] is None]
    assert len(winners) == 1
    assert {e["code"] for p in losers for e in p["userErrors"]} == {"NOT_FOUND"}
    after = await counts(writer)
    assert after["researcher"] == 2  # the survivor and "Co"
    assert after["authorship"] == 10 + 10 + 1  # "Both" keeps one authorship of the survivor
    survivor = winners[0]["researcher"]["id"]
    data = await writer.data(
        "query($id: ID!) { node(id: $id) { ... on Researcher { papers { totalCount } aliases } } }",
        id=survivor,
    )
    assert data["node"]["papers"] == {"totalCount": 11}
    assert len(data["node"]["aliases"]) == 1
