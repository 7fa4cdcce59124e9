"""Statements over institutions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.tables import AnyRow, institution


async def institutions_by_ids(connection: AsyncConnection, ids: Sequence[int]) -> list[AnyRow]:
    statement = select(institution).where(institution.c.id.in_(ids))
    return list((await connection.execute(statement)).all())


async def institution_by_slug(connection: AsyncConnection, slug: str) -> AnyRow | None:
    statement = select(institution).where(institution.c.slug == slug)
    return (await connection.execute(statement)).first()
