"""setCitationCounts over HTTP: a batch, all or nothing, and metrics that follow at once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.api.conftest import GraphQLClient
from tests.api.writes import (
    SET_CITATION_COUNTS,
    counts,
    create_paper,
    create_researcher,
    mutate,
    open_writer,
    succeed,
)

METRICS = """
query($id: ID!) {
  node(id: $id) {
    ... on Researcher {
      metrics { hIndex citationCount papersWithCitationCount citationsByYear { year count } }
      since: metrics(window: {citedFrom: 2024}) { citationCount }
    }
  }
}
"""


@pytest.fixture
async def writer(database_url: str) -> AsyncIterator[GraphQLClient]:
    async for client in open_writer(database_url):
        yield client


async def test_counts_replace_the_per_year_rows_and_metrics_follow(writer: GraphQLClient) -> None:
    author = await create_researcher(writer, "Grace Hopper")
    byline = [{"researcherId": author["id"]}]
    first = await create_paper(writer, "One", authors=byline, publishedOn="2021-01-01")
    second = await create_paper(writer, "Two", authors=byline, publishedOn="2022-01-01")
    payload = await succeed(
        writer,
        SET_CITATION_COUNTS,
        input=[
            {"paperId": second["id"], "total": 5},
            {
                "paperId": first["id"],
                "total": 10,
                "byYear": [{"year": 2023, "count": 4}, {"year": 2024, "count": 6}],
            },
        ],
    )
    assert payload["papers"] == [
        {"id": second["id"], "citationCount": 5, "citationsByYear": []},
        {
            "id": first["id"],
            "citationCount": 10,
            "citationsByYear": [{"year": 2023, "count": 4}, {"year": 2024, "count": 6}],
        },
    ]
    metrics = (await writer.data(METRICS, id=author["id"]))["node"]
    assert metrics == {
        "metrics": {
            "hIndex": 2,
            "citationCount": 15,
            "papersWithCitationCount": 2,
            "citationsByYear": [{"year": 2023, "count": 4}, {"year": 2024, "count": 6}],
        },
        "since": {"citationCount": 6},
    }
    # Given again with other years, the per-year rows are replaced; without byYear they stay.
    await succeed(
        writer,
        SET_CITATION_COUNTS,
        input=[{"paperId": first["id"], "total": 1, "byYear": [{"year": 2025, "count": 1}]}],
    )
    await succeed(writer, SET_CITATION_COUNTS, input=[{"paperId": second["id"], "total": 0}])
    metrics = (await writer.data(METRICS, id=author["id"]))["node"]["metrics"]
    assert metrics["hIndex"] == 1
    assert metrics["citationsByYear"] == [{"year": 2025, "count": 1}]


async def test_one_bad_entry_stops_the_whole_batch(writer: GraphQLClient) -> None:
    good = await create_paper(writer, "Good", citationCount=2)
    other = await create_paper(writer, "Other")
    before = await counts(writer)
    payload = await mutate(
        writer,
        SET_CITATION_COUNTS,
        input=[
            {"paperId": good["id"], "total": 100, "byYear": [{"year": 2024, "count": 100}]},
            {
                "paperId": other["id"],
                "total": 5,
                "byYear": [
                    {"year": 1899, "count": 1},
                    {"year": 2024, "count": -1},
                    {"year": 2024, "count": 2},
                    {"year": 9999, "count": 9},
                ],
            },
            {"paperId": "UGFwZXI6OTk5", "total": -1},
            {"paperId": good["id"], "total": 1},
            {"paperId": "nonsense", "total": 1},
        ],
    )
    assert payload["papers"] == []
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "1", "byYear", "0", "year"], "INVALID"),
        (["input", "1", "byYear", "1", "count"], "INVALID"),
        (["input", "1", "byYear", "2", "year"], "INVALID"),
        (["input", "1", "byYear", "3", "year"], "INVALID"),
        (["input", "1", "byYear"], "INVALID"),
        (["input", "2", "total"], "INVALID"),
        (["input", "3", "paperId"], "INVALID"),
        (["input", "4", "paperId"], "INVALID"),
        (["input", "2", "paperId"], "NOT_FOUND"),
    ]
    messages = [e["message"] for e in payload["userErrors"]]
    assert messages[2] == "2024 is given twice."
    assert messages[4] == "The per-year counts add up to more than the total (5)."
    assert messages[6] == "The same paper as entry 1."
    assert await counts(writer) == before
    paper = await writer.data("query($id: ID!) { paper(id: $id) { citationCount } }", id=good["id"])
    assert paper == {"paper": {"citationCount": 2}}


async def test_an_empty_batch_writes_nothing_and_succeeds(writer: GraphQLClient) -> None:
    payload = await succeed(writer, SET_CITATION_COUNTS, input=[])
    assert payload == {"papers": [], "userErrors": []}
