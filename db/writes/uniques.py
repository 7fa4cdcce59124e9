"""Who already holds a unique value, asked before a write so a clash is reported, not raised."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, select
from sqlalchemy.ext.asyncio import AsyncConnection


async def holder_of(
    connection: AsyncConnection, column: Column[Any], value: object, *, other_than: int | None
) -> int | None:
    """The id of a row (not `other_than`) whose `column` holds `value`; None when free."""
    id_column = column.table.c.id
    statement = select(id_column).where(column == value).limit(1)
    if other_than is not None:
        statement = statement.where(id_column != other_than)
    return (await connection.execute(statement)).scalar_one_or_none()
