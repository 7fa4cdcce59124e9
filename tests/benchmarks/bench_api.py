"""Requests per second and latency of the profile page and a leaderboard, beside a baseline.

    python -m tests.benchmarks.bench_api [--papers 200000] [--database sqlite|postgresql]

Builds (once, cached under build/bench/) a generated corpus, starts our
server and the hand-written baseline (tests/benchmarks/baseline_app.py)
with one uvicorn worker each, and drives each with concurrent clients for a
fixed time, one after the other. The figure that holds on a noisy machine
is the ratio to the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from db.engine import create_engine
from db.migrate import upgrade
from db.tables import authorship, researcher
from seeds.generate import generate_corpus

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build" / "bench"
PROFILE = """
query Profile($slug: String!) {
  researcher(slug: $slug) {
    name
    metrics { hIndex citationCount paperCount }
    papers(first: 50) {
      nodes {
        title abstract publishedOn primaryCategory { code } citationCount hasCode
        authors { position researcher { name } }
      }
    }
  }
}
"""
LEADERBOARD = """
{ researchers(first: 20, orderBy: {field: H_INDEX, direction: DESC}) {
    nodes { name metrics { hIndex paperCount citationCount } } } }
"""


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    requests: int
    seconds: float
    latencies: list[float]

    def row(self) -> str:
        ordered = sorted(self.latencies)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return (
            f"{self.name:28} {self.requests / self.seconds:9.1f} req/s"
            f"   p50 {statistics.median(ordered) * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms"
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url(kind: str, papers: int, researchers: int, seed: int) -> str:
    name = f"bench_{papers}_{researchers}_{seed}"
    if kind == "sqlite":
        BUILD.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{BUILD / name}.db"
    server_url = os.environ.get(
        "SCHOLARGRAPH_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    )
    asyncio.run(create_database(server_url, name))
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def create_database(server_url: str, name: str) -> None:
    dsn = make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def prepare(url: str, papers: int, researchers: int, seed: int) -> str:
    """Generate the corpus unless it is there; the slug of a researcher with ~300 papers."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            if not (
                await connection.execute(select(func.count()).select_from(researcher))
            ).scalar():
                print(f"generating {papers:,} papers, {researchers:,} researchers ...", flush=True)
                await generate_corpus(connection, papers=papers, researchers=researchers, seed=seed)
            count = func.count().label("n")
            rows = await connection.execute(
                select(researcher.c.slug, count)
                .join(authorship, authorship.c.researcher_id == researcher.c.id)
                .group_by(researcher.c.id, researcher.c.slug)
                .order_by(func.abs(count - 300), researcher.c.id)
                .limit(1)
            )
            slug, n = rows.one()
            print(f"profile of {slug} ({n} papers)")
            return str(slug)
    finally:
        await engine.dispose()


@contextmanager
def server(app: str, url: str, port: int, *, factory: bool):
    env = {
        **os.environ,
        "SCHOLARGRAPH_DATABASE_URL": url,
        # Every client is 127.0.0.1: count as usual (the cost is part of the figure), never refuse.
        "SCHOLARGRAPH_RATE_LIMIT_PER_ADDRESS": "1000000000/minute",
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    process = subprocess.Popen([*command, "--factory"] if factory else command, env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


async def drive(
    name: str,
    send: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]],
    *,
    seconds: float,
    concurrency: int,
) -> Result:
    latencies: list[float] = []

    async def client_loop(client: httpx.AsyncClient, stop: float) -> None:
        while time.monotonic() < stop:
            start = time.perf_counter()
            response = await send(client)
            response.raise_for_status()
            if b'"errors"' in response.content[:20]:
                raise RuntimeError(response.text[:500])
            latencies.append(time.perf_counter() - start)

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        for _ in range(3):
            await send(client)  # warm caches and pools
        begun = time.monotonic()
        stop = begun + seconds
        await asyncio.gather(*(client_loop(client, stop) for _ in range(concurrency)))
        elapsed = time.monotonic() - begun
    return Result(name, len(latencies), elapsed, latencies)


async def measure(
    ours: str, base: str, slug: str, seconds: float, concurrency: int
) -> list[Result]:
    def graphql(
        query: str, **variables: str
    ) -> Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]:
        return lambda c: c.post(f"{ours}/graphql", json={"query": query, "variables": variables})

    def get(path: str) -> Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]:
        return lambda c: c.get(f"{base}{path}")

    plan = [
        ("baseline profile", get(f"/profile/{slug}")),
        ("graphql profile", graphql(PROFILE, slug=slug)),
        ("baseline leaderboard", get("/leaderboard")),
        ("graphql leaderboard", graphql(LEADERBOARD)),
    ]
    return [await drive(n, s, seconds=seconds, concurrency=concurrency) for n, s in plan]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--papers", type=int, default=200_000)
    parser.add_argument("--researchers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    url = database_url(args.database, args.papers, args.researchers, args.seed)
    upgrade(url)
    slug = asyncio.run(prepare(url, args.papers, args.researchers, args.seed))
    with (
        server("api.app:create_app", url, free_port(), factory=True) as ours,
        server("tests.benchmarks.baseline_app:app", url, free_port(), factory=False) as base,
    ):
        results = asyncio.run(measure(ours, base, slug, args.seconds, args.concurrency))
    print(
        f"\n{args.database}, {args.papers:,} papers, {args.concurrency} clients, "
        f"{args.seconds:.0f} s each, one server worker"
    )
    for result in results:
        print(result.row())
    by_name = {r.name: r.requests / r.seconds for r in results}
    for kind in ("profile", "leaderboard"):
        ratio = by_name[f"graphql {kind}"] / by_name[f"baseline {kind}"]
        print(f"graphql / baseline, {kind}: {ratio:.2f}")


if __name__ == "__main__":
    main()
