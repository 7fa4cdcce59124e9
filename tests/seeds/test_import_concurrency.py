"""An import beside other writers: what they write meanwhile is found like everything else.

On SQLite a batch indexes its new papers for search in one statement, with
the indexing trigger dropped for the while (db.writes.bulk.insert_papers).
Another connection adding a paper at that moment must still have it indexed.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from db.writes.locks import hold_all_keys, hold_keys
from seeds.openalex_fixture import works as generated_works
from tests.api.conftest import open_client
from tests.seeds.test_matching import import_works, write_lines


def insert_paper(path: str, title: str, seen: dict[str, Any]) -> None:
    """Another program's connection adds a paper (the way the API's writes do: the trigger
    indexes it), waiting for the write lock as long as it must."""
    connection = sqlite3.connect(path, timeout=60, isolation_level=None)
    try:
        trigger = "SELECT count(*) FROM sqlite_master WHERE name = 'paper_search_insert'"
        seen["trigger_seen"] = connection.execute(trigger).fetchone()[0]
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(
            "INSERT INTO paper (title, title_key, has_code, authors_truncated, created_at,"
            " updated_at) VALUES (?, ?, 0, 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
            (title, title.lower()),
        )
        connection.execute("COMMIT")
    except Exception as error:  # reported by the test, not lost in the thread
        seen["error"] = error
    finally:
        connection.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_paper_another_connection_adds_mid_import_is_found_by_search(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    database_url: str,
) -> None:
    # The second file's works are by the first file's authors: its batches create no
    # researcher, so the trigger is dropped before the batch has written anything.
    records = list(generated_works(120, seed=7))
    await import_works(sessions, write_lines(tmp_path / "first.jsonl", records[:60]))
    path = database_url.removeprefix("sqlite+aiosqlite:///")
    seen: dict[str, Any] = {}
    threads: list[threading.Thread] = []

    def start_writer(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("DROP TRIGGER") and not threads:
            thread = threading.Thread(target=insert_paper, args=(path, "Zymurgy of lag", seen))
            threads.append(thread)
            thread.start()
            thread.join(0.5)  # let it reach the database while the trigger is gone

    event.listen(engine.sync_engine, "after_cursor_execute", start_writer)
    try:
        summary = await import_works(
            sessions, write_lines(tmp_path / "second.jsonl", records[60:]), batch_size=20
        )
    finally:
        event.remove(engine.sync_engine, "after_cursor_execute", start_writer)
        for thread in threads:
            thread.join()
    assert threads, "the import never dropped the trigger"
    assert "error" not in seen, seen.get("error")
    assert seen["trigger_seen"] == 1  # others never see the table without its trigger
    assert summary.created == 60
    async for client in open_client(database_url):
        found = await client.data('{ papers(query: "zymurgy") { nodes { title } } }')
    assert found["papers"]["nodes"] == [{"title": "Zymurgy of lag"}]
    async with engine.connect() as connection:  # and every imported paper is indexed
        unindexed = await connection.execute(
            text(
                "SELECT count(*) FROM paper p WHERE NOT EXISTS"
                " (SELECT 1 FROM paper_search_docsize d WHERE d.id = p.id)"
            )
        )
        assert unindexed.scalar() == 0


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_batch_holds_the_same_locks_as_other_writers_take_key_by_key(
    engine: AsyncEngine,
) -> None:
    # An import takes every namespace's keys in one statement (hold_all_keys); a writer
    # that takes one key of them (hold_keys) must wait for it, and only for those keys.
    async with engine.connect() as importing, engine.connect() as other:
        await importing.begin()
        await hold_all_keys(importing, {"paper-doi": {"10.1/a"}, "researcher-name": {"ann lee"}})
        free = text("SELECT pg_try_advisory_xact_lock(hashtextextended(:key, 0))")
        await other.begin()
        held = [
            (await other.execute(free, {"key": key})).scalar_one()
            for key in ("paper-doi:10.1/a", "researcher-name:ann lee", "researcher-name:bo li")
        ]
        assert held == [False, False, True]
        await importing.rollback()
        await hold_keys(other, "researcher-name", ["ann lee"])  # free again: no wait
        await other.rollback()
