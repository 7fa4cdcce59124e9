"""An import's rows and what they refer to (db.writes.references).

On PostgreSQL an import's transactions skip the row-by-row foreign-key checks
when the role may, and lock the stored rows they refer to once, before the
commit. What a user sees must not change: a researcher deleted while an
import writes their byline fails the import's transaction and leaves no
byline behind; one deleted after the import read them waits for its commit;
a role that may not skip the checks imports the same; and the schema's own
triggers (each byline's copy of its paper's date) still fire.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from db.engine import create_engine, create_session_factory
from db.tables import authorship, citation_year, paper, researcher
from db.writes import references
from db.writes.bulk import delete_of_papers
from db.writes.references import ReferencedRowGoneError
from seeds.bulk import write_batch
from seeds.openalex import work_from_openalex
from tests.conftest import PostgresServer
from tests.seeds.test_matching import authorship as byline_entry
from tests.seeds.test_matching import import_works, openalex_work, write_lines

ADA = byline_entry("Ada Reference", "A1")


async def test_an_import_that_dates_a_stored_paper_moves_it_in_its_authors_lists(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    undated = openalex_work("W1", "Dated Later", 2021, authorships=[ADA])
    del undated["publication_date"]
    other = openalex_work("W2", "Dated Now", 2021, authorships=[ADA])
    other["publication_date"] = "2021-03-01"
    await import_works(sessions, write_lines(tmp_path / "first.jsonl", [undated, other]))
    assert await newest_first(engine) == ["Dated Now", "Dated Later"]

    dated = openalex_work("W1", "Dated Later", 2021, authorships=[ADA])  # 2021-06-01
    summary = await import_works(sessions, write_lines(tmp_path / "second.jsonl", [dated]))
    assert summary.updated == 1
    assert await newest_first(engine) == ["Dated Later", "Dated Now"]
    async with engine.connect() as connection:
        keys = await connection.execute(
            select(authorship.c.paper_sort_date)
            .join(paper, paper.c.id == authorship.c.paper_id)
            .where(paper.c.openalex_id == "W1")
        )
        assert keys.scalars().all() == [date(2021, 6, 1)]


@pytest.mark.postgres
async def test_a_researcher_deleted_while_an_import_writes_their_byline_fails_it(
    postgres_url: str, ada_stored: Stored
) -> None:
    engine, sessions, ada = ada_stored

    def delete_ada(turning_to_inserts: bool) -> None:
        if turning_to_inserts:  # the batch has read and matched Ada, and writes next
            in_another_thread(delete_researcher(postgres_url, ada))

    with pytest.raises(ReferencedRowGoneError, match=f"researcher {ada}: deleted"):
        await write_one(sessions, work("W2"), inserting=delete_ada)
    assert await titles(engine) == ["Work W1"]  # the cascade took W1's byline, W2 never was
    assert await orphan_bylines(engine) == 0


@pytest.mark.postgres
async def test_a_researcher_an_import_has_written_a_byline_of_stays_until_it_commits(
    postgres_url: str, ada_stored: Stored
) -> None:
    engine, sessions, ada = ada_stored
    async with sessions() as session, session.begin():
        connection = await session.connection()
        await write_batch(connection, [work_from_openalex(work("W2"))])
        with pytest.raises(asyncpg.LockNotAvailableError):
            await delete_researcher(postgres_url, ada, lock_timeout_ms=200)
    await delete_researcher(postgres_url, ada)  # once committed, the delete goes through
    assert await orphan_bylines(engine) == 0
    assert await bylines(engine) == 0


@pytest.mark.postgres
async def test_a_role_that_may_not_skip_the_checks_imports_the_same(
    postgres_url: str, tmp_path: Path
) -> None:
    role = f"sg_importer_{uuid.uuid4().hex[:10]}"
    url = make_url(postgres_url)
    await as_owner(postgres_url, f"CREATE ROLE {role} LOGIN")
    try:
        await as_owner(
            postgres_url,
            f"GRANT USAGE ON SCHEMA public TO {role}",
            f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}",
            f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}",
        )
        limited = create_engine(url.set(username=role).render_as_string(hide_password=False))
        try:
            sessions = create_session_factory(limited)
            path = write_lines(tmp_path / "works.jsonl", [work("W1"), work("W2")])
            summary = await import_works(sessions, path)
            assert summary.created == 2
            assert await titles(limited) == ["Work W1", "Work W2"]
            ada = await researcher_id(limited, "A1")

            def delete_ada(turning_to_inserts: bool) -> None:
                if turning_to_inserts:
                    in_another_thread(delete_researcher(postgres_url, ada))

            # The row-by-row check is what stops the byline here.
            with pytest.raises(asyncpg.ForeignKeyViolationError):
                await write_one(sessions, work("W3"), inserting=delete_ada)
            assert await orphan_bylines(limited) == 0
        finally:
            await limited.dispose()
    finally:
        await as_owner(postgres_url, f"DROP OWNED BY {role}", f"DROP ROLE {role}")


# Fixtures and helpers


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh migrated PostgreSQL database."""
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database(template=request.getfixturevalue("postgres_template"))
    yield server.url_of(name)
    server.drop_database(name)


async def write_one(
    sessions: async_sessionmaker[AsyncSession],
    record: dict[str, Any],
    inserting: Callable[[bool], None],
) -> None:
    """Import one work as a batch of its own, in a transaction of its own."""
    async with sessions() as session, session.begin():
        connection = await session.connection()
        await write_batch(connection, [work_from_openalex(record)], inserting=inserting)


Stored = tuple[AsyncEngine, async_sessionmaker[AsyncSession], int]


@pytest.fixture
async def ada_stored(postgres_url: str, tmp_path: Path) -> AsyncIterator[Stored]:
    """An engine on postgres_url holding Ada's work W1; its sessions and Ada's id."""
    engine = create_engine(postgres_url)
    try:
        sessions = create_session_factory(engine)
        await import_works(sessions, write_lines(tmp_path / "ada.jsonl", [work("W1")]))
        yield engine, sessions, await researcher_id(engine, "A1")
    finally:
        await engine.dispose()


def work(work_id: str) -> dict[str, Any]:
    return openalex_work(work_id, f"Work {work_id}", 2022, authorships=[ADA])


async def newest_first(engine: AsyncEngine) -> list[str]:
    """Ada's papers as her list orders them: by the bylines' copies of the order keys."""
    statement = (
        select(paper.c.title)
        .join(authorship, authorship.c.paper_id == paper.c.id)
        .join(researcher, researcher.c.id == authorship.c.researcher_id)
        .where(researcher.c.openalex_id == "A1")
        .order_by(authorship.c.paper_sort_year.desc(), authorship.c.paper_sort_date.desc())
    )
    async with engine.connect() as connection:
        return list((await connection.execute(statement)).scalars())


async def researcher_id(engine: AsyncEngine, openalex_id: str) -> int:
    async with engine.connect() as connection:
        statement = select(researcher.c.id).where(researcher.c.openalex_id == openalex_id)
        return int((await connection.execute(statement)).scalar_one())


async def titles(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        statement = select(paper.c.title).order_by(paper.c.title)
        return list((await connection.execute(statement)).scalars())


async def bylines(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(
            (await connection.execute(select(func.count()).select_from(authorship))).scalar_one()
        )


async def orphan_bylines(engine: AsyncEngine) -> int:
    """Bylines naming a researcher or a paper that is not there."""
    async with engine.connect() as connection:
        statement = text(
            "SELECT count(*) FROM authorship a"
            " WHERE NOT EXISTS (SELECT 1 FROM researcher r WHERE r.id = a.researcher_id)"
            " OR NOT EXISTS (SELECT 1 FROM paper p WHERE p.id = a.paper_id)"
        )
        return int((await connection.execute(statement)).scalar_one())


async def delete_researcher(url: str, researcher: int, *, lock_timeout_ms: int = 0) -> None:
    """Delete a researcher (and, by cascade, their bylines) from a connection of its own."""
    connection = await asyncpg.connect(dsn(url))
    try:
        await connection.execute(f"SET lock_timeout = {lock_timeout_ms}")
        await connection.execute("DELETE FROM researcher WHERE id = $1", researcher)
    finally:
        await connection.close()


async def as_owner(url: str, *statements: str) -> None:
    connection = await asyncpg.connect(dsn(url))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def in_another_thread(coroutine: Any) -> None:
    """Run the coroutine to its end on an event loop of its own, this thread waiting for it:
    from a callback of code under test, another writer's transaction, begun and committed."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as error:  # handed to the caller
            failure.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


@pytest.mark.postgres
async def test_a_transaction_without_the_checks_refuses_deletes_that_would_cascade(
    postgres_url: str,
) -> None:
    engine = create_engine(postgres_url)
    try:
        async with engine.connect() as connection:
            await connection.begin()
            async with references.checked_at_commit(connection) as unchecked:
                assert unchecked  # the tests' role is a superuser
                await delete_of_papers(connection, citation_year, [1])  # nothing refers to it
                with pytest.raises(RuntimeError, match="would skip its cascade"):
                    await delete_of_papers(connection, paper, [1])
            await connection.rollback()
    finally:
        await engine.dispose()
