"""What the commands `make run` runs tell a newcomer: what `db upgrade` did, where to point a
browser. Each runs as a user runs it, a process with the database in its environment."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from db.migrate import head_revision, upgrade
from tests.api.test_cli import scholargraph


def test_upgrade_of_a_new_database_says_it_created_the_schema(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
    done = scholargraph(url, "db", "upgrade")
    assert (done.returncode, done.stdout) == (
        0,
        f"created the schema at revision {head_revision()}\n",
    )


def test_upgrade_of_a_current_database_says_there_was_nothing_to_do(database_url: str) -> None:
    done = scholargraph(database_url, "db", "upgrade")
    expected = f"database already at the newest migration ({head_revision()})\n"
    assert (done.returncode, done.stdout) == (0, expected)


def test_upgrade_of_an_older_database_names_both_revisions(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    assert upgrade(url, "0002").after == "0002"
    done = scholargraph(url, "db", "upgrade")
    expected = f"upgraded the database from revision 0002 to {head_revision()}\n"
    assert (done.returncode, done.stdout) == (0, expected)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_prints_the_addresses_to_open(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "SCHOLARGRAPH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        "COLUMNS": "200",
    }
    with subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as server:
        try:
            assert server.stdout is not None
            lines = [server.stdout.readline() for _ in range(5)]
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    base = f"http://127.0.0.1:{port}"
    assert lines == [
        f"scholargraph: open {base}/ in a browser once the server is running\n",
        f"  {base}/                       the start page\n",
        f"  {base}/researchers/david-bau  a profile page (the seed)\n",
        f"  {base}/graphql                GraphiQL\n",
        "logs follow as JSON lines; Ctrl-C stops the server\n",
    ]
