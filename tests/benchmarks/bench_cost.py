"""What the most expensive query the cost limit accepts costs the server, in time and memory.

    python -m tests.benchmarks.bench_cost [--limit 25000] [--database sqlite|postgresql]
        [--copies 3] [--shape "metrics and h-cores"]

The cost limit (SCHOLARGRAPH_MAX_COST) is only worth its name if every query
under it is one the server can answer. For each of a few heavy shapes (wide
pages of papers with bylines, metrics with their h-core, coauthors of many
researchers, pages nested under bylines), this scales the shape to the largest
size whose cost is within the limit, counted exactly as the server counts it,
then runs it once on a fresh server over the benchmark corpus (the one `make
bench` generates) and prints the seconds it took and the memory it added
(peak RSS over the RSS before). The default limit is the largest at which
every shape answers within 5 s and 200 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from graphql import parse

from api.settings import Settings
from db.engine import create_engine
from resolvers.bounds import ListBounds, read_list_bounds
from schema import schema
from schema.analysis import CostCounter, fragments_of, operation_named
from tests.benchmarks.bench_api import database_url, prepare

SHAPES = {
    "papers with bylines": """{ researchers(first: %d) { nodes { name papers(first: 100) {
        totalCount nodes { id title abstract publishedOn citationCount hasCode links
        primaryCategory { code name } institutions { name }
        authors { position displayName researcher { id name slug } } } } } } }""",
    "metrics and h-cores": """{ researchers(first: %d, orderBy: {field: H_INDEX, direction: DESC})
        { nodes { name metrics { hIndex gIndex i10Index citationCount paperCount
        hCore { title citationCount authors { displayName } }
        categories { category { code } count } citationsByYear { year count } } } } }""",
    "coauthors of many": """{ researchers(first: %d) { nodes { coauthors(first: 100) {
        totalCount edges { sharedPaperCount node { name metrics { hIndex } } } } } } }""",
    "pages under bylines": """{ papers(first: 100) { nodes { authors { researcher {
        papers(first: %d) { nodes { title authors { displayName } } } } } } } }""",
}


def cost_of(query: str, bounds: ListBounds) -> int:
    document = parse(query)
    operation = operation_named(document, None)
    assert operation is not None
    counter = CostCounter(schema._schema, fragments_of(document), _no_variables(), bounds)
    return counter.count(schema._schema.query_type, operation)  # type: ignore[arg-type]


def _no_variables() -> object:
    from graphql.execution.values import get_variable_values

    return get_variable_values(schema._schema, (), {})


def largest_within(shape: str, limit: int, bounds: ListBounds) -> tuple[str, int] | None:
    """The shape at its largest size (1..100) costing at most `limit`, with its cost."""
    best = None
    for size in range(1, 101):
        query = shape % size
        cost = cost_of(query, bounds)
        if cost > limit:
            break
        best = (query, cost)
    return best


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(url: str, port: int, *, limited: bool = False) -> subprocess.Popen[bytes]:
    """`scholargraph serve` over `url`; with `limited`, every limit as configured by default."""
    unlimited = {
        "SCHOLARGRAPH_MAX_COST": str(10**9),
        "SCHOLARGRAPH_REQUEST_TIMEOUT_S": "300",
        "SCHOLARGRAPH_STATEMENT_TIMEOUT_MS": "0",
    }
    environment = {
        **os.environ,
        **({} if limited else unlimited),
        "SCHOLARGRAPH_DATABASE_URL": url,
        "SCHOLARGRAPH_RATE_LIMIT_ENABLED": "false",
        "SCHOLARGRAPH_LOG_LEVEL": "warning",
    }
    command = [sys.executable, "-m", "api.cli", "serve", "--port", str(port)]
    return subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL)


def memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


@dataclass
class Outcome:
    seconds: float  # the slowest of the copies run at once
    added_mb: float
    size: int
    health_ms: float  # the slowest /health answer while they ran


def run_at_once(url: str, query: str, copies: int) -> Outcome:
    """`copies` of one query at once on a fresh server, /health asked every 20 ms meanwhile."""
    port = free_port()
    server = serve(url, port)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base)
        before = memory_kb(server.pid, "VmRSS")
        with health_polled(base) as health, ThreadPoolExecutor(max_workers=copies) as pool:
            answers = list(pool.map(lambda _: post_timed(base, query), range(copies)))
        peak = memory_kb(server.pid, "VmHWM")
    finally:
        server.terminate()
        server.wait()
    seconds = max(elapsed for elapsed, _ in answers)
    return Outcome(seconds, (peak - before) / 1024, answers[0][1], health.slowest_ms)


# Asks /health every 20 ms until its stdin closes, then prints the slowest answer in ms. A
# process of its own: in a thread here it would wait for this process's GIL while the
# threads posting the queries read and decode their large answers, and count that wait.
HEALTH_POLLER = """
import http.client, sys, threading, time
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
host, port = sys.argv[1].rsplit(":", 1)
connection = http.client.HTTPConnection(host, int(port), timeout=60)
slowest = 0.0
while not stop.is_set():
    started = time.perf_counter()
    connection.request("GET", "/health")
    connection.getresponse().read()
    slowest = max(slowest, time.perf_counter() - started)
    time.sleep(0.02)
print(slowest * 1000)
"""


@dataclass(slots=True)
class HealthPolling:
    slowest_ms: float = 0.0


@contextmanager
def health_polled(base: str) -> Iterator[HealthPolling]:
    """/health asked every 20 ms from another process while the block runs."""
    address = base.removeprefix("http://")
    poller = subprocess.Popen(
        [sys.executable, "-c", HEALTH_POLLER, address],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    polling = HealthPolling()
    try:
        yield polling
    finally:
        output, _ = poller.communicate(timeout=120)  # closes its stdin: it stops and reports
    polling.slowest_ms = float(output.strip())


def wait_until_up(base: str) -> None:
    with httpx.Client(timeout=5) as client:
        for _ in range(600):
            try:
                client.get(f"{base}/health")
                return
            except httpx.TransportError:
                time.sleep(0.1)
    raise SystemExit("the server did not start")


def post_timed(base: str, query: str) -> tuple[float, int]:
    with httpx.Client(timeout=300) as client:
        started = time.perf_counter()
        response = client.post(f"{base}/graphql", json={"query": query})
        elapsed = time.perf_counter() - started
    body = response.json()
    if body.get("errors"):
        raise SystemExit(f"the query failed: {body['errors'][:2]}")
    return elapsed, len(response.content)


async def bounds_of(url: str) -> ListBounds:
    engine = create_engine(url)
    try:
        return await read_list_bounds(engine)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=Settings().max_cost)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--papers", type=int, default=200_000)
    parser.add_argument("--researchers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--copies", type=int, default=1, help="the same query run at once")
    parser.add_argument(
        "--shape", action="append", choices=list(SHAPES), help="only these shapes (repeatable)"
    )
    args = parser.parse_args()
    url = database_url(args.database, args.papers, args.researchers, args.seed)
    asyncio.run(prepare(url, args.papers, args.researchers, args.seed))
    bounds = asyncio.run(bounds_of(url))
    print(f"{args.database}, {args.papers:,} papers; cost limit {args.limit:,}; {bounds}")
    print(f"each shape run {args.copies} at once; /health asked every 20 ms meanwhile")
    print(
        f"{'shape':24} {'cost':>8} {'seconds':>8} {'+MB peak':>9} {'bytes':>10} "
        f"{'/health max ms':>15}"
    )
    for name, shape in SHAPES.items():
        if args.shape and name not in args.shape:
            continue
        found = largest_within(shape, args.limit, bounds)
        if found is None:
            print(f"{name:24} {'-':>8}  (even the smallest size is over the limit)")
            continue
        query, cost = found
        out = run_at_once(url, query, args.copies)
        print(
            f"{name:24} {cost:8,} {out.seconds:8.2f} {out.added_mb:9.1f} {out.size:10,} "
            f"{out.health_ms:15.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
