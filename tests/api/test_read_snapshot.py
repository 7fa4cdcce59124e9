"""One request reads one snapshot: a write committed while it runs is seen whole or not at all."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only
from sqlmodel import select

from db.engine import create_engine, create_session_factory
from db.models import Authorship, Paper, Researcher
from db.writes.indicators import refresh_indicators
from tests.api.conftest import GraphQLClient
from tests.api.factories import add_researcher_with_papers

PAGE = """
{
  researcher(slug: "ada-lovelace") {
    metrics { paperCount citationCount hIndex }
    papers(first: 10) {
      totalCount
      nodes { title citationCount authors { researcher { name } } }
    }
  }
}
"""

BEFORE = {
    "metrics": {"paperCount": 2, "citationCount": 20, "hIndex": 2},
    "papers": {
        "totalCount": 2,
        "nodes": [
            {
                "title": "Notes",
                "citationCount": 10,
                "authors": [{"researcher": {"name": "Ada Lovelace"}}],
            },
            {
                "title": "Sketch of the Analytical Engine",
                "citationCount": 10,
                "authors": [{"researcher": {"name": "Ada Lovelace"}}],
            },
        ],
    },
}


@pytest.fixture
async def writer(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine of its own, as another process writing to the same database would have."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


async def add_a_third_paper(engine: AsyncEngine) -> None:
    """One transaction: a new paper by Ada and a new coauthor, with the figures refreshed."""
    async with create_session_factory(engine)() as session, session.begin():
        ada = (
            await session.exec(select(Researcher).where(Researcher.slug == "ada-lovelace"))
        ).one()
        babbage = Researcher(
            name="Charles Babbage", name_key="charles babbage", slug="charles-babbage"
        )
        paper = Paper(
            title="Difference Engine",
            title_key="difference engine",
            published_on=date(1846, 1, 1),
            year=1846,
            citation_count=30,
        )
        session.add_all([babbage, paper])
        await session.flush()
        session.add_all(
            [
                Authorship(
                    paper_id=paper.id,
                    researcher_id=babbage.id,
                    position=1,
                    display_name="Charles Babbage",
                ),
                Authorship(
                    paper_id=paper.id, researcher_id=ada.id, position=2, display_name="Ada Lovelace"
                ),
            ]
        )
        await session.flush()
        await refresh_indicators(await session.connection(), [ada.id, babbage.id])


@contextmanager
def after_the_first_statement(engine: AsyncEngine, write: Any) -> Iterator[None]:
    """Run `write` (to its commit) once the read engine has run its first statement."""
    done = False

    def interleave(*_args: Any) -> None:
        nonlocal done
        if not done:
            done = True
            await_only(write())  # the request's own coroutine waits until the write commits

    event.listen(engine.sync_engine, "after_cursor_execute", interleave)
    try:
        yield
    finally:
        event.remove(engine.sync_engine, "after_cursor_execute", interleave)


async def test_a_write_that_commits_during_a_request_is_not_seen_by_it(
    blank: GraphQLClient, writer: AsyncEngine
) -> None:
    await add_researcher_with_papers(
        blank.engine,
        "Ada Lovelace",
        [
            {"title": "Notes", "citation_count": 10, "published_on": date(1843, 10, 1)},
            {
                "title": "Sketch of the Analytical Engine",
                "citation_count": 10,
                "published_on": date(1842, 8, 1),
            },
        ],
    )
    with after_the_first_statement(blank.graphql_engine, lambda: add_a_third_paper(writer)):
        during = (await blank.data(PAGE))["researcher"]
    # The lookup ran before the write committed; the lists and figures read after
    # it come from the same snapshot, so none of the write shows anywhere.
    assert during == BEFORE

    after = (await blank.data(PAGE))["researcher"]
    assert after["metrics"] == {"paperCount": 3, "citationCount": 50, "hIndex": 3}
    assert after["papers"]["totalCount"] == 3
    assert after["papers"]["nodes"][0] == {
        "title": "Difference Engine",
        "citationCount": 30,
        "authors": [
            {"researcher": {"name": "Charles Babbage"}},
            {"researcher": {"name": "Ada Lovelace"}},
        ],
    }
