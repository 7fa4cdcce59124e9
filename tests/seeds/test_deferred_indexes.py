"""A large import leaves some indexes to its end (db.writes.indexes): same rows, indexes back.

The threshold is lowered so that a fixture of a few hundred works crosses it
after its first batch; at its default an import drops them after 10,000.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from db.engine import create_engine
from db.writes import indexes
from seeds.importer import StrictImportError, import_records, parsed
from seeds.jsonrecords import read_records
from seeds.openalex import author_from_openalex, work_from_openalex
from tests.seeds.test_bulk_equivalence import authors_of, import_all, varied_works
from tests.seeds.test_matching import write_lines


async def missing(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        return await indexes.missing(connection)


async def missing_at(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        return await missing(engine)
    finally:
        await engine.dispose()


async def test_an_import_that_defers_its_indexes_writes_the_same_rows_and_builds_them(
    database_url: str, second_url: str, tmp_path: Path
) -> None:
    works = varied_works(200, seed=5)
    first = write_lines(tmp_path / "first.jsonl", works[: len(works) // 2])
    second = write_lines(tmp_path / "second.jsonl", works[len(works) // 2 :])
    authors = write_lines(tmp_path / "authors.jsonl", authors_of(works))
    files: list[tuple[Path, Any]] = [
        (first, work_from_openalex),
        (authors, author_from_openalex),
        (second, work_from_openalex),
        (first, work_from_openalex),
    ]
    kept = await import_all(database_url, files, batch_size=40, defer_indexes_after=None)
    deferred = await import_all(second_url, files, batch_size=40, defer_indexes_after=1)
    # The first file, into an empty database, drops them once a batch is written; the
    # others find more papers stored than they write, and keep them.
    assert [summary[3] for summary in deferred[0]] == [True, False, False, False]
    assert not any(summary[3] for summary in kept[0])
    assert [summary[:3] for summary in deferred[0]] == [summary[:3] for summary in kept[0]]
    for table, rows in kept[1].items():
        assert deferred[1][table] == rows, table
    assert await missing_at(database_url) == await missing_at(second_url) == []


async def test_an_import_that_fails_after_dropping_them_still_builds_them(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    works = varied_works(300, seed=8)
    path = write_lines(tmp_path / "works.jsonl", works)
    with path.open("a") as out:
        out.write("{not json\n")
    with pytest.raises(StrictImportError, match="not JSON"):
        await import_records(
            sessions,
            parsed(read_records(path), work_from_openalex),
            strict=True,
            batch_size=40,
            defer_indexes_after=1,
        )
    assert await missing(engine) == []
    async with engine.connect() as connection:
        written = (await connection.execute(text("SELECT count(*) FROM paper"))).scalar_one()
    assert written >= 300  # the batches before the bad line stay written


async def test_indexes_a_crashed_import_left_dropped_are_built_by_the_next_import(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    async with engine.begin() as connection:
        await indexes.drop(connection)
    assert await missing(engine) == indexes.deferred_names(engine.dialect.name)
    path = write_lines(tmp_path / "one.jsonl", varied_works(3, seed=2))
    summary = await import_records(sessions, parsed(read_records(path), work_from_openalex))
    assert summary.created > 0
    assert await missing(engine) == []
