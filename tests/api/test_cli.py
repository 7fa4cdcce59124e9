"""The scholargraph command, run as a user runs it: a process with the database in its env."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SEED = Path(__file__).resolve().parents[2] / "seeds" / "profile-david-bau.txt"


def scholargraph(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCHOLARGRAPH_DATABASE_URL": database_url, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def rows(database_url: str) -> dict[str, int]:
    result = scholargraph(database_url, "stats")
    assert result.returncode == 0, result.stderr
    return {
        name: int(n.replace(",", ""))
        for name, n in (line.split() for line in result.stdout.splitlines())
    }


@pytest.fixture
def fresh_sqlite(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"


def test_upgrade_then_seed_if_empty_loads_once(fresh_sqlite: str) -> None:
    assert scholargraph(fresh_sqlite, "db", "upgrade").returncode == 0
    first = scholargraph(fresh_sqlite, "seed", "--if-empty")
    second = scholargraph(fresh_sqlite, "seed", "--if-empty")
    assert (
        first.stdout.strip() == "profile-david-bau.txt: 50 papers created, 0 updated, 0 unchanged"
    )
    assert second.stdout.strip() == "database already holds data; seed skipped"
    counts = rows(fresh_sqlite)
    assert (counts["paper"], counts["researcher"]) == (50, 90)


def test_importing_a_profile_file_twice_changes_nothing(fresh_sqlite: str) -> None:
    scholargraph(fresh_sqlite, "db", "upgrade")
    first = scholargraph(fresh_sqlite, "import", "profile", str(SEED), "--undated-year", "2026")
    before = rows(fresh_sqlite)
    again = scholargraph(fresh_sqlite, "import", "profile", str(SEED), "--undated-year", "2026")
    assert first.returncode == again.returncode == 0
    assert (
        again.stdout.strip() == "profile-david-bau.txt: 0 papers created, 0 updated, 50 unchanged"
    )
    assert rows(fresh_sqlite) == before


def test_a_broken_file_is_refused_with_its_line_and_writes_nothing(
    fresh_sqlite: str, tmp_path: Path
) -> None:
    scholargraph(fresh_sqlite, "db", "upgrade")
    before = rows(fresh_sqlite)
    broken = tmp_path / "broken.txt"
    broken.write_text(SEED.read_text(encoding="utf-8").replace("CVJul 6, 2022", "CVJul 36, 2022"))
    result = scholargraph(fresh_sqlite, "import", "profile", str(broken), "--undated-year", "2026")
    assert result.returncode == 1
    line = SEED.read_text(encoding="utf-8").splitlines().index("CVJul 6, 2022") + 1
    assert result.stderr.startswith(f"error: line {line}: expected ")
    assert rows(fresh_sqlite) == before


OPENALEX = Path(__file__).resolve().parents[1] / "seeds" / "fixtures" / "openalex"


def test_import_openalex_reports_bad_lines_and_sums_up(fresh_sqlite: str) -> None:
    scholargraph(fresh_sqlite, "db", "upgrade")
    result = scholargraph(fresh_sqlite, "import", "openalex", str(OPENALEX / "broken.jsonl"))
    assert result.returncode == 0
    assert result.stdout.strip() == "2 created, 0 updated, 0 unchanged, 2 skipped"
    assert "skipped broken.jsonl:2: not JSON" in result.stderr
    again = scholargraph(
        fresh_sqlite,
        "import",
        "openalex",
        str(OPENALEX / "works.jsonl.gz"),
        str(OPENALEX / "response.json"),
        "--authors",
        str(OPENALEX / "authors.jsonl"),
    )
    assert again.stdout.strip() == "2 created, 0 updated, 2 unchanged, 0 skipped"


def test_import_openalex_strict_stops_at_the_first_bad_line(fresh_sqlite: str) -> None:
    scholargraph(fresh_sqlite, "db", "upgrade")
    before = rows(fresh_sqlite)
    result = scholargraph(
        fresh_sqlite, "import", "openalex", "--strict", str(OPENALEX / "broken.jsonl")
    )
    assert result.returncode == 1
    assert "broken.jsonl:2: not JSON" in result.stderr
    assert rows(fresh_sqlite) == before
