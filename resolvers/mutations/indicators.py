"""Keeping the leaderboard figures (researcher_indicators) right after a mutation.

Two writers that change papers of the same researcher would otherwise each
compute that researcher's figures without the other's change, and the last
to commit would win with a stale h-index. So the researchers are locked
first (in id order, FOR NO KEY UPDATE on PostgreSQL: it does not block the
key-share locks of foreign key checks); each refresh then reads what the
previous writer committed. On SQLite the write lock already serialises them.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncConnection

from db.writes.indicators import refresh_indicators
from db.writes.researchers import hold_researchers


async def refresh_figures(connection: AsyncConnection, researcher_ids: Iterable[int]) -> None:
    """Recompute the leaderboard figures of these researchers in the writer's transaction."""
    ids = sorted(set(researcher_ids))
    if not ids:
        return
    await hold_researchers(connection, ids)
    await refresh_indicators(connection, ids)
