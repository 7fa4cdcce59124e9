"""The async engine and session factory; the database URL is always passed in."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as sa_create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

SQLITE_BUSY_TIMEOUT_MS = 5000


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(
    url: str, *, statement_timeout_ms: int | None = None, echo: bool = False
) -> AsyncEngine:
    """An async engine for a sqlite+aiosqlite or postgresql+asyncpg URL, tuned for each."""
    if is_sqlite(url):
        engine = sa_create_async_engine(url, echo=echo)
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
        return engine
    server_settings = {"application_name": "scholargraph"}
    if statement_timeout_ms:
        server_settings["statement_timeout"] = str(statement_timeout_ms)
    return sa_create_async_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        connect_args={"server_settings": server_settings},
    )


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
