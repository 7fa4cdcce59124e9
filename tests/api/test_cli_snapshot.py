"""`scholargraph import openalex DIR`: a snapshot folder, run as a user runs it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from seeds.openalex_fixture import works as generated_works
from tests.api.test_cli import rows, scholargraph
from tests.seeds.snapshot_folder import SnapshotFolder, corrupt
from tests.seeds.test_snapshot import generated_snapshot


def test_a_snapshot_folder_is_imported_part_by_part_then_a_rerun_does_nothing(
    database_url: str, tmp_path: Path
) -> None:
    folder, works = generated_snapshot(tmp_path / "snapshot")
    first = scholargraph(database_url, "import", "openalex", str(folder.root))
    assert (first.returncode, first.stderr) == (0, "")
    assert first.stdout.splitlines() == [
        "authors/updated_date=2024-02-01/part_000.gz: 10 created, 0 updated, 0 unchanged,"
        " 0 skipped",
        "works/updated_date=2024-01-01/part_000.gz: 150 created, 0 updated, 0 unchanged, 0 skipped",
        "works/updated_date=2024-01-01/part_001.gz: 150 created, 0 updated, 0 unchanged, 0 skipped",
        "works/updated_date=2024-03-01/part_000.gz: 50 created, 20 updated, 0 unchanged, 0 skipped",
        "4 parts imported (360 created, 20 updated, 0 unchanged, 0 skipped),"
        " 0 skipped as imported before",
    ]
    before = rows(database_url)
    assert (before["paper"], before["snapshot_part"]) == (len(works), 4)

    again = scholargraph(database_url, "import", "openalex", str(folder.root / "data"))
    assert (again.returncode, again.stderr) == (0, "")
    assert again.stdout == (
        "nothing to import: all 4 parts and 0 merged-ids files were imported before\n"
    )
    assert rows(database_url) == before


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated SQLite database: the messages are the command's, the same on both."""
    shutil.copyfile(sqlite_template, tmp_path / "cli.db")
    return f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"


def test_a_corrupt_part_stops_with_one_line_and_the_rerun_resumes(
    sqlite_url: str, tmp_path: Path
) -> None:
    database_url = sqlite_url
    folder, _ = generated_snapshot(tmp_path / "snapshot")
    spoiled = folder.parts["works"][1]
    original = corrupt(spoiled)
    stopped = scholargraph(database_url, "import", "openalex", str(folder.root), tmp=tmp_path)
    assert stopped.returncode == 1
    assert "Traceback" not in stopped.stderr
    problem, advice = stopped.stderr.splitlines()
    assert problem.startswith(
        "error: works/updated_date=2024-01-01/part_001.gz: the gzip data is corrupt"
        " (CRC check failed"
    )
    assert problem.endswith("; read up to line 150")
    assert advice == (
        "the parts before it are imported and recorded; once the file is whole, run the same"
        " command again: it skips them and starts this part over"
    )

    spoiled.write_bytes(original)
    resumed = scholargraph(database_url, "import", "openalex", str(folder.root))
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.splitlines()[-1] == (
        "2 parts imported (200 created, 20 updated, 0 unchanged, 0 skipped),"
        " 2 skipped as imported before"
    )


def test_a_missing_part_and_a_wrong_count_are_named_with_what_was_expected(
    sqlite_url: str, tmp_path: Path
) -> None:
    database_url = sqlite_url
    folder, _ = generated_snapshot(tmp_path / "snapshot")
    folder.parts["works"][2].unlink()
    missing = scholargraph(database_url, "import", "openalex", str(folder.root))
    assert (missing.returncode, missing.stdout) == (1, "")
    assert missing.stderr == (
        "error: works/updated_date=2024-03-01/part_000.gz: listed in the manifest (70 records)"
        " but not found\n"
    )
    assert rows(database_url)["paper"] == 0

    folder = SnapshotFolder(tmp_path / "other")
    folder.add_part("works", "2024-01-01", list(generated_works(5, seed=4)))
    folder.write_manifest(
        "works", **{"works/updated_date=2024-01-01/part_000.gz": {"record_count": 6}}
    )
    wrong = scholargraph(database_url, "import", "openalex", str(folder.root))
    assert wrong.returncode == 1
    assert wrong.stderr.splitlines()[0] == (
        "error: works/updated_date=2024-01-01/part_000.gz: the manifest gives 6 records,"
        " the file holds 5"
    )


def test_a_folder_given_with_files_is_refused(sqlite_url: str, tmp_path: Path) -> None:
    database_url = sqlite_url
    folder, _ = generated_snapshot(tmp_path / "snapshot")
    mixed = scholargraph(
        database_url, "import", "openalex", str(folder.root), str(folder.parts["works"][0])
    )
    assert (mixed.returncode, mixed.stderr) == (
        2,
        "error: give one snapshot folder, or files (with --authors), not both\n",
    )
    plain = scholargraph(database_url, "import", "openalex", str(tmp_path))
    assert (plain.returncode, plain.stderr) == (
        1,
        f"error: {tmp_path}: no OpenAlex snapshot here (expected data/works/manifest and its"
        " parts)\n",
    )
