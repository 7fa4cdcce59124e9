"""`scholargraph token ...`: make, list and revoke the bearer tokens that writes need."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from api.settings import get_settings
from db.engine import create_engine
from db.queries import tokens
from resolvers.auth import SCOPES, WRITE_SCOPE, hash_secret, new_secret

token_app = typer.Typer(help="Bearer tokens for writes (mutations). Reads need none.")
console = Console()
errors = Console(stderr=True)
T = TypeVar("T")


def run_in_transaction(work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """Run `work` in one transaction on the configured database."""

    async def main() -> T:
        engine = create_engine(get_settings().database_url)
        try:
            async with engine.begin() as connection:
                return await work(connection)
        finally:
            await engine.dispose()

    return asyncio.run(main())


@token_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="A name to tell the token by, e.g. who holds it.")],
    scope: Annotated[
        list[str] | None,
        typer.Option(help=f"A scope to grant ({', '.join(SCOPES)}); repeatable. Default: read."),
    ] = None,
) -> None:
    """Make a token and print its secret, once: only a hash of it is stored."""
    scopes = sorted(set(scope or ["read"]))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        _fail(f"unknown scope {unknown[0]!r}; scopes are {', '.join(SCOPES)}")
    secret = new_secret()

    async def work(connection: AsyncConnection) -> bool:
        if await tokens.token_exists(connection, name):
            return False
        now = datetime.now(UTC)
        await tokens.insert_token(
            connection, name=name, secret_hash=hash_secret(secret), scopes=scopes, now=now
        )
        return True

    if not run_in_transaction(work):
        _fail(f"a token named {name!r} exists already")
    console.print(secret, highlight=False, soft_wrap=True)
    errors.print(
        f"token {name!r} ({' '.join(scopes)}): this secret is shown once; send it as "
        "'Authorization: Bearer <secret>'.",
        highlight=False,
    )
    if WRITE_SCOPE not in scopes:
        errors.print("without --scope write it cannot run mutations.", highlight=False)


@token_app.command("list")
def list_tokens() -> None:
    """Every token: name, scopes, when made, revoked and last used (never the secret)."""
    rows = run_in_transaction(tokens.all_tokens)
    table = Table("name", "scopes", "created (UTC)", "revoked (UTC)", "last used (UTC)")
    for row in rows:
        table.add_row(
            row.name,
            row.scopes,
            _when(row.created_at),
            _when(row.revoked_at),
            _when(row.last_used_at),
        )
    console.print(table)


@token_app.command("revoke")
def revoke(name: Annotated[str, typer.Argument(help="The token's name.")]) -> None:
    """Revoke a token: mutations sent with it fail from now on."""

    async def work(connection: AsyncConnection) -> bool:
        return await tokens.revoke_token(connection, name, now=datetime.now(UTC))

    if not run_in_transaction(work):
        _fail(f"no unrevoked token is named {name!r}")
    console.print(f"token {name!r} revoked", highlight=False)


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M")


def _fail(message: str) -> None:
    errors.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code=1)
