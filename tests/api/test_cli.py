"""The scholargraph command, run as a user runs it: a process with the database in its env."""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from seeds.openalex_fixture import works
from seeds.parse_worker import ASIDE_FROM

SEED = Path(__file__).resolve().parents[2] / "seeds" / "profile-david-bau.txt"


def scholargraph(
    database_url: str, *args: str, tmp: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The command's run; `tmp` becomes its TMPDIR, where faults are logged."""
    env = {**os.environ, "SCHOLARGRAPH_DATABASE_URL": database_url, "COLUMNS": "200"}
    if tmp is not None:
        env["TMPDIR"] = str(tmp)
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


def test_upgrade_builds_the_indexes_an_unfinished_import_left_to_its_end(
    fresh_sqlite: str, tmp_path: Path
) -> None:
    scholargraph(fresh_sqlite, "db", "upgrade")
    path = fresh_sqlite.removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(path) as connection:  # as db.writes.indexes.drop leaves them
        for name in ("ix_authorship_researcher_paper_order", "ix_paper_year_id"):
            connection.execute(f"DROP INDEX {name}")
    result = scholargraph(fresh_sqlite, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "built ix_authorship_researcher_paper_order, ix_paper_year_id" in result.stdout
    with sqlite3.connect(path) as connection:
        names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {"ix_authorship_researcher_paper_order", "ix_paper_year_id"} <= names
    again = scholargraph(fresh_sqlite, "db", "upgrade")
    assert again.stdout.startswith("database already at the newest migration")
    assert "built" not in again.stdout


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
    assert result.stderr.startswith(f"error: broken.txt:{line}: expected ")
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
    # The author record counts too: it gives David Bau aliases, an affiliation and figures.
    assert again.stdout.strip() == "2 created, 1 updated, 2 unchanged, 0 skipped"


def test_import_openalex_strict_stops_at_the_first_bad_line(fresh_sqlite: str) -> None:
    scholargraph(fresh_sqlite, "db", "upgrade")
    before = rows(fresh_sqlite)
    result = scholargraph(
        fresh_sqlite, "import", "openalex", "--strict", str(OPENALEX / "broken.jsonl")
    )
    assert result.returncode == 1
    assert "broken.jsonl:2: not JSON" in result.stderr
    assert rows(fresh_sqlite) == before


# Imports that go wrong say where and why, alike on both databases, never with a traceback.


def work(number: int, title: str) -> str:
    return json.dumps({"id": f"https://openalex.org/W{number}", "title": title})


def test_text_no_database_stores_is_a_skipped_line_on_both_databases(
    database_url: str, tmp_path: Path
) -> None:
    works = tmp_path / "works.jsonl"
    nested = (
        '{"id": "W4", "title": "Fine", "authorships": [{"author": {"display_name": "\\udc80"}}]}'
    )
    works.write_text(
        "\n".join([work(1, "Fine"), work(2, "Nul\u0000here"), '{"id": "W3", "title": "\\ud800"}'])
        + "\n"
        + nested
        + "\n"
        + work(5, "An escaped backslash: \\u0000 is text")
        + "\n"
    )
    before = rows(database_url)
    result = scholargraph(database_url, "import", "openalex", str(works))
    assert result.returncode == 0
    assert result.stderr.splitlines() == [
        "skipped works.jsonl:2: a NUL character (\\u0000) in title: databases cannot store it",
        "skipped works.jsonl:3: an unpaired surrogate (\\ud800) in title:"
        " databases cannot store it",
        "skipped works.jsonl:4: an unpaired surrogate (\\udc80) in"
        " authorships[0].author.display_name: databases cannot store it",
    ]
    assert result.stdout.strip() == "2 created, 0 updated, 0 unchanged, 3 skipped"
    assert rows(database_url)["paper"] == before["paper"] + 2


def test_text_no_database_stores_under_strict_writes_nothing(
    database_url: str, tmp_path: Path
) -> None:
    works = tmp_path / "works.jsonl"
    works.write_text(work(1, "Fine") + "\n" + work(2, "Nul\u0000here") + "\n")
    before = rows(database_url)
    result = scholargraph(database_url, "import", "openalex", "--strict", str(works))
    assert result.returncode == 1
    assert result.stderr == (
        "error: works.jsonl:2: a NUL character (\\u0000) in title: databases cannot store it"
        " (--strict: nothing of this batch was written)\n"
    )
    assert rows(database_url) == before


def test_a_large_file_read_by_a_child_process_imports_alike_on_both_databases(
    database_url: str, tmp_path: Path
) -> None:
    """A file of a megabyte or more is read by a child process (seeds.parse_worker)."""
    large = tmp_path / "large.jsonl"
    lines = [json.dumps(work) for work in works(2_000, seed=7)]
    lines[699] = lines[699][:40]
    large.write_text("\n".join(lines) + "\n")
    assert large.stat().st_size >= ASIDE_FROM
    before = rows(database_url)
    strict = scholargraph(database_url, "import", "openalex", "--strict", str(large))
    assert strict.returncode == 1
    assert strict.stderr.startswith("error: large.jsonl:700: not JSON")
    assert rows(database_url) == before
    result = scholargraph(database_url, "import", "openalex", str(large))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1,999 created, 0 updated, 0 unchanged, 1 skipped"
    assert result.stderr.startswith("skipped large.jsonl:700: not JSON")
    assert rows(database_url)["paper"] == before["paper"] + 1_999


def cut_gzip(path: Path, whole: int, cut: int) -> None:
    """A gzip file of `whole` works read to the end, then a second member cut short."""
    first = "".join(work(n, f"Work {n}") + "\n" for n in range(1, whole + 1))
    second = "".join(work(n, f"Work {n}") + "\n" for n in range(whole + 1, whole + cut + 1))
    path.write_bytes(gzip.compress(first.encode()) + gzip.compress(second.encode())[:20])


def test_a_truncated_gzip_names_the_file_the_line_and_what_was_written(
    database_url: str, tmp_path: Path
) -> None:
    cut = tmp_path / "works.jsonl.gz"
    cut_gzip(cut, 2500, 500)
    before = rows(database_url)["paper"]
    result = scholargraph(database_url, "import", "openalex", str(cut))
    assert result.returncode == 1
    written = rows(database_url)["paper"] - before
    assert result.stderr.splitlines() == [
        "error: works.jsonl.gz: the gzip data ends early: the file is cut short;"
        " read up to line 2,500",
        f"{written:,} records were written before it stopped ({2500 - written:,} more were read"
        " and not written); once the file is whole, run the same command again: what was"
        " written is matched, not duplicated",
    ]
    assert result.stdout == ""


def test_a_corrupt_gzip_names_the_file_and_what_is_wrong(database_url: str, tmp_path: Path) -> None:
    data = bytearray(
        gzip.compress("".join(work(n, "x" * 50) + "\n" for n in range(1, 200)).encode())
    )
    data[-8] ^= 0xFF  # the CRC of the data
    corrupt = tmp_path / "works.jsonl.gz"
    corrupt.write_bytes(bytes(data))
    result = scholargraph(database_url, "import", "openalex", str(corrupt))
    assert result.returncode == 1
    assert result.stderr.splitlines()[0].startswith(
        "error: works.jsonl.gz: the gzip data is corrupt (CRC check failed "
    )
    assert "Traceback" not in result.stderr


def test_a_profile_error_names_the_file_and_the_line_out_of_place(
    database_url: str, tmp_path: Path
) -> None:
    lines = SEED.read_text(encoding="utf-8").split("\n")
    assert lines[39:41] == ["CVJul 6, 2022", "Local Relighting of Real Scenes"]
    junk = tmp_path / "junk.txt"
    junk.write_text("\n".join([*lines[:40], "junk junk", *lines[40:]]), encoding="utf-8")
    before = rows(database_url)
    result = scholargraph(database_url, "import", "profile", str(junk), "--undated-year", "2026")
    assert result.returncode == 1
    assert result.stderr == (
        "error: junk.txt:41: expected one title line between the head line 40 and the byline"
        " on line 44, not 2 (lines 41, 42), found 'junk junk'\n"
    )
    assert rows(database_url) == before


def test_a_profile_with_a_nul_is_refused_alike_on_both_databases(
    database_url: str, tmp_path: Path
) -> None:
    text = SEED.read_text(encoding="utf-8").replace("Local Relighting", "Local\u0000Relighting")
    nul = tmp_path / "nul.txt"
    nul.write_text(text, encoding="utf-8")
    before = rows(database_url)
    result = scholargraph(database_url, "import", "profile", str(nul), "--undated-year", "2026")
    assert result.returncode == 1
    assert result.stderr == (
        "error: nul.txt:41: expected text without NUL characters or unpaired surrogates"
        " (no database stores them), found 'Local\\x00Relighting of Real Scenes'\n"
    )
    assert rows(database_url) == before


def test_an_unexpected_fault_is_one_line_and_a_log_file(tmp_path: Path) -> None:
    unmigrated = f"sqlite+aiosqlite:///{tmp_path / 'never-upgraded.db'}"
    result = scholargraph(unmigrated, "stats", tmp=tmp_path)
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    log = next((tmp_path / "scholargraph").glob("error-*.log"))
    assert line.startswith(
        "error: unexpected fault, OperationalError: (sqlite3.OperationalError) no such table: "
    )
    assert line.endswith(f"; the details are in {log}")
    assert "Traceback (most recent call last)" in log.read_text(encoding="utf-8")


def test_an_unreachable_database_is_one_line_too(tmp_path: Path) -> None:
    nowhere = "postgresql+asyncpg://postgres@127.0.0.1:1/nothing"
    result = scholargraph(
        nowhere, "import", "openalex", str(OPENALEX / "works.jsonl"), tmp=tmp_path
    )
    assert result.returncode == 1
    first, written = result.stderr.splitlines()
    assert first.startswith("error: unexpected fault, ConnectionRefusedError: ")
    assert first.endswith(f"; the details are in {next((tmp_path / 'scholargraph').iterdir())}")
    assert written.startswith("0 records were written before it stopped (")
