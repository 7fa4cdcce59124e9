"""What imports join and what they keep apart, with records in the shapes OpenAlex and S2 publish.

Each rule of seeds.bulk is tested from the files a user would import, and
checked in the rows (or through the API) a user would then see.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from db.writes.indicators import refresh_indicators
from resolvers import metrics
from seeds import importer
from seeds.importer import ImportSummary, import_records, parsed
from seeds.jsonrecords import read_records
from seeds.openalex import author_from_openalex, work_from_openalex
from seeds.openalex_fixture import works as generated_works
from seeds.seed import seed_database
from seeds.semanticscholar import work_from_s2
from tests.api.conftest import open_client

MIT = {
    "id": "https://openalex.org/I63966007",
    "display_name": "Massachusetts Institute of Technology",
    "ror": "https://ror.org/042nb2s44",
    "country_code": "US",
    "type": "education",
    "lineage": ["https://openalex.org/I63966007"],
}


def authorship(
    name: str,
    author_id: str | None,
    *,
    position: str = "middle",
    orcid: str | None = None,
    institutions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One entry of an OpenAlex work's `authorships`, as the API returns it."""
    return {
        "author_position": position,
        "author": {
            "id": f"https://openalex.org/{author_id}" if author_id else None,
            "display_name": name,
            "orcid": f"https://orcid.org/{orcid}" if orcid else None,
        },
        "institutions": institutions or [],
        "countries": [],
        "is_corresponding": False,
        "raw_author_name": name,
        "raw_affiliation_strings": [],
    }


def openalex_work(
    work_id: str,
    title: str,
    year: int,
    *,
    doi: str | None = None,
    cited: int = 0,
    authorships: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An OpenAlex work record with the fields the importer reads (and a few it does not)."""
    return {
        "id": f"https://openalex.org/{work_id}",
        "doi": f"https://doi.org/{doi}" if doi else None,
        "title": title,
        "display_name": title,
        "publication_year": year,
        "publication_date": f"{year}-06-01",
        "type": "article",
        "authorships": authorships or [],
        "cited_by_count": cited,
        "counts_by_year": [{"year": 2024, "cited_by_count": cited}] if cited else [],
        "abstract_inverted_index": None,
        "locations": [],
    }


def write_lines(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


async def import_works(
    sessions: async_sessionmaker[AsyncSession], path: Path, **options: Any
) -> ImportSummary:
    return await import_records(sessions, parsed(read_records(path), work_from_openalex), **options)


async def rows(engine: AsyncEngine, sql: str) -> list[tuple[Any, ...]]:
    async with engine.connect() as connection:
        return [tuple(row) for row in (await connection.execute(text(sql))).all()]


# Works


async def test_works_with_different_dois_stay_two_papers_whatever_the_order(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    title = "The Economics of Information Technology"
    article = openalex_work("W2001", title, 1999, doi="10.1086/262115", cited=218)
    working_paper = openalex_work("W2002", title, 1999, doi="10.2139/ssrn.200528", cited=45)
    for name, order in (("one", [article, working_paper]), ("two", [working_paper, article])):
        await import_works(sessions, write_lines(tmp_path / f"{name}.jsonl", order))
    assert await rows(
        engine, "SELECT openalex_id, doi, citation_count FROM paper ORDER BY openalex_id"
    ) == [("W2001", "10.1086/262115", 218), ("W2002", "10.2139/ssrn.200528", 45)]
    assert await rows(engine, "SELECT sum(count) FROM citation_year") == [(263,)]


async def test_a_preprint_a_year_earlier_joins_the_paper_that_has_no_conflicting_id(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    s2 = {
        "paperId": "649def34f8be52c8b66281af98ae884c09aef38b",
        "externalIds": {"ArXiv": "2210.07229"},
        "title": "Mass-Editing Memory in a Transformer",
        "year": 2022,
        "citationCount": 300,
        "authors": [{"authorId": "144159726", "name": "David Bau"}],
    }
    path = write_lines(tmp_path / "s2.jsonl", [s2])
    await import_records(sessions, parsed(read_records(path), work_from_s2))
    published = openalex_work(
        "W4306178032",
        "Mass-editing memory in a transformer.",
        2023,
        doi="10.5555/iclr.2023",
        cited=312,
    )
    two_years_on = openalex_work("W4306170000", "Mass-Editing Memory in a Transformer", 2024)
    summary = await import_works(
        sessions, write_lines(tmp_path / "oa.jsonl", [published, two_years_on])
    )
    assert (summary.created, summary.updated) == (1, 1)
    assert await rows(
        engine,
        "SELECT semantic_scholar_id, arxiv_id, openalex_id, doi, year, citation_count"
        " FROM paper ORDER BY id",
    ) == [
        (s2["paperId"], "2210.07229", "W4306178032", "10.5555/iclr.2023", 2022, 312),
        (None, None, "W4306170000", None, 2024, 0),
    ]


async def test_a_record_whose_doi_another_paper_holds_keeps_its_own_paper(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    first = openalex_work("W1", "A shared DOI", 2020, doi="10.1/shared", cited=3)
    second = openalex_work("W2", "A shared DOI, again", 2020, doi="10.1/shared", cited=4)
    await import_works(sessions, write_lines(tmp_path / "a.jsonl", [first, second]))
    assert await rows(engine, "SELECT openalex_id, doi FROM paper ORDER BY id") == [
        ("W1", "10.1/shared"),
        ("W2", None),
    ]


# Authors


async def test_authors_with_different_openalex_ids_are_different_researchers(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    database_url: str,
) -> None:
    records = [
        openalex_work(
            f"W30{i}",
            f"Paper {i}",
            2020,
            cited=10 * (i + 1),
            authorships=[authorship("Wei Zhang", author, orcid=orcid)],
        )
        for i, (author, orcid) in enumerate(
            [
                ("A1", "0000-0001-0000-0001"),
                ("A2", "0000-0001-0000-0002"),
                ("A3", None),
                ("A1", None),
            ]
        )
    ]
    # One record per batch: the slug suffixes of earlier batches are probed past, not reused.
    await import_works(sessions, write_lines(tmp_path / "zhang.jsonl", records), batch_size=1)
    assert await rows(
        engine,
        "SELECT r.slug, r.openalex_id, r.orcid, count(a.id) FROM researcher r"
        " JOIN authorship a ON a.researcher_id = r.id GROUP BY r.id ORDER BY r.openalex_id",
    ) == [
        ("wei-zhang", "A1", "0000-0001-0000-0001", 2),
        ("wei-zhang-2", "A2", "0000-0001-0000-0002", 1),
        ("wei-zhang-3", "A3", None, 1),
    ]
    async for client in open_client(database_url):
        data = await client.data(
            '{ researcher(slug: "wei-zhang-2") { orcid metrics { citationCount } } }'
        )
    assert data["researcher"] == {"orcid": "0000-0001-0000-0002", "metrics": {"citationCount": 20}}


async def test_an_author_with_an_id_joins_a_same_named_researcher_without_one(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await seed_database(sessions)  # David Bau, with no ids
    record = openalex_work(
        "W5", "A new paper", 2025, authorships=[authorship("David Bau", "A5023888391")]
    )
    stranger = openalex_work(
        "W6", "Another David Bau", 2025, authorships=[authorship("David Bau", "A9999999999")]
    )
    await import_works(sessions, write_lines(tmp_path / "bau.jsonl", [record, stranger]))
    assert await rows(
        engine, "SELECT slug, openalex_id FROM researcher WHERE name = 'David Bau' ORDER BY id"
    ) == [("david-bau", "A5023888391"), ("david-bau-2", "A9999999999")]


async def test_an_orcid_held_by_another_openalex_author_is_not_a_match(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    orcid = "0000-0002-1825-0097"
    records = [
        openalex_work("W7", "One", 2020, authorships=[authorship("Ann Lee", "A70", orcid=orcid)]),
        openalex_work("W8", "Two", 2020, authorships=[authorship("Ann Lee", "A71", orcid=orcid)]),
    ]
    await import_works(sessions, write_lines(tmp_path / "lee.jsonl", records))
    assert await rows(engine, "SELECT openalex_id, orcid FROM researcher ORDER BY id") == [
        ("A70", orcid),
        ("A71", None),
    ]


# Authors without an id


async def test_last_first_repeats_are_dropped_and_other_idless_names_stay_printed(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    named = [("Silvia Secchi", "A81"), ("Paolo Rossi", "A82")]
    record = openalex_work(
        "W9",
        "Growth and the World Bank",
        2019,
        authorships=[
            *(authorship(name, author) for name, author in named),
            authorship("Secchi, Silvia", None),
            authorship("Rossi, P.", None),
            authorship("World Bank", None),
        ],
    )
    # A stored researcher of the same name as an id-less entry is not its author.
    elsewhere = openalex_work(
        "W10", "Elsewhere", 2019, authorships=[authorship("World Bank", "A83")]
    )
    await import_works(sessions, write_lines(tmp_path / "w.jsonl", [elsewhere, record]))
    assert await rows(
        engine,
        "SELECT a.position, r.name FROM authorship a JOIN researcher r ON r.id = a.researcher_id"
        " JOIN paper p ON p.id = a.paper_id WHERE p.openalex_id = 'W9' ORDER BY a.position",
    ) == [(1, "Silvia Secchi"), (2, "Paolo Rossi")]
    assert await rows(engine, "SELECT position, display_name FROM unlinked_author") == [
        (5, "World Bank")
    ]
    assert await rows(engine, "SELECT count(*) FROM researcher") == [(3,)]
    again = await import_works(sessions, write_lines(tmp_path / "w.jsonl", [elsewhere, record]))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


async def test_an_idless_semantic_scholar_author_stays_printed(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    paper = {
        "paperId": "p1",
        "title": "A consortium paper",
        "year": 2021,
        "authors": [
            {"authorId": "1741101", "name": "Ann Lee"},
            {"authorId": None, "name": "The ATLAS Collaboration"},
        ],
    }
    path = write_lines(tmp_path / "s2.jsonl", [paper])
    await import_records(sessions, parsed(read_records(path), work_from_s2))
    assert await rows(engine, "SELECT name FROM researcher") == [("Ann Lee",)]
    assert await rows(engine, "SELECT position, display_name FROM unlinked_author") == [
        (2, "The ATLAS Collaboration")
    ]


# Counts that reflect the file


async def test_an_author_record_keeps_every_reported_figure_with_its_date(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    database_url: str,
) -> None:
    author = json.loads(
        (Path(__file__).parent / "fixtures" / "openalex" / "authors.jsonl")
        .read_text()
        .splitlines()[0]
    )
    author["summary_stats"] = {"2yr_mean_citedness": 5.25, "h_index": 52, "i10_index": 80}
    author["updated_date"] = "2026-11-02T04:11:23.156473"
    path = write_lines(tmp_path / "authors.jsonl", [author])
    load = parsed(read_records(path), author_from_openalex)
    first = await import_records(sessions, load)
    again = await import_records(sessions, parsed(read_records(path), author_from_openalex))
    assert (first.created, again.unchanged) == (1, 1)
    assert await rows(
        engine,
        "SELECT source, captured_on, h_index, i10_index, two_year_mean_citedness,"
        " citation_count, paper_count FROM reported_metrics",
    ) == [("openalex", _date(engine, "2026-11-02"), 52, 80, 5.25, author["cited_by_count"], 87)]
    async for client in open_client(database_url):
        data = await client.data(
            '{ researcher(slug: "david-bau") { reportedMetrics {'
            " source capturedOn hIndex i10Index twoYearMeanCitedness paperCount } } }"
        )
    assert data["researcher"]["reportedMetrics"] == {
        "source": "openalex",
        "capturedOn": "2026-11-02",
        "hIndex": 52,
        "i10Index": 80,
        "twoYearMeanCitedness": 5.25,
        "paperCount": 87,
    }


def _date(engine: AsyncEngine, day: str) -> Any:
    from datetime import date

    return day if engine.dialect.name == "sqlite" else date.fromisoformat(day)


async def test_reimporting_an_unchanged_file_reports_every_record_unchanged(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    records = list(generated_works(300, seed=3))
    path = write_lines(tmp_path / "works.jsonl", records)
    first = await import_works(sessions, path, batch_size=64)
    before = await rows(engine, "SELECT count(*) FROM authorship")
    again = await import_works(sessions, path, batch_size=64)
    assert (first.created, first.updated, first.unchanged) == (300, 0, 0)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 300)
    assert await rows(engine, "SELECT count(*) FROM authorship") == before


async def test_the_bulk_path_writes_what_the_file_says(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    database_url: str,
) -> None:
    """The rows and every author's figures equal an independent reading of the file.

    The row-by-row writer is gone; the expectation is computed here from the
    JSON alone. Batches of 37 make authors recur across batches and within them.
    """
    records = list(generated_works(400, seed=5))
    await import_works(sessions, write_lines(tmp_path / "works.jsonl", records), batch_size=37)
    expected_bylines = sorted(
        (record["id"].rsplit("/", 1)[1], a["author"]["id"].rsplit("/", 1)[1], place)
        for record in records
        for place, a in enumerate(record["authorships"], 1)
    )
    assert (
        await rows(
            engine,
            "SELECT p.openalex_id, r.openalex_id, a.position FROM authorship a"
            " JOIN paper p ON p.id = a.paper_id JOIN researcher r ON r.id = a.researcher_id"
            " ORDER BY 1, 2, 3",
        )
        == expected_bylines
    )
    assert await rows(
        engine, "SELECT openalex_id, doi, citation_count, year, title FROM paper ORDER BY 1"
    ) == sorted(
        (
            r["id"].rsplit("/", 1)[1],
            r["doi"].removeprefix("https://doi.org/"),
            r["cited_by_count"],
            r["publication_year"],
            r["title"],
        )
        for r in records
    )
    counts: dict[str, list[int]] = {}
    for record in records:
        for a in record["authorships"]:
            counts.setdefault(a["author"]["id"].rsplit("/", 1)[1], []).append(
                record["cited_by_count"]
            )
    async for client in open_client(database_url):
        data = await client.data(
            "{ researchers(first: 100) { totalCount nodes { openalexId"
            " metrics { paperCount citationCount hIndex } } } }"
        )
        leaders = await client.data(
            "{ researchers(first: 5, orderBy: {field: H_INDEX, direction: DESC})"
            " { nodes { openalexId metrics { hIndex } } } }"
        )
    assert data["researchers"]["totalCount"] == len(counts)
    assert {node["openalexId"]: node["metrics"] for node in data["researchers"]["nodes"]} == {
        author: {
            "paperCount": len(cited),
            "citationCount": sum(cited),
            "hIndex": metrics.h_index(cited),
        }
        for author, cited in counts.items()
    }
    top = [node["metrics"]["hIndex"] for node in leaders["researchers"]["nodes"]]
    assert top == sorted((metrics.h_index(c) for c in counts.values()), reverse=True)[:5]


# Institutions


async def test_institutions_match_by_openalex_id_ror_then_name_and_the_seed_slug(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await seed_database(sessions)  # its bylines name `mit`
    ror_only = {"id": None, "display_name": "MIT", "ror": MIT["ror"], "type": "education"}
    other = {
        "id": "https://openalex.org/I1",
        "display_name": "Massachusetts Institute of Technology",  # another id: another place
        "ror": None,
    }
    records = [
        openalex_work(
            "W11", "One", 2021, authorships=[authorship("Ann Lee", "A90", institutions=[MIT])]
        ),
        openalex_work(
            "W12", "Two", 2021, authorships=[authorship("Ann Lee", "A90", institutions=[ror_only])]
        ),
        openalex_work(
            "W13", "Three", 2021, authorships=[authorship("Bo Li", "A91", institutions=[other])]
        ),
    ]
    await import_works(sessions, write_lines(tmp_path / "mit.jsonl", records))
    assert await rows(
        engine,
        "SELECT slug, name, openalex_id, ror FROM institution"
        " WHERE name_key = 'massachusetts institute of technology' ORDER BY id",
    ) == [
        ("mit", "Massachusetts Institute of Technology", "I63966007", "042nb2s44"),
        (
            "massachusetts-institute-of-technology",
            "Massachusetts Institute of Technology",
            "I1",
            None,
        ),
    ]
    assert await rows(
        engine,
        "SELECT p.openalex_id, i.slug FROM paper_institution x JOIN paper p ON p.id = x.paper_id"
        " JOIN institution i ON i.id = x.institution_id WHERE p.openalex_id IS NOT NULL ORDER BY 1",
    ) == [
        ("W11", "mit"),
        ("W12", "mit"),
        ("W13", "massachusetts-institute-of-technology"),
    ]


async def test_an_openalex_institution_imported_first_takes_the_seed_slug(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    record = openalex_work(
        "W14", "First", 2021, authorships=[authorship("Ann Lee", "A90", institutions=[MIT])]
    )
    await import_works(sessions, write_lines(tmp_path / "mit.jsonl", [record]))
    await seed_database(sessions)
    assert await rows(
        engine,
        "SELECT slug, openalex_id FROM institution"
        " WHERE name_key = 'massachusetts institute of technology'",
    ) == [("mit", "I63966007")]


async def test_an_import_refreshes_the_figures_of_every_researcher_it_touched(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The first import touches everyone: one statement recomputes everyone's figures. The
    # second touches a few, refreshed a few at a time, as a large import's hundreds of
    # thousands are. The figures are those a refresh of everyone gives afterwards, and
    # every researcher has them.
    monkeypatch.setattr(importer, "REFRESH_CHUNK", 3)
    calls: list[str] = []
    for name in ("refresh_all_indicators", "refresh_indicators"):
        monkeypatch.setattr(importer, name, counted(getattr(importer, name), name, calls))
    records = list(generated_works(80, seed=3))
    await import_works(sessions, write_lines(tmp_path / "works.jsonl", records))
    assert set(calls) == {"refresh_all_indicators"}
    calls.clear()
    more = list(generated_works(2, seed=4))  # by one of the first file's authors
    await import_works(sessions, write_lines(tmp_path / "more.jsonl", more))
    assert calls == ["refresh_indicators"]
    figures = "SELECT researcher_id, paper_count, citation_count, h_index"
    figures += " FROM researcher_indicators"
    imported = sorted(await rows(engine, figures))
    async with engine.begin() as connection:
        await refresh_indicators(connection)
    assert imported == sorted(await rows(engine, figures))
    assert len(imported) == (await rows(engine, "SELECT count(*) FROM researcher"))[0][0]


def counted(function: Any, name: str, calls: list[str]) -> Any:
    async def call(*args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        return await function(*args, **kwargs)

    return call
