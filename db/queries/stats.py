"""Row counts, for the command line's reports and for tests that check a write."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel


async def row_counts(connection: AsyncConnection) -> dict[str, int]:
    """Rows in every table, by table name, in one statement."""
    tables = sorted(SQLModel.metadata.tables.values(), key=lambda table: table.name)
    statement = select(
        *(select(func.count()).select_from(t).scalar_subquery().label(t.name) for t in tables)
    )
    row = (await connection.execute(statement)).one()
    return dict(row._mapping)


async def is_empty(connection: AsyncConnection) -> bool:
    """True when no researcher and no paper is stored yet (seed data may be loaded)."""
    counts = await row_counts(connection)
    return counts["researcher"] == 0 and counts["paper"] == 0
