"""OpenAlex and Semantic Scholar files: read, mapped, and written idempotently beside the seed."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from db.queries.stats import row_counts
from resolvers import metrics
from seeds import openalex
from seeds.importer import StrictImportError, import_records, parsed
from seeds.jsonrecords import read_records
from seeds.openalex import (
    OPENALEX_PREFIX,
    abstract_text,
    author_from_openalex,
    short_id,
    work_from_openalex,
)
from seeds.records import InstitutionRef
from seeds.seed import seed_database
from seeds.semanticscholar import author_from_s2, is_author_record, work_from_s2
from tests.api.conftest import open_client

FIXTURES = Path(__file__).resolve().parent / "fixtures"
OPENALEX = FIXTURES / "openalex"
S2 = FIXTURES / "s2"


def openalex_lines(name: str) -> list[dict]:
    return [json.loads(line) for line in (OPENALEX / name).read_text().splitlines()]


# Mapping


def test_an_openalex_work_maps_every_field_we_read() -> None:
    work = work_from_openalex(openalex_lines("works.jsonl")[0])
    assert (work.openalex_id, work.doi, work.arxiv_id) == (
        "W4306178032",
        "10.48550/arxiv.2210.07229",
        "2210.07229",
    )
    assert (work.title, work.year, str(work.published_on)) == (
        "Mass-Editing Memory in a Transformer",
        2022,
        "2022-10-13",
    )
    assert work.abstract == "Recent work has shown exciting promise."
    assert work.citation_count == 312
    assert work.counts_by_year == ((2022, 12), (2023, 60), (2024, 150), (2025, 90))
    first, *_, last = work.authors
    assert (first.name, first.position, first.openalex_id) == ("Kevin Meng", 1, "A5030817329")
    assert first.institutions == (
        InstitutionRef("Massachusetts Institute of Technology", "I63966007", "042nb2s44"),
    )
    assert (last.name, last.position, last.orcid) == ("David Bau", 5, "0000-0003-1744-6765")


@given(
    st.one_of(
        st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
        st.from_regex(r"[A-Za-z0-9]{1,40}", fullmatch=True),
    )
)
def test_an_openalex_id_is_shortened_alike_by_the_fast_way_and_the_general_one(tail: str) -> None:
    value = OPENALEX_PREFIX + tail
    assert short_id(value) == openalex._short_id(value)
    assert short_id(OPENALEX_PREFIX + "W2741809807") == "W2741809807"


def test_an_openalex_work_without_the_optional_fields_maps_to_nones() -> None:
    work = work_from_openalex(json.loads((OPENALEX / "minimal.jsonl").read_text()))
    assert work.title == "A minimal work"
    assert (work.year, work.doi, work.arxiv_id, work.citation_count, work.abstract) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert work.authors == work.counts_by_year == ()


def test_the_abstract_is_rebuilt_from_the_inverted_index() -> None:
    assert abstract_text({"world": [1], "hello": [0, 2]}) == "hello world hello"
    assert abstract_text(None) is None


def test_an_openalex_author_keeps_its_summary_as_reported_metrics() -> None:
    author = author_from_openalex(openalex_lines("authors.jsonl")[0])
    assert (author.openalex_id, author.orcid) == ("A5023888391", "0000-0003-1744-6765")
    assert author.aliases == ("D. Bau", "Bau, David")
    assert [i.name for i in author.institutions] == ["Northeastern University"]
    assert author.reported is not None
    assert (author.reported.source, author.reported.h_index, author.reported.paper_count) == (
        "openalex",
        52,
        87,
    )


def test_a_semantic_scholar_paper_without_a_date_keeps_its_year() -> None:
    _, year_only = [json.loads(line) for line in (S2 / "papers.jsonl").read_text().splitlines()]
    work = work_from_s2(year_only)
    assert (work.year, work.published_on, work.citation_count) == (2021, None, 5)


def test_a_semantic_scholar_author_nests_its_papers_with_the_author_on_them() -> None:
    record = json.loads((S2 / "author.json").read_text())
    assert is_author_record(record)
    author = author_from_s2(record)
    assert author.reported is not None
    assert (author.reported.h_index, author.homepage) == (53, "https://baulab.info")
    [paper] = author.works
    assert [(a.name, a.position) for a in paper.authors] == [("David Bau", None)]
    assert paper.arxiv_id == "1811.10597"


# Reading files


def test_json_lines_saved_responses_and_gzip_read_alike() -> None:
    plain = [line.record["id"] for line in read_records(OPENALEX / "works.jsonl")]
    zipped = [line.record["id"] for line in read_records(OPENALEX / "works.jsonl.gz")]
    response = list(read_records(OPENALEX / "response.json"))
    batch = list(read_records(S2 / "batch.json"))
    assert plain == zipped
    assert len(plain) == 3
    assert [line.record["id"] for line in response] == ["https://openalex.org/W2963000001"]
    assert len(batch) == 2


def test_a_malformed_line_is_reported_with_its_file_and_line(tmp_path: Path) -> None:
    results = list(parsed(read_records(OPENALEX / "broken.jsonl"), work_from_openalex))
    problems = [(line.line, outcome) for line, outcome in results if isinstance(outcome, str)]
    assert problems == [
        (2, "not JSON: Expecting value at character 45"),
        (3, "an OpenAlex work needs an id and a title"),
    ]
    assert sum(not isinstance(outcome, str) for _, outcome in results) == 2


def test_bytes_that_are_not_utf8_are_a_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"id": "W1", "title": "ok"}\n{"title": "caf\xe9"}\n'))
    lines = list(read_records(path))
    assert lines[1].error == "not UTF-8: byte 15 of the line"


# Writing


async def import_file(sessions: async_sessionmaker[AsyncSession], path: Path, **options: object):
    return await import_records(sessions, parsed(read_records(path), work_from_openalex), **options)


async def counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as connection:
        return await row_counts(connection)


async def test_an_openalex_file_of_the_seed_researcher_joins_the_seed_papers(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    await seed_database(sessions)
    summary = await import_file(sessions, OPENALEX / "works.jsonl")
    assert (summary.created, summary.updated, summary.unchanged) == (0, 3, 0)
    rows = await counts(engine)
    assert rows["paper"] == 50
    # Coauthors the seed's cut bylines left out now join; David Bau stays one researcher.
    async with engine.connect() as connection:
        bau = (
            await connection.execute(
                text(
                    "SELECT count(*), max(r.openalex_id) FROM researcher r"
                    " WHERE r.name = 'David Bau'"
                )
            )
        ).one()
    assert tuple(bau) == (1, "A5023888391")

    file_counts = [w["cited_by_count"] for w in openalex_lines("works.jsonl")]
    async for client in open_client(database_url):
        data = await client.data(
            '{ researcher(slug: "david-bau") {'
            " metrics { hIndex citationCount papersWithCitationCount } } }"
        )
    assert data["researcher"]["metrics"] == {
        "hIndex": metrics.h_index(file_counts),
        "citationCount": sum(file_counts),
        "papersWithCitationCount": 3,
    }


async def test_importing_the_same_file_twice_changes_nothing(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await import_file(sessions, OPENALEX / "works.jsonl.gz")
    before = await counts(engine)
    again = await import_file(sessions, OPENALEX / "works.jsonl")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert await counts(engine) == before


async def test_a_newer_file_updates_the_counts(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await import_file(sessions, OPENALEX / "works.jsonl")
    newer = openalex_lines("works.jsonl")[:1]
    newer[0]["cited_by_count"] = 400
    newer[0]["counts_by_year"] = [{"year": 2025, "cited_by_count": 400}]
    path = tmp_path / "newer.jsonl"
    path.write_text(json.dumps(newer[0]) + "\n")
    summary = await import_file(sessions, path)
    assert summary.updated == 1
    async with engine.connect() as connection:
        count = (
            await connection.execute(
                text("SELECT citation_count FROM paper WHERE openalex_id = 'W4306178032'")
            )
        ).scalar_one()
        years = (
            await connection.execute(
                text(
                    "SELECT count(*) FROM citation_year c JOIN paper p ON p.id = c.paper_id"
                    " WHERE p.openalex_id = 'W4306178032'"
                )
            )
        ).scalar_one()
    assert (count, years) == (400, 1)


async def test_bad_lines_are_skipped_or_under_strict_stop_the_batch(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    before = await counts(engine)
    with pytest.raises(StrictImportError, match=r"broken.jsonl:2: not JSON"):
        await import_file(sessions, OPENALEX / "broken.jsonl", strict=True)
    assert await counts(engine) == before
    summary = await import_file(sessions, OPENALEX / "broken.jsonl")
    assert (summary.created, summary.skipped) == (2, 2)
    assert summary.problems[0].startswith("broken.jsonl:2: not JSON")


async def test_author_records_and_nested_papers_land_on_one_researcher(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed_database(sessions)
    await import_records(
        sessions, parsed(read_records(OPENALEX / "authors.jsonl"), author_from_openalex)
    )
    s2 = await import_records(sessions, parsed(read_records(S2 / "author.json"), author_from_s2))
    assert (s2.created, s2.updated) == (0, 1)  # GAN Dissection, 2018, is a seed paper
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                text(
                    "SELECT r.openalex_id, r.semantic_scholar_id, r.homepage,"
                    " (SELECT count(*) FROM researcher_alias a WHERE a.researcher_id = r.id),"
                    " (SELECT count(*) FROM reported_metrics m WHERE m.researcher_id = r.id)"
                    " FROM researcher r WHERE r.name = 'David Bau'"
                )
            )
        ).all()
    assert [tuple(row) for row in rows] == [
        ("A5023888391", "144159726", "https://baulab.info", 2, 3)
    ]
