"""Real databases for tests: SQLite files and a PostgreSQL server, both migrated by Alembic.

Each backend is migrated once per run into a template; a test that writes
gets a copy of the template of its own (a file copy for SQLite, CREATE
DATABASE ... TEMPLATE for PostgreSQL), so tests never see each other's rows.
Read-only tests share one seeded database per backend.

PostgreSQL comes from SCHOLARGRAPH_TEST_POSTGRES_URL (default: the local
server, database `test`). Without a server its tests skip, except under
CI=true, where they fail: CI must exercise both databases.

A run drops every database it created, failed tests or not. A run stopped by
SIGTERM tears down as after Ctrl-C; one killed outright (SIGKILL, an OOM)
cannot, so names carry the host and the process id (sg_test_<host>_<pid>_<n>)
and the next run on the host drops those whose process is gone. Databases of
runs still going, here or on other hosts, are left alone.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
import re
import shutil
import signal
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import asyncpg
import pytest
import redis
from hypothesis import settings
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from seeds.seed import seed_database
from tests.support import skip_or_fail

# Timing is not what the property tests check: a loaded machine (CI, two cores, a
# PostgreSQL server and a browser) must not turn a slow example into a failure.
settings.register_profile("scholargraph", deadline=None)
settings.load_profile("scholargraph")

POSTGRES_URL = os.environ.get(
    "SCHOLARGRAPH_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


HOST_TAG = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]


class PostgresServer:
    """Creates and drops the databases of one test run on the configured server."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.prefix = f"sg_test_{HOST_TAG}_{os.getpid()}"
        self.counter = itertools.count()
        self.created: list[str] = []

    def url_of(self, database: str) -> str:
        return self.url.set(database=database).render_as_string(hide_password=False)

    def execute(self, sql: str) -> list[str]:
        """Runs one statement; the first column of the rows it returns."""

        async def run() -> list[str]:
            dsn = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
            connection = await asyncpg.connect(dsn, timeout=5)
            try:
                return [row[0] for row in await connection.fetch(sql)]
            finally:
                await connection.close()

        return asyncio.run(run())

    def create_database(self, *, template: str | None = None) -> str:
        name = f"{self.prefix}_{next(self.counter)}"
        clause = f" TEMPLATE {template}" if template else ""
        self.created.append(name)  # before creating: a half-done CREATE is dropped too
        self.execute(f"CREATE DATABASE {name}{clause}")
        return name

    def drop_database(self, name: str) -> None:
        self.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def drop_created(self) -> None:
        """Drops every database of this run, trying each even when one fails."""
        failures = []
        for name in reversed(self.created):
            try:
                self.drop_database(name)
            except (OSError, asyncpg.PostgresError) as error:
                failures.append(f"{name}: {error}")
        if failures:
            raise RuntimeError(f"test databases left on the server: {'; '.join(failures)}")

    def drop_orphans(self) -> list[str]:
        """Drops the databases of earlier runs on this host whose process is gone."""
        pattern = re.compile(rf"sg_test_{HOST_TAG}_(\d+)_\d+")
        names = self.execute("SELECT datname FROM pg_database WHERE datname LIKE 'sg\\_test\\_%'")
        orphans = [
            name
            for name in names
            if (match := pattern.fullmatch(name)) and not process_is_running(int(match[1]))
        ]
        for name in orphans:
            self.drop_database(name)
        return orphans


def process_is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM as Ctrl-C: pytest then tears down, and the databases are dropped."""
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer(POSTGRES_URL)
    try:
        server.drop_orphans()
    except (OSError, asyncpg.PostgresError) as error:
        skip_or_fail(f"PostgreSQL at {server.url.render_as_string()} is not reachable: {error}")
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield server
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.drop_created()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "migrated.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    name = postgres_server.create_database()
    upgrade(postgres_server.url_of(name))
    return name


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated, empty database of its own for this test, on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database(template=request.getfixturevalue("postgres_template"))
    yield server.url_of(name)
    server.drop_database(name)


@pytest.fixture(scope="session", params=BACKENDS)
def seeded_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """One database per backend holding the seed, shared by tests that only read."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("seeded") / "seeded.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite+aiosqlite:///{path}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.url_of(
            server.create_database(template=request.getfixturevalue("postgres_template"))
        )
    asyncio.run(_seed(url))
    return url


async def _seed(url: str) -> None:
    engine = create_engine(url)
    try:
        await seed_database(create_session_factory(engine))
    finally:
        await engine.dispose()


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


REDIS_URL = os.environ.get("SCHOLARGRAPH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass(frozen=True, slots=True)
class RedisTarget:
    """The test Redis server and a key prefix of this test's own (deleted at its end)."""

    url: str
    prefix: str


@pytest.fixture
def redis_target() -> Iterator[RedisTarget]:
    """A prefix of one's own on the test Redis; skips without it, fails under CI=true."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        client.close()
        skip_or_fail(f"Redis at {REDIS_URL} is not reachable: {error}")
    target = RedisTarget(REDIS_URL, f"sg-test:{HOST_TAG}:{os.getpid()}:{uuid.uuid4().hex[:8]}:")
    try:
        yield target
    finally:
        keys = list(client.scan_iter(match=target.prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
