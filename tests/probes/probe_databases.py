"""Runs that end badly, for tests/test_databases.py (run by path; pytest does not collect it).

PROBE_END says how: "fail" (a failed test), "sigterm" (the run is told to stop),
"sigkill" (the run is killed with no teardown).
"""

from __future__ import annotations

import os
import signal

import pytest

END = os.environ.get("PROBE_END", "fail")


@pytest.mark.postgres
def test_ends_badly(postgres_server: object, database_url: str) -> None:
    if END == "sigterm":
        os.kill(os.getpid(), signal.SIGTERM)
    if END == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    pytest.fail("fails on purpose")
