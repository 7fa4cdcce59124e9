"""Statements over API tokens. Only hashes of secrets are stored, read or compared here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from db.tables import AnyRow, api_token


async def insert_token(
    connection: AsyncConnection,
    *,
    name: str,
    secret_hash: str,
    scopes: Sequence[str],
    now: datetime,
) -> None:
    """A new token; IntegrityError when the name is taken."""
    await connection.execute(
        insert(api_token).values(
            name=name, secret_hash=secret_hash, scopes=" ".join(scopes), created_at=now
        )
    )


async def token_by_hash(connection: AsyncConnection, secret_hash: str) -> AnyRow | None:
    """The token whose secret hashes to this, revoked or not; None when there is none."""
    statement = select(
        api_token.c.id, api_token.c.scopes, api_token.c.revoked_at, api_token.c.last_used_at
    ).where(api_token.c.secret_hash == secret_hash)
    return (await connection.execute(statement)).first()


async def all_tokens(connection: AsyncConnection) -> Sequence[AnyRow]:
    """Every token without its hash, oldest first."""
    statement = select(
        api_token.c.name,
        api_token.c.scopes,
        api_token.c.created_at,
        api_token.c.revoked_at,
        api_token.c.last_used_at,
    ).order_by(api_token.c.created_at, api_token.c.id)
    return (await connection.execute(statement)).all()


async def revoke_token(connection: AsyncConnection, name: str, *, now: datetime) -> bool:
    """Mark the named token revoked (once); False when no unrevoked token has that name."""
    statement = (
        update(api_token)
        .where(api_token.c.name == name, api_token.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return (await connection.execute(statement)).rowcount > 0


async def token_exists(connection: AsyncConnection, name: str) -> bool:
    statement = select(api_token.c.id).where(api_token.c.name == name)
    return (await connection.execute(statement)).first() is not None


async def touch_token(
    connection: AsyncConnection, token_id: int, *, now: datetime, stale_before: datetime
) -> None:
    """Record a use, unless one was recorded after `stale_before` (one write a minute at most)."""
    statement = (
        update(api_token)
        .where(
            api_token.c.id == token_id,
            or_(api_token.c.last_used_at.is_(None), api_token.c.last_used_at < stale_before),
        )
        .values(last_used_at=now)
    )
    await connection.execute(statement)
