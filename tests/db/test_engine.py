"""Read snapshots: one connection per request, given back however the request ends."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.engine import ReadSnapshot, create_engine
from resolvers.context import Context
from schema import schema


async def count_researchers(connection: AsyncConnection) -> int:
    return int((await connection.execute(text("SELECT count(*) FROM researcher"))).scalar_one())


async def test_a_snapshot_opens_nothing_until_its_first_read(engine: AsyncEngine) -> None:
    snapshot = ReadSnapshot(engine)
    assert engine.sync_engine.pool.checkedout() == 0
    assert await snapshot.run(count_researchers) == 0
    assert engine.sync_engine.pool.checkedout() == 1
    await snapshot.close()
    assert engine.sync_engine.pool.checkedout() == 0


async def test_a_closed_snapshot_refuses_to_open_again(engine: AsyncEngine) -> None:
    snapshot = ReadSnapshot(engine)
    await snapshot.close()
    with pytest.raises(RuntimeError, match="this snapshot is closed"):
        await snapshot.run(count_researchers)
    assert engine.sync_engine.pool.checkedout() == 0


async def test_a_cancelled_request_gives_its_connection_back(engine: AsyncEngine) -> None:
    first_read = asyncio.Event()

    def note(*_args: Any) -> None:
        first_read.set()

    event.listen(engine.sync_engine, "after_cursor_execute", note)
    context = Context.for_request(engine)
    query = '{ researcher(slug: "nobody") { name } researchers(first: 5) { totalCount } }'
    request = asyncio.ensure_future(schema.execute(query, context_value=context))
    await first_read.wait()
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
    event.remove(engine.sync_engine, "after_cursor_execute", note)
    assert engine.sync_engine.pool.checkedout() == 0


async def backend_pid(connection: AsyncConnection) -> int:
    return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_snapshot_reads_again_when_the_server_closed_its_pooled_connection(
    database_url: str,
) -> None:
    # As after a restart of the server: the pool still holds a connection that is gone.
    engine = create_engine(database_url, pre_ping=False)  # no ping to find it out
    admin = create_engine(database_url)
    try:
        snapshot = ReadSnapshot(engine)
        pid = await snapshot.run(backend_pid)
        await snapshot.close()
        async with admin.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        checkouts: list[object] = []
        event.listen(engine.sync_engine.pool, "checkout", lambda *args: checkouts.append(args))
        snapshot = ReadSnapshot(engine)
        assert await snapshot.run(count_researchers) == 0
        await snapshot.close()
        assert len(checkouts) == 2  # the closed connection, then a fresh one
    finally:
        await admin.dispose()
        await engine.dispose()
