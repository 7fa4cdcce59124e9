from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from db.migrate import current_revision, declared_head, head_revision, include_name, upgrade

ROOT = Path(__file__).resolve().parents[2]

TABLES = {
    "alembic_version",
    "api_token",
    "authorship",
    "authorship_institution",
    "category",
    "citation_year",
    "institution",
    "paper",
    "paper_category",
    "paper_institution",
    "paper_link",
    "reported_metrics",
    "researcher",
    "researcher_alias",
    "researcher_indicators",
    "researcher_institution",
    "snapshot_part",
    "unlinked_author",
}
# SQLite keeps the full-text index in an FTS5 table and its shadow tables.
SQLITE_SEARCH_TABLES = {
    "paper_search",
    "paper_search_config",
    "paper_search_data",
    "paper_search_docsize",
    "paper_search_idx",
}


async def test_migrations_create_every_table_at_the_head_revision(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        revision = await current_revision(connection)
    search_tables = SQLITE_SEARCH_TABLES if engine.dialect.name == "sqlite" else set()
    assert tables == TABLES | search_tables
    assert revision == head_revision()


async def test_the_arxiv_taxonomy_is_seeded_by_migration(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        rows = dict((await connection.execute(text("SELECT code, name FROM category"))).all())
    assert rows["cs.CL"] == "Computation and Language"
    assert rows["cs.LG"] == "Machine Learning"
    assert sum(code.startswith("cs.") for code in rows) == 40
    assert {"math", "physics", "stat", "q-bio", "econ", "eess"} <= rows.keys()


def test_the_head_the_server_reads_without_alembic_is_alembics() -> None:
    assert declared_head() == head_revision()


def test_a_served_app_does_not_load_alembic() -> None:
    """Alembic (with mako and pygments) cost each worker 7 MB; only migrating needs it."""
    probe = "import sys, api.app; api.app.create_served_app(); print('alembic' in sys.modules)"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert loaded.stdout.strip() == "False"


def test_upgrading_a_current_database_changes_nothing(database_url: str) -> None:
    upgrade(database_url)  # the fixture already migrated it; a second run must be a no-op
    upgrade(database_url)


async def test_indexes_serve_the_lookups_the_api_makes(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        indexes = await connection.run_sync(
            lambda sync: {
                table: {tuple(i["column_names"]) for i in inspect(sync).get_indexes(table)}
                for table in ("authorship", "paper")
            }
        )
    # A researcher's bylines: one index leads with researcher_id (their papers in order).
    assert [c for c in indexes["authorship"] if c[0] == "researcher_id"] == [
        ("researcher_id", "paper_sort_year", "paper_sort_date", "paper_id")
    ]
    assert ("paper_id", "position") in indexes["authorship"]
    assert ("published_on", "id") in indexes["paper"]
    assert ("primary_category",) in indexes["paper"]


# SQLite's reflection skips, with this warning, the leaderboards' expression indexes.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
async def test_the_migrations_build_exactly_the_models(engine: AsyncEngine) -> None:
    def differences(sync: object) -> list[object]:
        context = MigrationContext.configure(
            sync, opts={"include_name": include_name, "compare_type": True}
        )
        return list(compare_metadata(context, SQLModel.metadata))

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []
