"""Rows written by db.writes.bulk.insert_rows read back as a row-by-row insert writes them.

On SQLite a batch's rows travel as one JSON array (json_each); values that
look like JSON, numbers as text, dates and non-finite floats must come back
exactly as bound.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.tables import paper, reported_metrics, researcher
from db.writes.bulk import PAPER_COLUMNS, insert_rows, papers_matching

TRICKY = [
    {"source": "123", "captured_on": date(2024, 2, 29), "two_year_mean_citedness": 1.5},
    {"source": "null", "captured_on": None, "two_year_mean_citedness": 0.1 + 0.2},
    {"source": '["a", 1]', "captured_on": date(1, 1, 1), "two_year_mean_citedness": None},
    {"source": "Zürich \u2014 \U0001f600", "captured_on": None, "two_year_mean_citedness": 1e300},
]


async def stored(engine: AsyncEngine, rows: list[dict[str, Any]], *, bulk: bool) -> list[tuple]:
    async with engine.begin() as connection:
        now = datetime(2026, 12, 1, tzinfo=UTC)
        await connection.execute(
            insert(researcher),
            [
                {"slug": f"r-{i}", "name": f"R {i}", "name_key": f"r {i}", "created_at": now}
                | {"updated_at": now}
                for i in range(len(rows))
            ],
        )
        ids = (await connection.execute(select(researcher.c.id).order_by("id"))).scalars().all()
        given = [{"researcher_id": i, **row} for i, row in zip(ids, rows, strict=True)]
        if bulk:
            await insert_rows(connection, reported_metrics, given)
        else:
            for row in given:
                await connection.execute(insert(reported_metrics), row)
        columns = [reported_metrics.c[name] for name in ("source", *list(rows[0])[1:])]
        result = await connection.execute(select(*columns).order_by(reported_metrics.c.id))
        return [tuple(row) for row in result]


async def test_bulk_rows_read_back_as_rows_inserted_one_by_one(engine: AsyncEngine) -> None:
    bulk = await stored(engine, TRICKY, bulk=True)
    async with engine.begin() as connection:
        await connection.execute(reported_metrics.delete())
        await connection.execute(researcher.delete())
    assert bulk == await stored(engine, TRICKY, bulk=False)
    assert [row[0] for row in bulk] == [row["source"] for row in TRICKY]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_an_infinite_figure_is_kept_not_nulled(engine: AsyncEngine) -> None:
    rows = [{"source": "s", "two_year_mean_citedness": math.inf}]
    assert await stored(engine, rows, bulk=True) == [("s", math.inf)]


async def test_bulk_rows_written_first_in_a_transaction_go_with_its_rollback(
    engine: AsyncEngine,
) -> None:
    # On PostgreSQL the rows go by COPY, through the driver (db.writes.bulk.driver_of):
    # first in a transaction, before SQLAlchemy has sent anything, they must still be in it.
    now = datetime(2026, 12, 1, tzinfo=UTC)
    row = {"slug": "first", "name": "First", "name_key": "first", "created_at": now}
    async with engine.connect() as connection:
        await connection.begin()
        await insert_rows(connection, researcher, [row | {"updated_at": now}])
        await connection.rollback()
    async with engine.connect() as connection:
        assert (await connection.execute(select(researcher.c.slug))).all() == []


async def test_matching_reads_give_values_of_their_column_types(engine: AsyncEngine) -> None:
    # The reads go by the driver (db.writes.bulk._rows_matching); SQLite keeps a date as text.
    now = datetime(2026, 12, 1, tzinfo=UTC)
    row = {"title": "Dated", "title_key": "dated", "year": 2021, "published_on": date(2021, 6, 1)}
    async with engine.begin() as connection:
        await connection.execute(insert(paper), row | {"created_at": now, "updated_at": now})
        (found,) = await papers_matching(
            connection,
            openalex_ids=(),
            semantic_scholar_ids=(),
            arxiv_ids=(),
            dois=(),
            title_keys={"dated"},
        )
    values = dict(zip(PAPER_COLUMNS, found, strict=True))
    assert values["published_on"] == date(2021, 6, 1)
    assert (values["title_key"], values["year"]) == ("dated", 2021)
