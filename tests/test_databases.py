"""The test run leaves no database on the PostgreSQL server, however it ends."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import HOST_TAG, POSTGRES_URL, PostgresServer

PROBE = Path(__file__).parent / "probes" / "probe_databases.py"


def run_probe(end: str) -> tuple[int, str]:
    """Runs the probe's test on PostgreSQL; its exit status and the prefix its databases had."""
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"{PROBE}",
            "-k",
            "postgresql",
        ],
        env={**os.environ, "PROBE_END": end, "CI": "true"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    run.communicate(timeout=120)
    return run.returncode, f"sg_test_{HOST_TAG}_{run.pid}_"


def databases_named(server: PostgresServer, prefix: str) -> list[str]:
    return [
        name
        for name in server.execute("SELECT datname FROM pg_database ORDER BY datname")
        if name.startswith(prefix)
    ]


@pytest.mark.parametrize(("end", "status"), [("fail", 1), ("sigterm", 2)])
def test_a_run_drops_its_databases_when_a_test_fails_or_it_is_stopped(
    postgres_server: PostgresServer, end: str, status: int
) -> None:
    returncode, prefix = run_probe(end)
    assert returncode == status
    assert databases_named(postgres_server, prefix) == []


def test_the_next_run_drops_what_a_killed_run_left(postgres_server: PostgresServer) -> None:
    returncode, prefix = run_probe("sigkill")
    assert returncode == -9
    # The template and the test's copy stayed behind, with no process to own them.
    assert databases_named(postgres_server, prefix) == [f"{prefix}0", f"{prefix}1"]
    PostgresServer(POSTGRES_URL).drop_orphans()  # what the next run does first
    assert databases_named(postgres_server, prefix) == []
