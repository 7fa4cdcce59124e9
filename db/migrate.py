"""Alembic, driven from code: the command line and the tests call these."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.environment import NameFilterParentNames, NameFilterType
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncConnection

from db.engine import create_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser would read "%" in a password as interpolation.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@dataclass(frozen=True, slots=True)
class Upgrade:
    """What `upgrade` did: the revision before (None: no schema yet) and after."""

    before: str | None
    after: str | None


def upgrade(url: str, revision: str = "head") -> Upgrade:
    """Migrate the database at `url`; a no-op when it is current. Runs its own event loops."""
    before = asyncio.run(revision_at(url))
    command.upgrade(alembic_config(url), revision)
    return Upgrade(before=before, after=asyncio.run(revision_at(url)))


async def revision_at(url: str) -> str | None:
    """The revision the database at `url` is at; None when it has no schema yet."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await current_revision(connection)
    finally:
        await engine.dispose()


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


async def current_revision(connection: AsyncConnection) -> str | None:
    return await connection.run_sync(
        lambda sync: MigrationContext.configure(sync).get_current_revision()
    )


def include_name(
    name: str | None, type_: NameFilterType, parent_names: NameFilterParentNames
) -> bool:
    """Leave out what migrations made by hand, so autogenerate won't drop it."""
    if type_ == "table":
        return not (name or "").startswith("paper_search")
    if type_ == "column":
        return not (parent_names.get("table_name") == "paper" and name == "search_vector")
    if type_ == "index":
        # The leaderboards' descending indexes are on an expression (migration 0005),
        # which SQLite's reflection cannot read back.
        leaderboard = (name or "").startswith("ix_researcher_indicators_") and (
            name or ""
        ).endswith("_desc")
        return name != "ix_paper_search_vector" and not leaderboard
    return True
