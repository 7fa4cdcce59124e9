"""Every researcher is on every leaderboard: each write that adds one adds its figures."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.api.conftest import GraphQLClient
from tests.api.writes import CREATE_PAPER, create_researcher, open_writer, succeed

BOARD = """
query($field: ResearcherOrderField!) {
  researchers(first: 10, orderBy: {field: $field, direction: DESC}) {
    totalCount nodes { name metrics { hIndex paperCount citationCount } }
  }
}
"""


@pytest.fixture
async def writer(database_url: str) -> AsyncIterator[GraphQLClient]:
    async for client in open_writer(database_url):
        yield client


async def test_researchers_added_by_mutations_rank_on_every_leaderboard(
    writer: GraphQLClient,
) -> None:
    await create_researcher(writer, "Ada Lovelace")  # no papers yet
    await succeed(
        writer,
        CREATE_PAPER,
        input={
            "title": "Notes",
            "citationCount": 3,
            "authors": [{"name": "Charles Babbage"}],  # a new researcher, made by the byline
        },
    )
    for field in ("H_INDEX", "CITATION_COUNT", "PAPER_COUNT"):
        board = (await writer.data(BOARD, field=field))["researchers"]
        assert board == {
            "totalCount": 2,
            "nodes": [
                {
                    "name": "Charles Babbage",
                    "metrics": {"hIndex": 1, "paperCount": 1, "citationCount": 3},
                },
                {
                    "name": "Ada Lovelace",
                    "metrics": {"hIndex": 0, "paperCount": 0, "citationCount": 0},
                },
            ],
        }, field
