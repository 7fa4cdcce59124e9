"""`scholargraph serve` as deployed: a process that finishes its requests in flight on SIGTERM."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

# The real command, with the researcher look-ups (the resolvers' and compiled reads')
# slowed down so that a request is still running when the signal comes; `started`
# appears once it has begun.
SERVE_WITH_A_SLOW_LOOKUP = """
import asyncio, pathlib, sys
from db.queries import researchers

def slowed(original):
    async def slow(*args, **kwargs):
        pathlib.Path(sys.argv[2]).touch()
        await asyncio.sleep(float(sys.argv[3]))
        return await original(*args, **kwargs)
    return slow

for name in ("researcher_by", "researcher_with_columns"):
    setattr(researchers, name, slowed(getattr(researchers, name)))
from api.cli import app
app(["serve", "--port", sys.argv[1]], prog_name="scholargraph")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {seconds} s"
        time.sleep(0.05)


def answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@dataclass
class Shutdown:
    """What a client and the server's log saw when SIGTERM came during a slow request."""

    response: httpx.Response | None
    returncode: int
    log: list[dict[str, Any]]
    seconds_to_exit: float


def terminate_during_a_slow_request(
    database_url: str, tmp_path: Path, *, lookup_s: float, timeout_s: int
) -> Shutdown:
    port, started = free_port(), tmp_path / "started"
    env = {
        **os.environ,
        "SCHOLARGRAPH_DATABASE_URL": database_url,
        "SCHOLARGRAPH_SHUTDOWN_TIMEOUT_S": str(timeout_s),
    }
    script = [sys.executable, "-c", SERVE_WITH_A_SLOW_LOOKUP, str(port), str(started)]
    server = subprocess.Popen([*script, str(lookup_s)], env=env, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    responses: list[httpx.Response] = []

    def send() -> None:
        query = {"query": 'query Slow { researcher(slug: "david-bau") { name } }'}
        with contextlib.suppress(httpx.TransportError):
            responses.append(httpx.post(f"{base}/graphql", json=query, timeout=30))

    try:
        wait_for(lambda: answers(base), "the server answers")
        request = threading.Thread(target=send)
        request.start()
        wait_for(started.exists, "the slow request started")
        server.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        _, log = server.communicate(timeout=30)
        seconds_to_exit = time.monotonic() - signalled
        request.join(30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    lines = [json.loads(line) for line in log.splitlines()]
    return Shutdown(responses[0] if responses else None, server.returncode, lines, seconds_to_exit)


@pytest.mark.parametrize("seeded_url", ["sqlite"], indirect=True)
def test_sigterm_lets_the_request_in_flight_finish(seeded_url: str, tmp_path: Path) -> None:
    shutdown = terminate_during_a_slow_request(seeded_url, tmp_path, lookup_s=1.5, timeout_s=10)
    response = shutdown.response
    assert response is not None
    assert response.status_code == 200
    assert response.json()["data"] == {"researcher": {"name": "David Bau"}}
    # uvicorn shuts down cleanly, then re-raises the signal so the exit status names it.
    assert shutdown.returncode == -signal.SIGTERM
    [served] = [line for line in shutdown.log if line.get("operation_name") == "Slow"]
    assert (served["status"], served["request_id"]) == (200, response.headers["x-request-id"])
    assert served["duration_ms"] >= 1500
    # The signal came first; the request's line was written once it had finished.
    messages = [line["message"] for line in shutdown.log]
    assert messages.index("Shutting down") < shutdown.log.index(served)


@pytest.mark.parametrize("seeded_url", ["sqlite"], indirect=True)
def test_a_request_outlasting_the_shutdown_timeout_does_not_hold_the_server(
    seeded_url: str, tmp_path: Path
) -> None:
    shutdown = terminate_during_a_slow_request(seeded_url, tmp_path, lookup_s=30, timeout_s=1)
    # The request was given up: its connection is closed unanswered, or answered 500 when the
    # server's cancellation reaches it before the connection closes; never a success.
    assert shutdown.response is None or shutdown.response.status_code == 500
    assert shutdown.seconds_to_exit < 10
    messages = [line["message"] for line in shutdown.log]
    assert "Cancel 1 running task(s), timeout graceful shutdown exceeded" in messages
