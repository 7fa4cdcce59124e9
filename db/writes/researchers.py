"""Statements that write researchers and their aliases."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from db.names import make_slug
from db.queries.matching import taken_slugs
from db.tables import AnyRow, researcher, researcher_alias
from db.writes.keys import RESEARCHER_SLUG
from db.writes.locks import hold_keys


async def lock_researchers(
    connection: AsyncConnection, researcher_ids: Iterable[int], *, for_change: bool
) -> dict[int, AnyRow]:
    """These researchers by id, locked in id order on PostgreSQL until the transaction ends.

    `for_change` takes the row lock an update or delete needs; otherwise a key-share
    lock only keeps the rows from being deleted (by a merge) while they are referenced.
    """
    statement = (
        select(researcher)
        .where(researcher.c.id.in_(sorted(set(researcher_ids))))
        .order_by(researcher.c.id)
    )
    locked = (
        statement.with_for_update()
        if for_change
        else statement.with_for_update(read=True, key_share=True)
    )
    return {row.id: row for row in (await connection.execute(locked)).all()}


async def hold_researchers(
    connection: AsyncConnection, researcher_ids: Iterable[int] | None
) -> None:
    """Lock these researchers' rows (everyone's when None) in id order against other
    writers, not against references."""
    statement = select(researcher.c.id).order_by(researcher.c.id).with_for_update(key_share=True)
    if researcher_ids is not None:
        statement = statement.where(researcher.c.id.in_(sorted(set(researcher_ids))))
    await connection.execute(statement)


async def claim_slug(connection: AsyncConnection, name: str) -> str:
    """A slug made from `name` that no researcher has, kept from other writers until commit.

    Slugs are chosen by looking at the taken ones; two writers looking at once
    would pick the same. The lock on the slug's base queues them, and each
    sees the slug the previous one committed. A writer adding several
    researchers holds all their bases first (hold_slug_bases), in one call.
    """
    base = make_slug(name)
    await hold_keys(connection, RESEARCHER_SLUG, [base])
    return make_slug(name, taken=await taken_slugs(connection, base))


async def hold_slug_bases(connection: AsyncConnection, names: Iterable[str]) -> None:
    """Hold the slug bases of researchers about to be added, in the locks' one order."""
    await hold_keys(connection, RESEARCHER_SLUG, [make_slug(name) for name in names])


async def insert_researcher(connection: AsyncConnection, values: Mapping[str, Any]) -> int:
    statement = insert(researcher).values(**values).returning(researcher.c.id)
    return int((await connection.execute(statement)).scalar_one())


async def update_researcher(
    connection: AsyncConnection, researcher_id: int, values: Mapping[str, Any]
) -> None:
    statement = update(researcher).where(researcher.c.id == researcher_id).values(**values)
    await connection.execute(statement)


async def alias_keys_of(connection: AsyncConnection, researcher_id: int) -> set[str]:
    statement = select(researcher_alias.c.alias_key).where(
        researcher_alias.c.researcher_id == researcher_id
    )
    return set((await connection.execute(statement)).scalars())


async def insert_aliases(
    connection: AsyncConnection, researcher_id: int, aliases: Sequence[tuple[str, str]]
) -> None:
    """(alias, alias key) pairs; the keys must be new for this researcher."""
    rows = [{"researcher_id": researcher_id, "alias": a, "alias_key": k} for a, k in aliases]
    if rows:
        await connection.execute(insert(researcher_alias), rows)


async def replace_aliases(
    connection: AsyncConnection, researcher_id: int, aliases: Sequence[tuple[str, str]]
) -> None:
    await connection.execute(
        delete(researcher_alias).where(researcher_alias.c.researcher_id == researcher_id)
    )
    await insert_aliases(connection, researcher_id, aliases)
