"""Statements run on the driver (db.direct), and pages SQLAlchemy runs (db.queries.pages):
planned once, not at every execution."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy

from db.direct import Direct, direct
from db.engine import ReadSnapshot, create_engine
from db.queries.pages import PageRequest, fetch_page
from db.queries.researchers import NAME_ORDERING, researchers_page_direct
from db.tables import researcher
from tests.conftest import PostgresServer

LEADERBOARD_COLUMNS = frozenset({"name", "h_index", "paper_count", "citation_count"})


@pytest.mark.postgres
def test_a_leaderboard_is_planned_once_a_connection_on_postgresql(
    postgres_server: PostgresServer, postgres_template: str
) -> None:
    """PostgreSQL reuses a prepared statement's plan only when no parameter (a LIMIT $1)
    makes its generic plan look costlier than one made for the values: then it plans
    again at every execution, which was a third of a leaderboard's time in the database."""
    statement = researchers_page_direct(
        "H_INDEX", True, PageRequest(size=20, after=None, backwards=False),
        LEADERBOARD_COLUMNS, "postgresql",
    )  # fmt: skip
    database = postgres_server.create_database(template=postgres_template)
    try:
        custom_plans = asyncio.run(custom_plans_after(postgres_server.url_of(database), statement))
    finally:
        postgres_server.drop_database(database)
    assert custom_plans == [0]


@pytest.mark.postgres
def test_a_page_sqlalchemy_runs_is_planned_once_a_connection_on_postgresql(
    postgres_server: PostgresServer, postgres_template: str
) -> None:
    """The same for a page run through SQLAlchemy (a search, a page after a cursor)."""
    database = postgres_server.create_database(template=postgres_template)
    try:
        custom_plans = asyncio.run(page_plans_after(postgres_server.url_of(database)))
    finally:
        postgres_server.drop_database(database)
    assert custom_plans == [0]


async def page_plans_after(url: str, runs: int = 8) -> list[int]:
    """How many times PostgreSQL planned a page of researchers by name for its values."""
    engine = create_engine(url)
    names = sqlalchemy.select(researcher.c.id, researcher.c.name)
    try:
        async with engine.connect() as connection:
            for _ in range(runs):
                await fetch_page(connection, names, NAME_ORDERING, PageRequest(size=20))
            plans = await connection.exec_driver_sql(
                "SELECT custom_plans FROM pg_prepared_statements"
                " WHERE statement LIKE 'SELECT researcher.id, researcher.name, %'"
            )
            return list(plans.scalars().all())
    finally:
        await engine.dispose()


async def custom_plans_after(url: str, statement: Direct, runs: int = 8) -> list[int]:
    """How many times PostgreSQL planned `statement` for its values, run `runs` times."""
    engine = create_engine(url)
    snapshot = ReadSnapshot(engine)
    try:
        for _ in range(runs):
            await snapshot.fetch(statement, {})
        plans: Any = await snapshot.run(
            lambda connection: connection.exec_driver_sql(
                "SELECT custom_plans FROM pg_prepared_statements WHERE statement = $1",
                (statement.sql,),
            )
        )
        return list(plans.scalars().all())
    finally:
        await snapshot.close()
        await engine.dispose()


def test_numbers_fixed_in_a_statement_are_written_into_it_and_a_callers_stay_parameters() -> None:
    statement = (
        sqlalchemy.select(researcher.c.id)
        .where(researcher.c.slug == sqlalchemy.bindparam("slug"))
        .limit(21)
    )
    compiled = direct(statement, "postgresql")
    assert compiled.sql.rstrip().endswith("LIMIT 21")
    assert compiled.parameter_names == ("slug",)
    assert compiled.parameters({"slug": "ada"}) == ["ada"]
