"""Requests per second and latency of the profile page and a leaderboard, beside two peers.

    python -m tests.benchmarks.bench_api [--database sqlite|postgresql] [--papers 200000]
        [--seconds 10] [--rounds 3] [--concurrency 1,8] [--workers 2] [--no-cache]

Builds (once, cached) a generated corpus: a SQLite file under build/bench/,
or a PostgreSQL database named bench_<papers>_<researchers>_<seed> on the
server of SCHOLARGRAPH_BENCH_POSTGRES_URL (default the local `test` one),
kept between runs; drop it with `DROP DATABASE bench_200000_20000_1`.

Serves it with one process per server: scholargraph and the hand-written
baseline (tests/benchmarks/baseline_app.py) under uvicorn, and on
PostgreSQL PostGraphile v5 too (tests/benchmarks/postgraphile; its extra
schema postgraphile_bench is created in the benchmark database). Every
request these three answer runs its query: they are measured cold.
Checks that every server gives the same answer, then drives them with wrk,
alternated in rounds (A B C, A B C, ...) for each page and number of
clients: the profile of a researcher with ~300 papers, of one with ~2,000,
and the h-index leaderboard. The figure that holds on a noisy machine is
the ratio between servers within one round; the median over rounds is
printed.

The profile pages are also asked, in the same rounds, of scholargraph as a
deployment with its response cache runs: `scholargraph serve --workers 2`
with Redis (SCHOLARGRAPH_BENCH_REDIS_URL, default the local one; keys
under a prefix of the run's own, deleted at the end), rate limits counted
in Redis on every request. "warm" is the same POST again and again (a
hit); "304" is a GET whose If-None-Match names the answer's ETag (answered
from the cache, no body). Their ratios to PostGraphile and to scholargraph
cold are printed beside the others. --no-cache leaves them out.

The load comes from wrk (C, one thread, a Lua script for the POST body)
rather than a Python client: on two cores a Python client spends about as
much CPU per request as a fast server, and would measure itself. wrk's own
CPU per request is printed to show it is not the bottleneck. A server's CPU
per request is its processes' user + system time over a round (/proc)
divided by the requests served; it leaves out the work PostgreSQL (and
Redis) does for it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from db.engine import create_engine
from db.migrate import upgrade
from db.tables import authorship, researcher
from seeds.generate import generate_corpus
from tests.benchmarks.pages import (
    Ask,
    leaderboard_asks,
    profile_asks,
    read_leaderboard,
    read_profile,
)
from tests.benchmarks.servers import (
    POSTGRAPHILE,
    Running,
    postgraphile_server,
    redis_prefix,
    scholargraph_workers,
    uvicorn_server,
)

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build" / "bench"
WRK_SCRIPT = Path(__file__).with_name("wrk_request.lua")
PROFILE_SIZES = (300, 2000)
# The ratios printed for each page, when both servers were asked it: (numerator, denominator).
RATIOS = [
    ("scholargraph", "postgraphile"),
    ("scholargraph", "baseline"),
    ("warm", "postgraphile"),
    ("warm", "scholargraph"),
    ("304", "postgraphile"),
    ("304", "scholargraph"),
]
SHORT = {"scholargraph": "sg", "postgraphile": "pg", "baseline": "base"}


@dataclass(frozen=True, slots=True, eq=False)  # hashed by identity: a key of the results
class Workload:
    """One page as every server is asked for it, and how its answers are read."""

    label: str
    asks: dict[str, Ask]
    read: Callable[[str, Any], Any]
    cached: bool = False  # also asked of the cached deployment, warm and as a 304


@dataclass(frozen=True, slots=True)
class Drive:
    """What wrk sends one server for one page: a path, the file of a POST body, a header."""

    path: str
    body: Path | None = None
    header: str | None = None


@dataclass(frozen=True, slots=True)
class Contender:
    """One column of the tables: a server, and what it is sent for each page it is asked."""

    name: str
    server: Running
    drives: dict[str, Drive]  # by workload label


@dataclass(frozen=True, slots=True)
class Sample:
    """One server measured for one round: what wrk saw and the CPU the server spent."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float
    client_cpu_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def cell(self) -> str:
        return f"{self.rate:8.1f} {self.p50_ms:6.1f} {self.p99_ms:6.1f} {self.cpu_ms:6.2f}"


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


def libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def create_database(server_url: str, name: str) -> None:
    connection = await asyncpg.connect(libpq_url(server_url))
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def install_postgraphile_schema(url: str) -> None:
    """The schema postgraphile_bench (idempotent): what PostGraphile needs beyond the tables."""
    connection = await asyncpg.connect(libpq_url(url))
    try:
        await connection.execute((POSTGRAPHILE / "schema.sql").read_text())
    finally:
        await connection.close()


async def prepare(url: str, papers: int, researchers: int, seed: int) -> list[tuple[str, int]]:
    """Generate the corpus unless it is there; slug and paper count of the profiled researchers."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            if not (
                await connection.execute(select(func.count()).select_from(researcher))
            ).scalar():
                print(f"generating {papers:,} papers, {researchers:,} researchers ...", flush=True)
                await generate_corpus(connection, papers=papers, researchers=researchers, seed=seed)
            count = func.count().label("n")
            chosen = []
            for size in PROFILE_SIZES:
                rows = await connection.execute(
                    select(researcher.c.slug, count)
                    .join(authorship, authorship.c.researcher_id == researcher.c.id)
                    .group_by(researcher.c.id, researcher.c.slug)
                    .order_by(func.abs(count - size), researcher.c.id)
                    .limit(1)
                )
                slug, n = rows.one()
                chosen.append((str(slug), int(n)))
            return chosen
    finally:
        await engine.dispose()


def workloads(profiles: list[tuple[str, int]]) -> list[Workload]:
    pages = [
        Workload(f"profile of {slug} ({n} papers)", profile_asks(slug), read_profile, cached=True)
        for slug, n in profiles
    ]
    return [*pages, Workload("leaderboard by h-index", leaderboard_asks(), read_leaderboard)]


def check_answers(servers: list[Running], work: list[Workload]) -> None:
    """Every server's answer equal in content to the first's, or stop here."""
    with httpx.Client(timeout=120) as client:
        for workload in work:
            answers = {s.name: workload.read(s.name, fetch(client, s, workload)) for s in servers}
            reference_name, reference = next(iter(answers.items()))
            for name, answer in answers.items():
                if answer != reference:
                    where = first_difference(reference, answer, "")
                    raise SystemExit(
                        f"{workload.label}: {name} answers differently from {reference_name} "
                        f"at {where}"
                    )
    print(f"answers checked: {len(work)} pages equal on {', '.join(s.name for s in servers)}")


def fetch(client: httpx.Client, server: Running, workload: Workload) -> Any:
    ask = workload.asks[server.name]
    url = server.base_url + ask.path
    response = client.get(url) if ask.body is None else client.post(url, json=ask.body)
    response.raise_for_status()
    return response.json()


def first_difference(a: Any, b: Any, path: str) -> str:
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        key = next(k for k in a if a[k] != b[k])
        return first_difference(a[key], b[key], f"{path}.{key}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        index = next(i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y)
        return first_difference(a[index], b[index], f"{path}[{index}]")
    return f"{path or 'the top'}: {a!r} != {b!r}"


def run_wrk(server: Running, drive: Drive, concurrency: int, seconds: int) -> Sample:
    """Drive one server with wrk for `seconds`; what it served and the CPU it spent per request."""
    command = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "60s"]
    if drive.header is not None:
        command += ["-H", drive.header]
    command += ["-s", str(WRK_SCRIPT), server.base_url + drive.path]
    if drive.body is not None:
        command += ["--", str(drive.body)]
    cpu_before, client_before = server.cpu_seconds(), _children_cpu_seconds()
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    cpu = server.cpu_seconds() - cpu_before
    client_cpu = _children_cpu_seconds() - client_before
    figures = json.loads(output.strip().splitlines()[-1])
    if figures["errors"] or not figures["requests"]:
        raise SystemExit(f"{server.name}: wrk saw errors or no answers:\n{output}")
    return Sample(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        cpu_ms=cpu * 1000 / figures["requests"],
        client_cpu_ms=client_cpu * 1000 / figures["requests"],
    )


def _children_cpu_seconds() -> float:
    """CPU of the child processes waited for so far: the wrk runs (servers are waited at exit)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def body_file(name: str, body: dict[str, Any] | None) -> Path | None:
    """A POST body in a file of its own, for wrk to send."""
    if body is None:
        return None
    folder = BUILD / "requests"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(body))
    return path


def cold_contenders(servers: list[Running], work: list[Workload]) -> list[Contender]:
    """The one-process servers, each sent its own way of asking for every page."""
    return [
        Contender(
            s.name,
            s,
            {
                w.label: Drive(w.asks[s.name].path, body_file(f"{s.name}-{i}", w.asks[s.name].body))
                for i, w in enumerate(work)
            },
        )
        for s in servers
    ]


def cached_contenders(
    cached: Running, work: list[Workload], *, reference: Running
) -> list[Contender]:
    """The cached deployment, warm (POST, a hit) and as a 304, on the pages it is asked.

    Checks first that its answer is the `reference` server's, that it comes
    from the cache byte for byte, and that the GET naming its tag is a 304.
    """
    warm: dict[str, Drive] = {}
    revalidated: dict[str, Drive] = {}
    with httpx.Client(timeout=120, base_url=cached.base_url) as client:
        for index, workload in enumerate(w for w in work if w.cached):
            ask = workload.asks["scholargraph"]
            assert ask.body is not None
            answers = [client.post(ask.path, json=ask.body) for _ in range(3)]
            if (
                len({a.content for a in answers}) != 1
                or answers[-1].headers.get("x-scholargraph-cache") != "hit"
            ):
                raise SystemExit(f"{workload.label}: the cached answer is not the stored one")
            get_path = (
                ask.path
                + "?"
                + urlencode(
                    {"query": ask.body["query"], "variables": json.dumps(ask.body["variables"])}
                )
            )
            got = client.get(get_path)
            tag = got.headers["etag"]
            again = client.get(get_path, headers={"If-None-Match": tag})
            if got.content != answers[0].content or again.status_code != 304:
                raise SystemExit(f"{workload.label}: no 304 for If-None-Match {tag}")
            warm[workload.label] = Drive(ask.path, body_file(f"warm-{index}", ask.body))
            revalidated[workload.label] = Drive(get_path, header=f"If-None-Match: {tag}")
    print(f"cached answers checked: {len(warm)} pages, hits equal to the stored answer, 304s")
    return [Contender("warm", cached, warm), Contender("304", cached, revalidated)]


Cell = tuple[Workload, int]


def measure(
    contenders: list[Contender], work: list[Workload], args: argparse.Namespace
) -> dict[Cell, list[dict[str, Sample]]]:
    """Rounds of every (page, clients) cell, the servers taking turns within each round."""
    cells = [(w, c) for w in work for c in args.concurrency]
    if args.warmup:
        for workload in work:
            for contender in contenders:
                drive = contender.drives.get(workload.label)
                if drive is not None:
                    run_wrk(contender.server, drive, max(args.concurrency), args.warmup)
    results: dict[Cell, list[dict[str, Sample]]] = {cell: [] for cell in cells}
    for number in range(1, args.rounds + 1):
        for workload, clients in cells:
            samples = {
                c.name: run_wrk(c.server, c.drives[workload.label], clients, args.seconds)
                for c in contenders
                if workload.label in c.drives
            }
            results[workload, clients].append(samples)
            rates = "  ".join(f"{name} {sample.rate:.1f}/s" for name, sample in samples.items())
            print(f"round {number}, {workload.label}, c={clients}: {rates}", flush=True)
    return results


def report(
    contenders: list[Contender], results: dict[Cell, list[dict[str, Sample]]], heading: str
) -> None:
    print(f"\n{heading}")
    print("each server: req/s, p50 and p99 latency (ms), its processes' CPU per request (ms)")
    summary = []
    for (workload, clients), rounds in results.items():
        title = f"{workload.label}, c={clients}"
        summary.append((title, print_cell(title, rounds)))
    print("\nmedians over rounds: req/s ÷ req/s; CPU ms per request")
    for label, (ratios, cpu) in summary:
        figures = "  ".join(f"{name} {value:5.2f}" for name, value in ratios.items())
        cpus = "  ".join(f"{name} {value:.2f}" for name, value in cpu.items())
        print(f"  {label:48} {figures}   cpu {cpus}")
    samples = [x for rounds in results.values() for by_name in rounds for x in by_name.values()]
    busiest = max(samples, key=lambda sample: sample.client_cpu_ms * sample.rate)
    print(
        f"wrk's own CPU: at most {busiest.client_cpu_ms * busiest.rate / 10:.0f}% of one core "
        f"({busiest.client_cpu_ms:.3f} ms per request at {busiest.rate:.0f} req/s)"
    )
    servers = {c.server.name: c.server for c in contenders}
    memory = "  ".join(f"{s.name} {s.peak_memory_mb():.0f} MB" for s in servers.values())
    print(f"peak resident memory (the largest process of each server): {memory}")


def print_cell(
    title: str, rounds: list[dict[str, Sample]]
) -> tuple[dict[str, float], dict[str, float]]:
    """One (page, clients) table, round by round; the median ratios and CPU per request."""
    names = list(rounds[0])
    pairs = [(a, b) for a, b in RATIOS if a in names and b in names]
    labels = [f"{SHORT.get(a, a)}÷{SHORT.get(b, b)}" for a, b in pairs]
    print(f"\n{title}")
    print("round  " + "".join(f"{name:>30}" for name in names))
    print("       " + f"{'req/s    p50    p99    cpu':>30}" * len(names))
    for number, samples in enumerate(rounds, 1):
        print(f"{number:<7}" + "".join(f"{samples[name].cell():>30}" for name in names))
    print("       " + "".join(f"{label:>10}" for label in labels))
    ratios: list[list[float]] = [[] for _ in pairs]
    for number, samples in enumerate(rounds, 1):
        for values, (a, b) in zip(ratios, pairs, strict=True):
            values.append(samples[a].rate / samples[b].rate)
        print(f"{number:<7}" + "".join(f"{values[-1]:>10.2f}" for values in ratios))
    medians = {label: statistics.median(v) for label, v in zip(labels, ratios, strict=True)}
    print(f"{'median':<7}" + "".join(f"{m:>10.2f}" for m in medians.values()))
    cpu = {name: statistics.median(s[name].cpu_ms for s in rounds) for name in names}
    return medians, cpu


def start_servers(stack: ExitStack, database: str, url: str) -> list[Running]:
    """scholargraph first (ratios are its), then the peers, each one process."""
    servers = [
        stack.enter_context(
            uvicorn_server("scholargraph", "api.app:create_served_app", url, factory=True)
        )
    ]
    if database == "postgresql":
        servers.append(stack.enter_context(postgraphile_server(libpq_url(url))))
    baseline = "tests.benchmarks.baseline_app:app"
    servers.append(stack.enter_context(uvicorn_server("baseline", baseline, url, factory=False)))
    return servers


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--papers", type=int, default=200_000, help="corpus size; the large setting is 1000000"
    )
    parser.add_argument("--researchers", type=int, help="default: papers / 10")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=10, help="per server per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2, help="seconds per server and page")
    parser.add_argument("--workers", type=int, default=2, help="processes of the cached deployment")
    parser.add_argument(
        "--no-cache", action="store_true", help="leave out the cached deployment (warm, 304)"
    )
    parser.add_argument(
        "--concurrency",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 8],
        help="numbers of clients, comma-separated",
    )
    args = parser.parse_args()
    if args.researchers is None:
        args.researchers = args.papers // 10
    return args


def main() -> None:
    # A terminated run unwinds like an interrupted one: the servers it started are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args = parse_args()
    url = database_url(args.database, args.papers, args.researchers, args.seed)
    upgrade(url)
    profiles = asyncio.run(prepare(url, args.papers, args.researchers, args.seed))
    if args.database == "postgresql":
        asyncio.run(install_postgraphile_schema(url))
    work = workloads(profiles)
    with ExitStack() as stack:
        servers = start_servers(stack, args.database, url)
        check_answers(servers, work)
        contenders = cold_contenders(servers, work)
        if not args.no_cache:
            cached = stack.enter_context(
                scholargraph_workers(
                    "cached",
                    url,
                    workers=args.workers,
                    redis_prefix=stack.enter_context(redis_prefix()),
                )
            )
            contenders += cached_contenders(cached, work, reference=servers[0])
        results = measure(contenders, work, args)
        cached_note = (
            ""
            if args.no_cache
            else f"; warm and 304: scholargraph serve --workers {args.workers} with Redis, "
            "the response cache and rate limits counted in Redis"
        )
        report(
            contenders,
            results,
            f"{args.database}, {args.papers:,} papers, {args.researchers:,} researchers, "
            f"{args.rounds} rounds of {args.seconds} s per server, wrk; "
            f"cold: one process each{cached_note}",
        )


if __name__ == "__main__":
    main()
