"""An OpenAlex snapshot folder in the published layout, imported part by part and resumed.

Each test writes its own small snapshot (tests.seeds.snapshot_folder): gzip
JSON lines under data/<entity>/updated_date=.../part_NNN.gz, the manifests
OpenAlex publishes, and merged_ids CSV files.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from db.engine import create_engine, create_session_factory
from resolvers import metrics
from seeds.jsonrecords import UnreadableFileError
from seeds.openalex import work_from_openalex
from seeds.openalex_fixture import works as generated_works
from seeds.openalex_snapshot import RecordCountError, SnapshotError, import_snapshot
from seeds.openalex_snapshot.merged_ids import MergedIds
from tests.api.conftest import open_client
from tests.conftest import PostgresServer
from tests.seeds.snapshot_folder import SnapshotFolder, corrupt
from tests.seeds.test_matching import authorship, openalex_work, rows

JANUARY, FEBRUARY, MARCH = "2024-01-01", "2024-02-01", "2024-03-01"


def short(url: str) -> str:
    return url.rsplit("/", 1)[1]


def author_record(author_id: str, name: str, *, h_index: int, i10: int) -> dict[str, Any]:
    """An OpenAlex author record with the fields the importer reads (and a few it does not)."""
    return {
        "id": f"https://openalex.org/{author_id}",
        "orcid": None,
        "display_name": name,
        "display_name_alternatives": [name],
        "works_count": 40,
        "cited_by_count": 900,
        "summary_stats": {"2yr_mean_citedness": 1.5, "h_index": h_index, "i10_index": i10},
        "ids": {"openalex": f"https://openalex.org/{author_id}"},
        "affiliations": [],
        "last_known_institutions": [],
        "updated_date": "2024-02-01T00:00:00.000000",
    }


def generated_snapshot(root: Path) -> tuple[SnapshotFolder, list[dict[str, Any]]]:
    """Works in two January parts and one March part (20 of January's works again, with new
    counts, and 50 new ones); authors in February. The works as the snapshot ends them."""
    works = list(generated_works(350, seed=3))
    january, march_new = works[:300], works[300:]
    march_again = [{**work, "cited_by_count": work["cited_by_count"] + 7} for work in works[:20]]
    folder = SnapshotFolder(root)
    folder.add_part("works", JANUARY, january[:150])
    folder.add_part("works", JANUARY, january[150:])
    folder.add_part("works", MARCH, march_again + march_new)
    people = {
        short(a["author"]["id"]): a["author"]["display_name"]
        for w in works
        for a in w["authorships"]
    }
    first_ten = sorted(people)[:10]
    folder.add_part(
        "authors", FEBRUARY, [author_record(a, people[a], h_index=3, i10=2) for a in first_ten]
    )
    latest = {work["id"]: work for work in january + march_again + march_new}
    return folder, list(latest.values())


async def test_parts_are_imported_in_order_of_date_and_the_api_figures_equal_an_independent_count(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    database_url: str,
) -> None:
    folder, works = generated_snapshot(tmp_path / "snapshot")
    summary = await import_snapshot(sessions, folder.root, batch_size=41)
    assert [part.name for part, _ in summary.imported] == [
        "authors/updated_date=2024-02-01/part_000.gz",
        "works/updated_date=2024-01-01/part_000.gz",
        "works/updated_date=2024-01-01/part_001.gz",
        "works/updated_date=2024-03-01/part_000.gz",
    ]
    march = summary.imported[-1][1]
    assert (march.created, march.updated, march.unchanged) == (50, 20, 0)
    assert await rows(engine, "SELECT openalex_id, citation_count FROM paper ORDER BY 1") == sorted(
        (short(w["id"]), w["cited_by_count"]) for w in works
    )
    counts: dict[str, list[int]] = {}
    for work in works:
        for a in work["authorships"]:
            counts.setdefault(short(a["author"]["id"]), []).append(work["cited_by_count"])
    async for client in open_client(database_url):
        data = await client.data(
            "{ researchers(first: 100) { totalCount nodes { openalexId"
            " metrics { paperCount citationCount hIndex } reportedMetrics { i10Index } } } }"
        )
    nodes = data["researchers"]["nodes"]
    assert data["researchers"]["totalCount"] == len(counts)
    assert {node["openalexId"]: node["metrics"] for node in nodes} == {
        author: {"paperCount": len(c), "citationCount": sum(c), "hIndex": metrics.h_index(c)}
        for author, c in counts.items()
    }
    reported = {node["openalexId"] for node in nodes if node["reportedMetrics"]}
    assert reported == set(sorted(counts)[:10])


async def test_a_finished_snapshot_imported_again_does_nothing(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    folder, _ = generated_snapshot(tmp_path / "snapshot")
    await import_snapshot(sessions, folder.root)
    before = await table_rows(engine)
    again = await import_snapshot(sessions, folder.root)
    assert again.nothing_to_do
    assert (again.parts_done_before, again.imported) == (4, [])
    assert await table_rows(engine) == before


async def test_a_part_cut_short_stops_the_import_and_the_rerun_ends_as_a_clean_run(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    other_database: str,
) -> None:
    """The corrupt part was half written when the import stopped: it is not recorded done,
    and the rerun imports it again from its first line, skipping the parts before it."""
    folder, _ = generated_snapshot(tmp_path / "snapshot")
    spoiled = folder.parts["works"][1]
    original = corrupt(spoiled)
    with pytest.raises(UnreadableFileError) as stopped:
        await import_snapshot(sessions, folder.root, batch_size=41)
    assert str(stopped.value).startswith(
        "works/updated_date=2024-01-01/part_001.gz: the gzip data is corrupt"
    )
    assert await rows(engine, "SELECT path FROM snapshot_part ORDER BY 1") == [
        ("authors/updated_date=2024-02-01/part_000.gz",),
        ("works/updated_date=2024-01-01/part_000.gz",),
    ]
    [(papers,)] = await rows(engine, "SELECT count(*) FROM paper")
    assert 150 < papers < 300  # batches of the spoiled part were written before it stopped

    spoiled.write_bytes(original)
    resumed = await import_snapshot(sessions, folder.root, batch_size=41)
    assert resumed.parts_done_before == 2
    assert [part.name for part, _ in resumed.imported] == [
        "works/updated_date=2024-01-01/part_001.gz",
        "works/updated_date=2024-03-01/part_000.gz",
    ]
    clean = create_engine(other_database)
    try:
        await import_snapshot(create_session_factory(clean), folder.root)
        assert await table_rows(engine) == await table_rows(clean)
    finally:
        await clean.dispose()


async def test_a_record_count_other_than_the_manifests_stops_and_leaves_the_part_to_do(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    folder, _ = generated_snapshot(tmp_path / "snapshot")
    folder.write_manifest(
        "works", **{"works/updated_date=2024-01-01/part_001.gz": {"record_count": 151}}
    )
    with pytest.raises(RecordCountError) as stopped:
        await import_snapshot(sessions, folder.root, batch_size=41)
    assert stopped.value.problems == [
        "works/updated_date=2024-01-01/part_001.gz: the manifest gives 151 records,"
        " the file holds 150"
    ]
    done = await rows(engine, "SELECT path FROM snapshot_part ORDER BY 1")
    assert ("works/updated_date=2024-01-01/part_001.gz",) not in done
    folder.write_manifest("works")
    resumed = await import_snapshot(sessions, folder.root)
    first = resumed.imported[0][0]
    assert first.name == "works/updated_date=2024-01-01/part_001.gz"


async def test_a_part_missing_or_of_another_size_is_reported_before_anything_is_written(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    folder, _ = generated_snapshot(tmp_path / "snapshot")
    folder.parts["works"][2].unlink()
    cut = folder.parts["works"][0]
    size = cut.stat().st_size
    cut.write_bytes(cut.read_bytes()[:-100])
    with pytest.raises(SnapshotError) as refused:
        await import_snapshot(sessions, folder.root)
    assert refused.value.problems == [
        f"works/updated_date=2024-01-01/part_000.gz: the manifest gives {size:,} bytes, the file"
        f" has {size - 100:,} (a download cut short or from another snapshot?)",
        "works/updated_date=2024-03-01/part_000.gz: listed in the manifest (70 records)"
        " but not found",
    ]
    assert await rows(engine, "SELECT count(*) FROM paper") == [(0,)]
    assert await rows(engine, "SELECT count(*) FROM researcher") == [(0,)]


async def test_a_folder_without_a_manifest_is_refused(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    folder, _ = generated_snapshot(tmp_path / "snapshot")
    (folder.data / "works" / "manifest").unlink()
    with pytest.raises(SnapshotError) as refused:
        await import_snapshot(sessions, folder.root)
    assert refused.value.problems == [
        "works/manifest: not found (OpenAlex removes it while it writes a partition;"
        " copy the folder again once the manifest is back)"
    ]


# Merged ids

ADA, ADA_AGAIN, GRACE, ALAN = "A100", "A103", "A102", "A104"


def first_snapshot(root: Path) -> SnapshotFolder:
    """Ada recorded twice (A100, A103), a journal article and its duplicate, a lone work."""
    folder = SnapshotFolder(root)
    duplicate = openalex_work(
        "W1",
        "Engines of analysis",
        1843,
        doi="10.1/one",
        cited=10,
        authorships=[authorship("Ada Lovelace", ADA), authorship("A. Lovelace", ADA_AGAIN)],
    )
    duplicate["locations"] = [{"landing_page_url": "https://arxiv.org/abs/1843.00001"}]
    folder.add_part(
        "works",
        JANUARY,
        [
            duplicate,
            openalex_work(
                "W2",
                "Engines of analysis (journal)",
                1843,
                doi="10.1/two",
                cited=30,
                authorships=[authorship("Ada Lovelace", ADA), authorship("Grace Hopper", GRACE)],
            ),
            openalex_work(
                "W5", "A lone note", 1850, cited=3, authorships=[authorship("Alan Turing", ALAN)]
            ),
            openalex_work(
                "W6",
                "Notes by the other Ada",
                1844,
                cited=5,
                authorships=[authorship("A. Lovelace", ADA_AGAIN)],
            ),
        ],
    )
    folder.add_part(
        "authors",
        JANUARY,
        [
            author_record(ADA, "Ada Lovelace", h_index=9, i10=8),
            author_record(ADA_AGAIN, "A. Lovelace", h_index=1, i10=0),
        ],
    )
    return folder


async def test_merged_works_and_authors_fold_into_the_records_they_were_merged_into(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    database_url: str,
) -> None:
    folder = first_snapshot(tmp_path / "snapshot")
    await import_snapshot(sessions, folder.root)
    # OpenAlex then merges W1 into W2, W5 into W9 (not stored here), A103 into A100, and
    # publishes March's works, one of them still naming A103.
    folder.add_merges("works", FEBRUARY, [("W1", "W2"), ("W5", "W9")])
    folder.add_merges("authors", FEBRUARY, [(ADA_AGAIN, ADA)])
    folder.add_part(
        "works",
        MARCH,
        [
            openalex_work(
                "W7",
                "Sketch of the engine",
                1842,
                cited=4,
                authorships=[authorship("A. Lovelace", ADA_AGAIN), authorship("Alan Turing", ALAN)],
            ),
            openalex_work("W1", "Engines of analysis", 1843, doi="10.1/one", cited=10),
        ],
    )
    summary = await import_snapshot(sessions, folder.root)

    assert (summary.folded, summary.renamed) == (
        {"works": 1, "authors": 1},
        {"works": 1, "authors": 0},
    )
    assert summary.merged_away == 1  # March's copy of W1: W2's record stands for it
    assert await rows(
        engine, "SELECT openalex_id, doi, arxiv_id, title, citation_count FROM paper ORDER BY 1"
    ) == [
        ("W2", "10.1/two", "1843.00001", "Engines of analysis (journal)", 30),
        ("W6", None, None, "Notes by the other Ada", 5),
        ("W7", None, None, "Sketch of the engine", 4),
        ("W9", None, None, "A lone note", 3),
    ]
    assert await rows(
        engine,
        "SELECT p.openalex_id, r.openalex_id FROM authorship a JOIN paper p ON p.id = a.paper_id"
        " JOIN researcher r ON r.id = a.researcher_id ORDER BY 1, 2",
    ) == [("W2", ADA), ("W2", GRACE), ("W6", ADA), ("W7", ADA), ("W7", ALAN), ("W9", ALAN)]
    assert await rows(engine, "SELECT openalex_id FROM researcher ORDER BY 1") == [
        (ADA,),
        (GRACE,),
        (ALAN,),
    ]
    async for client in open_client(database_url):
        data = await client.data(
            "{ researchers(first: 10) { nodes { openalexId name"
            " metrics { paperCount citationCount hIndex } reportedMetrics { hIndex } } } }"
        )
    ada = next(n for n in data["researchers"]["nodes"] if n["openalexId"] == ADA)
    assert ada == {
        "openalexId": ADA,
        "name": "Ada Lovelace",
        "metrics": {"paperCount": 3, "citationCount": 39, "hIndex": 3},
        "reportedMetrics": {"hIndex": 9},
    }

    again = await import_snapshot(sessions, folder.root)
    assert again.nothing_to_do
    assert (again.parts_done_before, again.merges_done_before) == (3, 2)


# Fixtures and helpers


@pytest.fixture
def other_database(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> Iterator[str]:
    """A second empty migrated database of the same kind as `database_url`."""
    if database_url.startswith("sqlite"):
        path = tmp_path / "other.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database(template=request.getfixturevalue("postgres_template"))
    yield server.url_of(name)
    server.drop_database(name)


TABLE_ROWS = {
    "paper": "SELECT openalex_id, doi, arxiv_id, title, year, published_on, citation_count"
    " FROM paper",
    "authorship": "SELECT p.openalex_id, r.slug, a.position, a.display_name FROM authorship a"
    " JOIN paper p ON p.id = a.paper_id JOIN researcher r ON r.id = a.researcher_id",
    "researcher": "SELECT slug, name, name_key, openalex_id, orcid FROM researcher",
    "alias": "SELECT r.slug, alias FROM researcher_alias JOIN researcher r ON r.id = researcher_id",
    "reported": "SELECT r.slug, source, h_index, i10_index, paper_count, captured_on"
    " FROM reported_metrics JOIN researcher r ON r.id = researcher_id",
    "indicators": "SELECT r.slug, paper_count, citation_count, h_index FROM researcher_indicators"
    " JOIN researcher r ON r.id = researcher_id",
    "citation_year": "SELECT p.openalex_id, c.year, c.count FROM citation_year c"
    " JOIN paper p ON p.id = c.paper_id",
    "parts": "SELECT path, content_length, record_count FROM snapshot_part",
}


async def table_rows(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """What an import wrote, without surrogate ids and timestamps, each table sorted."""
    return {name: sorted(await rows(engine, sql), key=repr) for name, sql in TABLE_ROWS.items()}


def test_a_chain_of_merges_ends_at_its_last_target_and_a_byline_names_each_author_once() -> None:
    merged = MergedIds()
    merged.add("authors", [("A1", "A2"), ("A3", "A4")])
    merged.add("authors", [("A2", "A3"), ("A9", "A8"), ("A8", "A9")])  # later files; a loop
    assert [merged.resolved("authors", a) for a in ("A1", "A2", "A4", "A5")] == [
        "A4",
        "A4",
        "A4",
        "A5",
    ]
    assert merged.resolved("authors", "A9") in {"A8", "A9"}
    work = work_from_openalex(
        openalex_work(
            "W1",
            "Notes",
            1843,
            authorships=[
                authorship("Ada Lovelace", "A1"),
                authorship("Charles Babbage", "A7"),
                authorship("A. Lovelace", "A4"),
            ],
        )
    )
    assert [(ref.openalex_id, ref.name) for ref in merged.work(work).authors] == [
        ("A4", "Ada Lovelace"),
        ("A7", "Charles Babbage"),
    ]
