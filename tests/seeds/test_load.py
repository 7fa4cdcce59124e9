from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from db.queries.stats import row_counts
from seeds.load import import_profile_text
from seeds.manifest import read_manifest
from seeds.profile_text import ProfileFormatError
from seeds.seed import seed_database

SEED_TEXT = read_manifest().profiles[0].path.read_text(encoding="utf-8")


async def scalar(engine: AsyncEngine, sql: str) -> object:
    async with engine.connect() as connection:
        return (await connection.execute(text(sql))).scalar_one()


async def counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as connection:
        return await row_counts(connection)


async def test_the_seed_loads_50_papers_and_90_researchers(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    [result] = await seed_database(sessions)
    assert (result.papers_created, result.papers_updated, result.papers_unchanged) == (50, 0, 0)
    rows = await counts(engine)
    assert rows["paper"] == 50
    assert rows["researcher"] == 90
    assert rows["reported_metrics"] == 1
    assert rows["institution"] == 4


async def test_loading_the_seed_twice_adds_and_changes_nothing(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed_database(sessions)
    before = await counts(engine)
    stamps = await scalar(engine, "SELECT max(updated_at) FROM paper")
    [again] = await seed_database(sessions)
    assert (again.papers_created, again.papers_updated, again.papers_unchanged) == (0, 0, 50)
    assert await counts(engine) == before
    assert await scalar(engine, "SELECT max(updated_at) FROM paper") == stamps


async def test_the_owner_is_an_author_of_every_paper(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed_database(sessions)
    owner_papers = await scalar(
        engine,
        "SELECT count(*) FROM authorship a JOIN researcher r ON r.id = a.researcher_id"
        " WHERE r.slug = 'david-bau'",
    )
    unknown_places = await scalar(
        engine,
        "SELECT count(*) FROM authorship a JOIN researcher r ON r.id = a.researcher_id"
        " WHERE r.slug = 'david-bau' AND a.position IS NULL",
    )
    assert owner_papers == 50
    # Cut bylines ("et al.") that do not name him leave his place unknown.
    assert unknown_places == 39


async def test_one_coauthor_across_entries_is_one_researcher(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed_database(sessions)
    shared = await scalar(
        engine,
        "SELECT count(*) FROM authorship a JOIN researcher r ON r.id = a.researcher_id"
        " WHERE r.name = 'Rohit Gandikota'",
    )
    assert shared == 8
    assert await scalar(engine, "SELECT slug FROM researcher WHERE name = 'Renée J. Miller'") == (
        "renee-j-miller"
    )


async def test_a_profile_that_fails_to_parse_writes_nothing(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    before = await counts(engine)
    broken = SEED_TEXT.replace("CVJul 6, 2022", "CVJul 36, 2022")
    with pytest.raises(ProfileFormatError) as raised:
        async with sessions() as session, session.begin():
            await import_profile_text(session, broken, undated_year=2026, source="broken")
    assert raised.value.line == SEED_TEXT.splitlines().index("CVJul 6, 2022") + 1
    assert await counts(engine) == before


async def test_an_unknown_category_rolls_back_the_whole_profile(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    before = await counts(engine)
    broken = SEED_TEXT.replace("SEMay 13, 2025", "ZZMay 13, 2025")
    with pytest.raises(ProfileFormatError, match="known arXiv category"):
        async with sessions() as session, session.begin():
            await import_profile_text(session, broken, undated_year=2026, source="broken")
    assert await counts(engine) == before


async def test_loading_keeps_the_leaderboard_figures_of_every_author(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed_database(sessions)
    rows = await scalar(engine, "SELECT count(*) FROM researcher_indicators")
    owner = await scalar(
        engine,
        "SELECT i.paper_count FROM researcher_indicators i"
        " JOIN researcher r ON r.id = i.researcher_id WHERE r.slug = 'david-bau'",
    )
    assert (rows, owner) == (90, 50)
