"""Indexes a large import leaves to its end: dropped while it writes, built once after.

Each import batch inserts its bylines at random places of the researcher-keyed
index of authorship (a work's authors are anyone), and its papers at random
places of the indexes on their citation counts and dates. Such an index
costs far more kept up row by row than built once from sorted rows: every
batch dirties pages all over it, which the database then writes out (SQLite:
into the write-ahead log at each commit; PostgreSQL: full-page images and
evictions), and once it outgrows the page cache each insert reads a page
first. At a million generated works on SQLite it was over a quarter of the
import's time (425 s with it, 304 s without).

So an import that has written more than it found stored (importer) drops
these indexes and builds them again before it ends, the way a restore loads
its tables before their indexes. None is used by the import's own reads
(its matching goes by the unique ids, title keys and name keys, which stay),
and none backs a constraint, so no row can go wrong meanwhile; readers that
use them (a researcher's papers in order, lists sorted by year or by
citations) fall back to scans until the import ends. An import that dies
before it ends leaves them missing: `restore` puts them back, and every
import and `scholargraph db upgrade` (which `make run` runs first) call it.

On PostgreSQL the papers' full-text index (GIN, migration 0002) goes too: each
paper inserted adds an entry per distinct word of its title and abstract, and
its upkeep was a tenth of the server's CPU in an import, where building it
once takes a fraction of that. Searches scan the papers meanwhile (the
stored search_vector column stays, so they answer the same, more slowly).
"""

from __future__ import annotations

from sqlalchemy import Connection, Index, inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.schema import CreateIndex, DropIndex

from db.tables import authorship, paper
from db.writes.bulk import begin_writing

DEFERRED = (
    "ix_authorship_researcher_paper_order",
    "ix_paper_citation_count",
    "ix_paper_published_on_id",
    "ix_paper_year_id",
)

# Indexes the models do not declare (migration 0002), by name: how each is built.
POSTGRESQL_DEFERRED = {
    "ix_paper_search_vector": (
        "CREATE INDEX IF NOT EXISTS ix_paper_search_vector ON paper USING gin (search_vector)"
    ),
}


def deferred_names(dialect: str) -> list[str]:
    """The names of the indexes an import defers on this kind of database."""
    return [*DEFERRED, *(POSTGRESQL_DEFERRED if dialect == "postgresql" else ())]


def deferred_indexes() -> list[Index]:
    """The Index objects of DEFERRED, as the models declare them."""
    found = {str(index.name): index for table in (authorship, paper) for index in table.indexes}
    return [found[name] for name in DEFERRED]


async def missing(connection: AsyncConnection) -> list[str]:
    """The deferred indexes the database lacks, by name."""

    def read(sync: Connection) -> list[str]:
        inspector = inspect(sync)
        present = {
            index["name"]
            for table in ("authorship", "paper")
            for index in inspector.get_indexes(table)
        }
        return [name for name in deferred_names(sync.dialect.name) if name not in present]

    return await connection.run_sync(read)


async def drop(connection: AsyncConnection) -> None:
    """Drop the deferred indexes, in the caller's transaction."""
    await _begin(connection)
    for index in deferred_indexes():
        await connection.execute(DropIndex(index, if_exists=True))
    if connection.dialect.name == "postgresql":
        for name in POSTGRESQL_DEFERRED:
            await connection.execute(text(f"DROP INDEX IF EXISTS {name}"))


async def restore(connection: AsyncConnection) -> list[str]:
    """Build the deferred indexes the database lacks, in the caller's transaction; their names."""
    await _begin(connection)
    absent = await missing(connection)
    for name in absent:
        await build(connection, name)
    return absent


async def build(connection: AsyncConnection, name: str) -> None:
    """Build the deferred index `name` (unless it exists), in the caller's transaction."""
    await _begin(connection)
    if name in POSTGRESQL_DEFERRED:
        await connection.execute(text(POSTGRESQL_DEFERRED[name]))
        return
    (index,) = (index for index in deferred_indexes() if index.name == name)
    await connection.execute(CreateIndex(index, if_not_exists=True))


async def _begin(connection: AsyncConnection) -> None:
    """SQLite: begin the caller's transaction now, taking the write lock, as an import's
    batch does: its driver would otherwise run each DDL statement on its own, committed at
    once (db.writes.bulk.begin_writing)."""
    if connection.dialect.name == "sqlite":
        await begin_writing(connection)
