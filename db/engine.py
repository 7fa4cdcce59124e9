"""The async engine, session factory and read snapshots; the database URL is always passed in."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as sa_create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from db.direct import Direct

SQLITE_BUSY_TIMEOUT_MS = 5000
# Connections an engine that serves reads keeps (`read_pool`), unless configured.
POSTGRES_READ_CONNECTIONS = 10
SQLITE_READ_CONNECTIONS = 2

T = TypeVar("T")


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(
    url: str,
    *,
    statement_timeout_ms: int | None = None,
    echo: bool = False,
    pre_ping: bool = True,
    pool_size: int | None = None,
    max_overflow: int | None = None,
) -> AsyncEngine:
    """An async engine for a sqlite+aiosqlite or postgresql+asyncpg URL, tuned for each.

    On PostgreSQL the pool pings each connection it hands out (`pre_ping`), so a
    server restart costs no failed request; that is a round trip per checkout. An
    engine that only serves `ReadSnapshot`s can do without: a snapshot whose
    first read finds its connection closed opens another and reads again.
    `pool_size` caps the connections kept, and `max_overflow` those opened past
    them for one checkout (by default as many again); without, SQLAlchemy's 5
    and 10. It matters on SQLite too: a connection past
    the kept ones is opened and closed for one request, and on SQLite that is a
    thread and a page cache read again from cold.
    """
    pool: dict[str, Any] = {}
    if pool_size is not None:
        overflow = pool_size if max_overflow is None else max_overflow
        pool = {"pool_size": pool_size, "max_overflow": overflow}
    if is_sqlite(url):
        engine = sa_create_async_engine(url, echo=echo, **pool)
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
        return engine
    server_settings = {"application_name": "scholargraph"}
    if statement_timeout_ms:
        server_settings["statement_timeout"] = str(statement_timeout_ms)
    return sa_create_async_engine(
        url,
        echo=echo,
        pool_pre_ping=pre_ping,
        connect_args={"server_settings": server_settings},
        **pool,
    )


class ReadPool(NamedTuple):
    size: int
    overflow: int | None  # None: as many again as `size`


def read_pool(url: str, size: int | None = None) -> ReadPool:
    """`create_engine`'s pool for an engine that serves reads: `size` or the default.

    PostgreSQL: 10 connections kept, and as many again opened when busy. SQLite:
    2, and none past them; a read waits for one. There every connection is a
    thread of its own (aiosqlite) and each statement hands the GIL between it and
    the event loop: with eight requests at once on eight connections, the threads
    spent a third of the process's CPU switching on futexes (perf), and a profile
    page was served at half the rate of one request at a time. SQLite's own work
    runs outside the GIL, so two connections keep both cores busy.
    """
    if is_sqlite(url):
        return ReadPool(size or SQLITE_READ_CONNECTIONS, overflow=0)
    return ReadPool(size or POSTGRES_READ_CONNECTIONS, overflow=None)


def create_write_engine(url: str, *, statement_timeout_ms: int | None = None) -> AsyncEngine:
    """The engine mutations write through: on SQLite each transaction begins IMMEDIATE.

    SQLite has one writer at a time. A transaction that begins DEFERRED, reads, and
    then writes may find another writer got there first; it then fails at once with
    "database is locked" instead of waiting, since waiting could not help its stale
    snapshot. BEGIN IMMEDIATE takes the write lock up front, so writers queue on
    busy_timeout and each one reads what the previous one committed. Reads keep
    their own engine (`create_engine`): taking the write lock for them would
    serialise every request. On PostgreSQL the write engine is a plain engine of
    its own; writers lock the rows they change (SELECT ... FOR UPDATE).
    """
    engine = create_engine(url, statement_timeout_ms=statement_timeout_ms)
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _leave_transactions_to_us)
        event.listen(engine.sync_engine, "begin", _begin_immediate)
    return engine


def _leave_transactions_to_us(dbapi_connection: Any, _record: Any) -> None:
    # The sqlite3 driver would BEGIN (DEFERRED) by itself before the first write.
    dbapi_connection.isolation_level = None


def _begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers go on while one writer commits; foreign keys are off by
    # default in SQLite and our cascades depend on them.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


class SecondStatementError(Exception):
    """A snapshot opened for one statement was asked for another (see ReadSnapshot)."""


class ReadSnapshot:
    """One connection and one read-only transaction for all the reads of one request.

    The reads of a request (a profile page: the researcher, their papers, the
    bylines, the metrics) then see one state of the database, never half of a
    write that committed between two of them, and cost one checkout and one
    BEGIN instead of one of each per statement. The transaction is REPEATABLE
    READ READ ONLY on PostgreSQL; on SQLite a deferred BEGIN, whose first read
    fixes the snapshot (in WAL mode writers go on meanwhile).

    Nothing is opened until the first read, and `close` must be called when the
    request ends (it is safe to call when nothing was opened). DataLoader batches
    run concurrently while a connection runs one statement at a time, so `run`
    lets one piece of work at a time onto the connection.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._connection: AsyncConnection | None = None
        self._lock = asyncio.Lock()
        self._closed = False
        # A reader that expects one statement asks for no transaction (a statement is its
        # own snapshot): no BEGIN and no ROLLBACK round trips (expect_one_statement). It may
        # then `fetch` one statement; a second, or any `run`, raises SecondStatementError,
        # and the reader starts again on a snapshot with a transaction.
        self.single_statement = False
        self._statements = 0

    async def run(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run `work` on the snapshot's connection, opening the snapshot if need be."""
        async with self._lock:
            if self.single_statement:
                raise SecondStatementError  # `work` may run several statements
            if self._connection is not None:
                return await work(self._connection)
            if self._closed:
                # A batch that a cancelled request left scheduled: it would open a
                # connection nobody closes.
                raise RuntimeError("this snapshot is closed: its request has ended")
            connection = await self._open()
            try:
                return await work(connection)
            except DBAPIError as error:
                if not error.connection_invalidated:
                    raise
            # The server closed the pooled connection (a restart) before anything was
            # read: the snapshot has not begun, so a fresh connection may start it.
            await self._drop()
            return await work(await self._open())

    @property
    def dialect(self) -> str:
        """ "postgresql" or "sqlite": which `Direct` statements this snapshot runs."""
        return self.engine.dialect.name

    async def fetch(self, statement: Direct, parameters: dict[str, Any]) -> list[Any]:
        """The rows of a `Direct` statement, read on the driver inside the snapshot.

        The statement is announced to the engine's `before_cursor_execute`
        listeners as SQLAlchemy would (the request log and the tests count
        statements there). A driver error ends the snapshot's connection, so that
        whoever reads next (the reference executor, answering the request again)
        starts on a fresh one and reports the error in its own terms.
        """
        async with self._lock:
            if self._closed:
                raise RuntimeError("this snapshot is closed: its request has ended")
            self._count_statement()
            connection = self._connection or await self._open()
            sync_connection = connection.sync_connection
            assert sync_connection is not None
            adapted: Any = sync_connection.connection.dbapi_connection
            values = statement.parameters(parameters)
            announce = self.engine.sync_engine.dispatch.before_cursor_execute
            announce(sync_connection, None, statement.sql, values, None, False)
            try:
                if connection.dialect.name == "sqlite":
                    fetched = await adapted.driver_connection.execute_fetchall(
                        statement.sql, values
                    )
                else:
                    if adapted._transaction is None and not self.single_statement:
                        await adapted._start_transaction()  # what its first statement would do
                    fetched = await adapted.driver_connection.fetch(statement.sql, *values)
            except BaseException:
                self._connection = None
                await asyncio.shield(_close_quietly(connection))
                raise
        return statement.rows(fetched)

    def expect_one_statement(self) -> bool:
        """Read the next statement in no transaction, if nothing was read yet (see __init__)."""
        if self._connection is None and self._statements == 0 and not self._closed:
            self.single_statement = True
        return self.single_statement

    def _count_statement(self) -> None:
        self._statements += 1
        if self.single_statement and self._statements > 1:
            raise SecondStatementError

    async def close(self) -> None:
        """End the transaction and give the connection back to the pool."""
        async with self._lock:
            self._closed = True
            await self._drop()

    async def _open(self) -> AsyncConnection:
        connection = await self.engine.connect()
        if self.single_statement:
            self._connection = connection
            return connection
        try:
            if connection.dialect.name == "sqlite":
                await connection.begin()
                # SQLAlchemy's BEGIN is a no-op for the sqlite3 driver, which would run each
                # SELECT in a transaction of its own. Sent to the driver, as asyncpg sends
                # PostgreSQL's, so that it is not counted as one of the request's statements.
                raw = await connection.get_raw_connection()
                await raw.driver_connection.execute("BEGIN")  # type: ignore[union-attr]
            else:
                await connection.execution_options(
                    isolation_level="REPEATABLE READ", postgresql_readonly=True
                )
                await connection.begin()  # asyncpg sends it with the first statement
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        return connection

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        # Shielded: a request cancelled (timed out) while closing must still give the
        # connection back, or the pool would lose it.
        await asyncio.shield(_close_quietly(connection))


async def _close_quietly(connection: AsyncConnection) -> None:
    try:
        await connection.close()  # rolls back: nothing was written
    except Exception:
        # A connection whose statement was cancelled may not roll back cleanly;
        # the pool must not hand it out again.
        await connection.invalidate()
