"""Alembic, driven from code: the command line and the tests call these.

The server itself only asks whether the database is at the newest migration
(/ready): `current_revision` and `declared_head` answer that without importing
alembic, which brings mako and pygments and cost each worker 7 MB of its ~125.
Alembic is imported by the functions that migrate.
"""

from __future__ import annotations

import ast
import asyncio
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection

from db.engine import create_engine

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.runtime.environment import NameFilterParentNames, NameFilterType

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"  # alembic's record of the revision a database is at


def alembic_config(url: str) -> Config:
    from alembic.config import Config

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
    from alembic import command

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
    """The newest migration, as alembic reads the scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


@cache
def declared_head() -> str | None:
    """The newest migration as the scripts declare it, read without alembic: the one
    revision no other script names as its `down_revision` (the history is one line).
    tests/db/test_migrations.py holds it equal to `head_revision`."""
    parents: dict[str, str | None] = {}
    for script in (MIGRATIONS / "versions").glob("*.py"):
        assigned = _constants(script)
        parents[ast.literal_eval(assigned["revision"])] = ast.literal_eval(
            assigned.get("down_revision", ast.Constant(None))
        )
    heads = set(parents) - set(parents.values())
    if len(heads) > 1:
        raise RuntimeError(f"the migrations have several heads: {sorted(heads)}")
    return next(iter(heads), None)


def _constants(script: Path) -> dict[str, ast.expr]:
    """What a script assigns to plain names at its top level (revision = "0008", ...)."""
    assigned: dict[str, ast.expr] = {}
    for node in ast.parse(script.read_text()).body:
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            targets: list[ast.expr] = [node.target]
        elif isinstance(node, ast.Assign):
            targets = node.targets
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and node.value is not None:
                assigned[target.id] = node.value
    return assigned


async def current_revision(connection: AsyncConnection) -> str | None:
    """The revision the database is at, from alembic's version table; None before any."""

    def read(sync: Any) -> str | None:
        if not inspect(sync).has_table(VERSION_TABLE):
            return None
        stamped = sync.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
        if len(stamped) > 1:
            raise RuntimeError(f"the database is stamped with several revisions: {stamped}")
        return stamped[0] if stamped else None

    return await connection.run_sync(read)


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
