"""Bearer tokens: how a secret is made, stored and checked before a mutation runs.

A secret is "sg_" and 32 random bytes in URL-safe base64; the prefix makes a
leaked one easy to recognise (and to search for). Only its SHA-256 is stored,
and a presented secret is looked up by its hash: the comparison happens on
digests of a value nobody can steer, so no timing leaks the secret.

Reads never come here: a query needs no token. (The rate limiter, in
api/ratelimit.py, looks a token up to count it by itself, at most once a
minute.) The first mutation of a request checks the header once; the others
reuse the answer.

- UnauthenticatedError (code UNAUTHENTICATED): no bearer token, or one that is
  unknown or revoked. The three look the same to the caller on purpose.
- ForbiddenError (code FORBIDDEN): a valid token without the write scope.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError

from db.queries import tokens
from resolvers.context import Context
from resolvers.errors import ForbiddenError, UnauthenticatedError

SECRET_PREFIX = "sg_"
WRITE_SCOPE = "write"
SCOPES = ("read", WRITE_SCOPE)
# last_used_at is written at most once a minute per token, not on every mutation.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def bearer_secret(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None for any other header."""
    scheme, _, secret = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


async def require_write_scope(context: Context) -> None:
    """Raise unless the request's token is known, unrevoked and has the write scope."""
    if context.may_write:
        return
    secret = bearer_secret(context.authorization)
    if secret is None:
        raise UnauthenticatedError(
            "Writes need an 'Authorization: Bearer <token>' header; "
            "create a token with `scholargraph token create NAME --scope write`."
        )
    token = await _token_by_hash(context, hash_secret(secret))
    if token is None or token.revoked_at is not None:
        raise UnauthenticatedError("The bearer token is unknown or revoked.")
    if WRITE_SCOPE not in token.scopes.split():
        raise ForbiddenError("The bearer token does not have the write scope.")
    await _record_use(context, token.id, token.last_used_at)
    context.may_write = True


async def _token_by_hash(context: Context, hashed: str) -> Any:
    """The token's row, on a connection held only for the look-up (a write may then wait
    long for its lock). The read engine does not ping what it checks out: a connection
    the server closed (a restart) is replaced once, as read snapshots do."""
    for attempt in (1, 2):
        try:
            async with context.engine.connect() as connection:
                return await tokens.token_by_hash(connection, hashed)
        except DBAPIError as error:
            if attempt == 2 or not error.connection_invalidated:
                raise
    raise AssertionError("unreachable")


async def _record_use(context: Context, token_id: int, last_used_at: datetime | None) -> None:
    now = datetime.now(UTC)
    stale_before = now - LAST_USED_RESOLUTION
    if last_used_at is not None and _as_utc(last_used_at) >= stale_before:
        return
    async with context.writer.begin() as connection:
        await tokens.touch_token(connection, token_id, now=now, stale_before=stale_before)


def _as_utc(moment: datetime) -> datetime:
    # SQLite hands back the UTC wall time without its offset.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
