"""Leaderboards: a figures row for every researcher, and an index for every ranking."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine
from db.migrate import alembic_config, upgrade
from db.queries.pages import PageRequest, page_statement
from db.queries.researchers import STAT_FIELDS, researchers_select


async def _run(url: str, *statements: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            rows: list[tuple[object, ...]] = []
            for statement in statements:
                result = await connection.execute(text(statement))
                rows = [tuple(row) for row in result.all()] if result.returns_rows else []
            return rows
    finally:
        await engine.dispose()


def test_the_migration_gives_every_researcher_a_figures_row(database_url: str) -> None:
    command.downgrade(alembic_config(database_url), "0004")
    asyncio.run(
        _run(
            database_url,
            "INSERT INTO researcher (id, slug, name, name_key, created_at, updated_at) VALUES "
            "(1, 'ada', 'Ada', 'ada', '2026-01-01', '2026-01-01'), "
            "(2, 'bob', 'Bob', 'bob', '2026-01-01', '2026-01-01')",
            "INSERT INTO paper (id, title, title_key, citation_count, has_code, "
            "authors_truncated, created_at, updated_at) VALUES "
            "(1, 'Notes', 'notes', 5, false, false, '2026-01-01', '2026-01-01')",
            "INSERT INTO authorship (paper_id, researcher_id, position, display_name) "
            "VALUES (1, 1, 1, 'Ada')",
        )
    )
    upgrade(database_url)
    rows = asyncio.run(
        _run(
            database_url,
            "SELECT researcher_id, paper_count, citation_count, h_index "
            "FROM researcher_indicators ORDER BY researcher_id",
        )
    )
    assert rows == [(1, 1, 5, 1), (2, 0, 0, 0)]


@pytest.mark.parametrize("field", STAT_FIELDS)
@pytest.mark.parametrize("descending", [True, False], ids=["DESC", "ASC"])
@pytest.mark.parametrize("after", [None, (3, 7)], ids=["first page", "later page"])
async def test_every_leaderboard_page_is_read_in_index_order_with_no_sort(
    engine: AsyncEngine, field: str, descending: bool, after: tuple[int, int] | None
) -> None:
    statement, ordering = researchers_select(query=None, order_field=field, descending=descending)
    page = page_statement(statement, ordering, PageRequest(size=20, after=after))
    sql = str(page.compile(engine, compile_kwargs={"literal_binds": True}))
    async with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            plan = (await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")).all()
            steps = [str(row[-1]) for row in plan]
            assert not any("TEMP B-TREE" in step for step in steps), steps
            assert any(f"ix_researcher_indicators_{field.lower()}" in s for s in steps), steps
        else:
            # On an empty table a scan and a sort cost nothing; with sorting priced
            # out, the planner shows whether an index yields the order.
            await connection.exec_driver_sql("SET enable_sort = off")
            plan = (await connection.exec_driver_sql(f"EXPLAIN {sql}")).all()
            steps = [str(row[0]) for row in plan]
            assert not any("Sort" in step for step in steps), steps
            assert any(f"ix_researcher_indicators_{field.lower()}" in s for s in steps), steps
