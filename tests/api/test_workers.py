"""`scholargraph serve --workers 2` as deployed, with Redis: what one worker learns, both know.

The real command in a process of its own, on a free port, over the seeded
database (a temporary SQLite file, and PostgreSQL). Every GraphQL request
opens a connection of its own, so the kernel hands them to either worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import RedisTarget

QUERY = 'query Name { researcher(slug: "david-bau") { name } }'
QUERY_HASH = hashlib.sha256(QUERY.encode()).hexdigest()
EXTENSIONS = {"persistedQuery": {"version": 1, "sha256Hash": QUERY_HASH}}
DATA = {"researcher": {"name": "David Bau"}}
SCHOLARGRAPH = Path(sys.executable).parent / "scholargraph"
WORKERS = 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Served:
    """The running command: its address, its temporary directory, the log lines so far."""

    base: str
    tmp: Path
    process: subprocess.Popen[str]
    log: list[str] = field(default_factory=list)

    def started_workers(self) -> int:
        return sum('"Application startup complete."' in line for line in self.log)

    def metrics_directories(self) -> list[Path]:
        return sorted(self.tmp.glob("scholargraph-metrics-*"))


@pytest.fixture
def served(seeded_url: str, redis_target: RedisTarget, tmp_path: Path) -> Iterator[Served]:
    tmp = tmp_path / "tmp"  # the server's temporary directory, where its metrics go
    tmp.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
    env |= {
        "SCHOLARGRAPH_DATABASE_URL": seeded_url,
        "SCHOLARGRAPH_REDIS_URL": redis_target.url,
        "SCHOLARGRAPH_REDIS_PREFIX": redis_target.prefix,
        "TMPDIR": str(tmp),
    }
    port = free_port()
    command = [str(SCHOLARGRAPH), "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--workers", str(WORKERS)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its workers too are stopped at the end, whatever happened
    )
    served = Served(f"http://127.0.0.1:{port}", tmp, process)
    assert process.stderr is not None
    reader = threading.Thread(target=lambda: served.log.extend(process.stderr or []), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 120  # a loaded machine takes its time to import
        while served.started_workers() < WORKERS:
            assert process.poll() is None, "".join(served.log)
            assert time.monotonic() < deadline, "the workers did not start within 120 s"
            time.sleep(0.05)
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        # A worker left behind would hold stderr open, and the reader with it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        reader.join(5)
        process.stderr.close()


def connecting_each_time(base: str) -> httpx.AsyncClient:
    """A client that opens a connection per request, so the kernel picks a worker each time."""
    limits = httpx.Limits(max_keepalive_connections=0)
    return httpx.AsyncClient(base_url=base, limits=limits, timeout=30)


async def hash_only_gets(http: httpx.AsyncClient, count: int) -> list[httpx.Response]:
    """`count` hash-only GETs at once."""
    params = {"extensions": json.dumps(EXTENSIONS)}
    return await asyncio.gather(*(http.get("/graphql", params=params) for _ in range(count)))


def requests_by_worker(directory: Path) -> dict[str, float]:
    """The GraphQL queries each worker answered 200, from the file it writes its counters to."""
    counts = {}
    for path in directory.glob("counter_*.db"):
        for key, value, _timestamp, _position in MmapedDict.read_all_values_from_file(str(path)):
            _metric, name, labels, _help = json.loads(key)
            if name == "scholargraph_http_requests_total" and labels == {
                "operation_type": "query",
                "status": "200",
            }:
                counts[path.stem.removeprefix("counter_")] = value
    return counts


async def counts_settled(directory: Path, total: float) -> dict[str, float]:
    """`requests_by_worker` once it reaches `total` (or after 5 s): a worker counts a
    request when its response has gone, so the last count may come after the client has it."""
    for _ in range(50):
        counts = requests_by_worker(directory)
        if sum(counts.values()) >= total:
            break
        await asyncio.sleep(0.1)
    return counts


async def scraped_queries(http: httpx.AsyncClient) -> dict[str, float]:
    """GraphQL queries answered 200, and persisted-query results, as one scrape reports them."""
    text = (await http.get("/metrics")).text
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "scholargraph_http_requests_total" and sample.labels == {
                "operation_type": "query",
                "status": "200",
            }:
                found["queries"] = sample.value
            if sample.name == "scholargraph_persisted_queries_total":
                found[sample.labels["result"]] = sample.value
    return found


async def test_every_worker_runs_a_query_persisted_through_any_and_metrics_sum_them(
    served: Served,
) -> None:
    async with connecting_each_time(served.base) as http:
        registered = await http.post("/graphql", json={"query": QUERY, "extensions": EXTENSIONS})
        assert (registered.status_code, registered.json()["data"]) == (200, DATA)
        [directory] = served.metrics_directories()

        # Twenty at once: every one is a hit, whichever worker takes it.
        gets = await hash_only_gets(http, 20)
        assert [(r.status_code, r.json().get("data")) for r in gets] == [(200, DATA)] * 20
        # Until both workers have answered some (the kernel may favour one), twenty more.
        rounds = 1
        while len(requests_by_worker(directory)) < WORKERS and rounds < 10:
            more = await hash_only_gets(http, 20)
            assert [(r.status_code, r.json().get("data")) for r in more] == [(200, DATA)] * 20
            rounds += 1
        expected = {"queries": 1.0 + 20 * rounds, "stored": 1.0, "hit": 20.0 * rounds}
        by_worker = await counts_settled(directory, expected["queries"])
        assert len(by_worker) == WORKERS, by_worker
        assert sum(by_worker.values()) == expected["queries"]

        # A scrape, whichever worker answers it, reports the sum over both.
        assert [await scraped_queries(http) for _ in range(4)] == [expected] * 4

    # Stopped, the command leaves no directory behind.
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(30) == 0
    assert served.metrics_directories() == []
