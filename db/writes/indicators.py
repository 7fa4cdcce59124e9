"""Keeping researcher_indicators (the leaderboard figures) in step with the papers.

Every write that changes who wrote a paper or how often it is cited calls
`refresh_indicators` for the researchers it touched, in its own
transaction, so a leaderboard read after the commit ranks by current
figures. The figures come from the same SQL definition as always
(db.queries.researchers.researcher_stats).

Two writers that change papers of the same researcher would otherwise each
compute that researcher's figures without the other's change, and the last
to commit would win with a stale h-index. So the refresh first locks the
researchers (in id order, FOR NO KEY UPDATE on PostgreSQL, which does not
block the key-share locks of foreign key checks); each refresh then reads
what the previous writer committed. On SQLite the write lock serialises
writers already.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Insert, Select, delete, exists, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.queries.researchers import researcher_stats
from db.tables import researcher, researcher_indicators
from db.writes.researchers import hold_researchers

CHUNK = 1000  # ids per statement, well under every driver's parameter limit


def indicators_insert(researcher_ids: Sequence[int] | Select[Any] | None = None) -> Insert:
    """INSERT ... SELECT of the figures of these researchers (all when None)."""
    stats = researcher_stats(researcher_ids)
    figures: Any = select(
        researcher.c.id,
        func.coalesce(stats.c.paper_count, 0),
        func.coalesce(stats.c.citation_count, 0),
        func.coalesce(stats.c.h_index, 0),
    ).outerjoin(stats, stats.c.researcher_id == researcher.c.id)
    if researcher_ids is not None:
        figures = figures.where(researcher.c.id.in_(researcher_ids))
    columns = ["researcher_id", "paper_count", "citation_count", "h_index"]
    return insert(researcher_indicators).from_select(columns, figures)


def missing_indicators_insert() -> Insert:
    """INSERT ... SELECT of the figures of every researcher who has no row yet."""
    has_row = exists().where(researcher_indicators.c.researcher_id == researcher.c.id)
    return indicators_insert(select(researcher.c.id).where(~has_row))


async def refresh_all_indicators(connection: AsyncConnection) -> None:
    """Recompute everyone's figures in one statement, every researcher held first (in id
    order, as refresh_indicators holds those it recomputes, so the two queue alike)."""
    await hold_researchers(connection, None)
    await refresh_indicators(connection)


async def refresh_indicators(
    connection: AsyncConnection, researcher_ids: Iterable[int] | None = None
) -> None:
    """Recompute the leaderboard figures of these researchers (of everyone when None)."""
    if researcher_ids is None:
        await connection.execute(delete(researcher_indicators))
        await connection.execute(indicators_insert())
        return
    ids = sorted(set(researcher_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        await hold_researchers(connection, chunk)
        await connection.execute(
            delete(researcher_indicators).where(researcher_indicators.c.researcher_id.in_(chunk))
        )
        await connection.execute(indicators_insert(chunk))
