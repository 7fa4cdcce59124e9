"""PostgreSQL: what an import's rows refer to, checked once per transaction instead of row by row.

PostgreSQL checks each foreign key of each row written with a trigger: it
looks the parent row up by its index and locks it (FOR KEY SHARE), and the
lock is written to the WAL. An import inserts a dozen-odd such rows a work
(bylines, their institutions, counts by year, the papers' institutions), and
the checks were over a third of the server's CPU: at 100,000 generated
works, 15.3 s with them, 9.9 s without.

A transaction whose role may set session_replication_role (a superuser; from
PostgreSQL 15, a role granted SET on it) sets it to `replica` for itself
alone (SET LOCAL): PostgreSQL then fires no foreign-key trigger for the
transaction's rows. The triggers the schema declares itself still fire
(migration 0009 made them ENABLE ALWAYS). What the checks guaranteed is kept
another way: the rows written are tallied by the parents they name (`note`),
and before the commit one statement per parent table locks the stored ones
FOR KEY SHARE, as the checks would have, and fails the transaction with
ReferencedRowGone when one has gone: a researcher deleted by another writer
between the batch's read and its write. A delete that comes after the lock
waits for the commit, and its cascade then takes the new rows with it. Rows
the transaction inserted itself need no lock: no one else sees them yet.

Such a transaction must not delete a row other tables refer to: the cascade
is a trigger too. An import deletes only counts by year and id-less names.

A role that may not set it keeps the row-by-row checks; nothing else changes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import cache
from typing import Any

from sqlalchemy import Column, Table, any_, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

_TALLY = "reference_tally"
_MAY_SKIP = "may_skip_reference_checks"


class ReferencedRowGoneError(RuntimeError):
    """Rows the transaction wrote refer to rows another writer deleted meanwhile."""

    def __init__(self, table: str, keys: Sequence[Any]) -> None:
        shown = ", ".join(str(key) for key in keys[:5]) + (", ..." if len(keys) > 5 else "")
        super().__init__(
            f"{table} {shown}: deleted by another writer while this transaction wrote rows"
            " that refer to it; nothing of the transaction was written"
        )
        self.table = table
        self.keys = list(keys)


class _Tally:
    """Parent keys named by the transaction's rows, and the parents it inserted itself."""

    def __init__(self) -> None:
        self.named: dict[Column[Any], set[Any]] = {}
        self.inserted: dict[Column[Any], set[Any]] = {}


@asynccontextmanager
async def checked_at_commit(connection: AsyncConnection) -> AsyncIterator[bool]:
    """The caller's transaction without row-by-row reference checks, when the role may.

    Yields whether it is so. The rows written meanwhile through db.writes.bulk
    are tallied; on leaving without an error, the stored parents they name are
    locked (ReferencedRowGoneError if one has gone). Use it around everything
    the transaction writes, and commit right after.
    """
    if not await _may_skip(connection):
        yield False
        return
    await connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
    connection.info[_TALLY] = tally = _Tally()
    try:
        yield True
    finally:
        del connection.info[_TALLY]  # the connection outlives the transaction (pool)
    await _hold(connection, tally)


def note(
    connection: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]], *, inserted: bool
) -> None:
    """Tally what these rows refer to, if the checks wait; `inserted` ones all set the same
    columns."""
    tally: _Tally | None = connection.info.get(_TALLY)
    if tally is None or not rows:
        return
    for key in table.foreign_keys:
        name = key.parent.name
        values = tally.named.setdefault(key.column, set())
        values.update(row.get(name) for row in rows)  # an update may leave it alone
        values.discard(None)
    first = rows[0]
    if inserted:
        for column in table.primary_key.columns:
            if column.name in first and _is_referred_to(column):
                tally.inserted.setdefault(column, set()).update(row[column.name] for row in rows)


def refuse_delete(connection: AsyncConnection, table: Table) -> None:
    """A delete from a table others refer to needs its cascade's trigger: refused here."""
    if _TALLY in connection.info and any(map(_is_referred_to, table.columns)):
        raise RuntimeError(f"{table.name}: a delete would skip its cascade (db.writes.references)")


async def _may_skip(connection: AsyncConnection) -> bool:
    """Whether the role may set session_replication_role: asked once per connection."""
    if connection.dialect.name != "postgresql":
        return False
    may: bool | None = connection.info.get(_MAY_SKIP)
    if may is None:
        version = connection.dialect.server_version_info or (0,)
        question = (
            "SELECT has_parameter_privilege('session_replication_role', 'SET')"
            if version >= (15,)
            else "SELECT current_setting('is_superuser') = 'on'"
        )
        may = bool((await connection.exec_driver_sql(question)).scalar_one())
        connection.info[_MAY_SKIP] = may
    return may


async def _hold(connection: AsyncConnection, tally: _Tally) -> None:
    """Lock the stored parents the rows name, as the checks would have; fail if one has gone."""
    for column, keys in tally.named.items():
        wanted = sorted(keys - tally.inserted.get(column, set()))
        if not wanted:
            continue
        given = literal(wanted, ARRAY(column.type))
        locked = (
            select(column).where(column == any_(given)).with_for_update(key_share=True).subquery()
        )
        # A count, not the keys: the rows came back only to be counted (a few thousand a
        # transaction); which are gone is asked only when some are.
        count = (await connection.execute(select(func.count()).select_from(locked))).scalar_one()
        if count < len(wanted):
            held = set(
                (await connection.execute(select(column).where(column == any_(given)))).scalars()
            )
            raise ReferencedRowGoneError(column.table.name, _missing(wanted, held))


def _missing(wanted: Iterable[Any], held: set[Any]) -> list[Any]:
    return [key for key in wanted if key not in held]


@cache
def _is_referred_to(column: Column[Any]) -> bool:
    return any(
        key.column is column
        for table in column.table.metadata.tables.values()
        for key in table.foreign_keys
    )
