"""Transaction-scoped locks on natural keys, so find-or-create is atomic on PostgreSQL.

A writer that looks a row up by a key it does not own yet (a researcher's name
key, a DOI, an institution's slug) and inserts it when absent must not race
another writer doing the same: both would see nothing and both would insert.
Holding an advisory lock on (namespace, key) before the lookup queues them;
the second sees the row the first committed. Locks are taken in sorted order,
so two writers holding several keys cannot deadlock, and are released when the
transaction ends. SQLite needs none: its writers are serialised by
BEGIN IMMEDIATE.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import Integer, Text


async def hold_keys(connection: AsyncConnection, namespace: str, keys: Iterable[str]) -> None:
    """Wait for, then hold until commit, the lock of each `namespace:key` (PostgreSQL only)."""
    await hold_all_keys(connection, {namespace: keys})


# Namespace by namespace in sorted order, each one's keys sorted: one statement for them all.
_HOLD_ALL = text(
    "SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0)))"
    " FROM (SELECT k FROM unnest(:ranks, :keys) AS given(r, k) ORDER BY r, k) AS keys"
).bindparams(bindparam("ranks", type_=ARRAY(Integer)), bindparam("keys", type_=ARRAY(Text)))


async def hold_all_keys(connection: AsyncConnection, keys: Mapping[str, Iterable[str]]) -> None:
    """hold_keys for each namespace of `keys`, namespaces in sorted order, in one round trip."""
    if connection.dialect.name != "postgresql":
        return
    ranks: list[int] = []
    named: list[str] = []
    for rank, namespace in enumerate(sorted(keys)):
        listed = {f"{namespace}:{key}" for key in keys[namespace]}
        ranks += [rank] * len(listed)
        named += listed
    if named:
        await connection.execute(_HOLD_ALL, {"ranks": ranks, "keys": named})
