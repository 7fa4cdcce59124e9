"""A researcher's papers newest first: read from the bylines' copy of each paper's order keys.

Migration 0007 keeps, on every authorship, its paper's year and date as the
list sorts them, and triggers keep the copies exact. Here: the order a user
sees follows every write that changes it (a new paper, a changed date, a
paper gaining or losing its date, a merge), on both databases, and no
authorship anywhere holds keys that differ from its paper's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, literal, or_, select

from db.queries.papers import EARLIEST
from db.tables import authorship, paper
from tests.api.conftest import GraphQLClient
from tests.api.writes import create_paper, create_researcher, open_writer, succeed

NEWEST = """
query($slug: String!, $first: Int, $after: String) {
  researcher(slug: $slug) {
    papers(first: $first, after: $after) {
      nodes { title }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
UPDATE_PAPER = """
mutation($input: UpdatePaperInput!) {
  updatePaper(input: $input) { paper { publishedOn year } userErrors { message } }
}
"""
MERGE = """
mutation($source: ID!, $target: ID!) {
  mergeResearchers(sourceId: $source, targetId: $target) { userErrors { message } }
}
"""


@pytest.fixture
async def writer(database_url: str) -> AsyncIterator[GraphQLClient]:
    async for client in open_writer(database_url):
        yield client


async def newest(client: GraphQLClient, slug: str, page: int = 1) -> list[str]:
    """Every title of the researcher's list, newest first, read page by page."""
    titles: list[str] = []
    after = None
    while True:
        data = await client.data(NEWEST, slug=slug, first=page, after=after)
        papers = data["researcher"]["papers"]
        titles += [node["title"] for node in papers["nodes"]]
        if not papers["pageInfo"]["hasNextPage"]:
            return titles
        after = papers["pageInfo"]["endCursor"]


async def stale_keys(client: GraphQLClient) -> list[Any]:
    """Authorships whose copy of the order keys differs from their paper's."""
    statement = (
        select(authorship.c.id)
        .join(paper, paper.c.id == authorship.c.paper_id)
        .where(
            or_(
                authorship.c.paper_sort_year.is_(None),
                authorship.c.paper_sort_date.is_(None),
                authorship.c.paper_sort_year != func.coalesce(paper.c.year, 0),
                authorship.c.paper_sort_date
                != func.coalesce(
                    paper.c.published_on, literal(EARLIEST, paper.c.published_on.type)
                ),
            )
        )
    )
    async with client.engine.connect() as connection:
        return list((await connection.execute(statement)).all())


async def test_the_newest_first_list_follows_every_write(writer: GraphQLClient) -> None:
    ada = await create_researcher(writer, "Ada Order")
    grace = await create_researcher(writer, "Grace Order")
    byline = [{"researcherId": ada["id"], "name": "Ada Order"}]
    made = {}
    for title, published in [("Old", "2019-03-01"), ("Mid", "2021-06-01"), ("New", "2023-01-09")]:
        made[title] = await create_paper(writer, title, publishedOn=published, authors=byline)
    undated = await create_paper(writer, "Undated", authors=byline)
    await create_paper(writer, "Undated too", authors=byline)  # after a cursor on an undated one
    assert await newest(writer, ada["slug"]) == ["New", "Mid", "Old", "Undated too", "Undated"]

    # A changed date moves the paper; a date taken away sends it after the dated ones.
    for changed, published in [("Old", "2024-02-02"), ("Mid", None)]:
        await succeed(
            writer, UPDATE_PAPER, input={"id": made[changed]["id"], "publishedOn": published}
        )
    await succeed(writer, UPDATE_PAPER, input={"id": undated["id"], "publishedOn": "2022-05-05"})
    assert await newest(writer, ada["slug"]) == ["Old", "New", "Undated", "Undated too", "Mid"]

    # Merged into another researcher, the papers keep their order there.
    await create_paper(
        writer, "Grace's", publishedOn="2022-07-07", authors=[{"researcherId": grace["id"]}]
    )
    await succeed(writer, MERGE, source=ada["id"], target=grace["id"])
    assert await newest(writer, grace["slug"]) == [
        "Old",
        "New",
        "Grace's",
        "Undated",
        "Undated too",
        "Mid",
    ]
    assert await stale_keys(writer) == []


async def test_the_seed_and_the_generator_leave_no_authorship_out_of_order(
    seeded: GraphQLClient,
) -> None:
    assert await stale_keys(seeded) == []
