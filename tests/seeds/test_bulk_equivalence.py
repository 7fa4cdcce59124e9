"""The bulk path writes the same rows whatever the batch size, down to one record a batch.

One record a batch is the row-by-row import: every record matched against
what the ones before it wrote, and written on its own. Batches of a
thousand match records against each other in memory, write each table in
one statement (COPY on PostgreSQL) and index papers for search in one. The
fixture makes them do everything a file can ask: repeats of a work with new
counts, preprints under other DOIs, institutions by id, ROR and name,
id-less names, abstracts, arXiv ids, author records; and then the same
files again. Every stored row is compared, its ids replaced by the natural
keys a user sees (slugs, source ids), with the search index and the
leaderboard figures.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine, create_session_factory
from seeds.importer import import_records, parsed
from seeds.jsonrecords import read_records
from seeds.openalex import author_from_openalex, work_from_openalex
from seeds.openalex_fixture import works as generated_works
from tests.seeds.test_matching import MIT, write_lines

PLACES = [
    MIT,
    {"id": "https://openalex.org/I1", "display_name": "Northeastern University", "ror": None},
    {"id": None, "display_name": "World Bank Research Group", "ror": None},
    {
        "id": "https://openalex.org/I2",
        "display_name": "Harvard University",
        "ror": "https://ror.org/03vek6s52",
    },
]


def varied_works(count: int, seed: int) -> list[dict[str, Any]]:
    """Generated works, with what real files add to them, and some of them again."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for index, work in enumerate(generated_works(count, seed=seed)):
        for authorship in work["authorships"]:
            if rng.random() < 0.4:
                authorship["institutions"] = rng.sample(PLACES, k=rng.randint(1, 2))
        if index % 3 == 0:
            words = work["title"].split()
            work["abstract_inverted_index"] = {w: [i] for i, w in enumerate(words)}
        if index % 5 == 0 and work["authorships"]:
            given, _, family = work["authorships"][0]["author"]["display_name"].partition(" ")
            for name in (f"{family}, {given}", "World Bank"):
                work["authorships"].append(
                    {"author": {"id": None, "display_name": name}, "raw_author_name": name}
                )
        if index % 13 == 0:
            work["locations"] = [{"landing_page_url": f"https://arxiv.org/abs/2101.{index:05d}"}]
        out.append(work)
        if index % 11 == 0:  # a preprint: another DOI and id, a year earlier
            preprint = {**work, "id": f"{work['id']}9", "doi": f"{work['doi']}.v1"}
            preprint["publication_year"] = work["publication_year"] - 1
            out.append(preprint)
        if index % 7 == 0 and index:  # an earlier work again, cited more since
            again = dict(out[rng.randrange(len(out))])
            again["cited_by_count"] = again["cited_by_count"] + 5
            again["counts_by_year"] = [{"year": 2026, "cited_by_count": 5}]
            out.append(again)
    return out


def authors_of(works: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Author records of some of the works' authors, with aliases and figures."""
    seen: dict[str, str] = {}
    for work in works:
        for a in work["authorships"]:
            if a["author"].get("id"):
                seen.setdefault(a["author"]["id"], a["author"]["display_name"])
    return [
        {
            "id": author_id,
            "display_name": name,
            "display_name_alternatives": [name.upper(), f"{name.split()[-1]}, {name.split()[0]}"],
            "works_count": index,
            "cited_by_count": 10 * index,
            "summary_stats": {
                "h_index": index % 9,
                "i10_index": index % 4,
                "2yr_mean_citedness": index / 7,
            },
            "last_known_institutions": [PLACES[index % len(PLACES)]],
            "updated_date": "2026-05-01T00:00:00",
        }
        for index, (author_id, name) in enumerate(sorted(seen.items())[::3])
    ]


# Every table an import writes, its ids replaced by natural keys.
PAPER_KEY = "coalesce(p.openalex_id, '') || '|' || coalesce(p.doi, '') || '|' || p.title_key"
SNAPSHOT = {
    "paper": (
        "SELECT p.title, p.title_key, p.abstract, p.published_on, p.year, p.arxiv_id, p.doi,"
        " p.openalex_id, p.semantic_scholar_id, p.citation_count FROM paper p"
    ),
    "researcher": (
        "SELECT slug, name, name_key, orcid, openalex_id, semantic_scholar_id, homepage"
        " FROM researcher"
    ),
    "institution": "SELECT slug, name, name_key, openalex_id, ror FROM institution",
    "authorship": (
        f"SELECT {PAPER_KEY}, r.slug, a.position, a.display_name FROM authorship a"
        " JOIN paper p ON p.id = a.paper_id JOIN researcher r ON r.id = a.researcher_id"
    ),
    "authorship_institution": (
        f"SELECT {PAPER_KEY}, r.slug, i.slug FROM authorship_institution ai"
        " JOIN authorship a ON a.id = ai.authorship_id JOIN paper p ON p.id = a.paper_id"
        " JOIN researcher r ON r.id = a.researcher_id"
        " JOIN institution i ON i.id = ai.institution_id"
    ),
    "paper_institution": (
        f"SELECT {PAPER_KEY}, i.slug FROM paper_institution x"
        " JOIN paper p ON p.id = x.paper_id JOIN institution i ON i.id = x.institution_id"
    ),
    "citation_year": (
        f"SELECT {PAPER_KEY}, c.year, c.count FROM citation_year c"
        " JOIN paper p ON p.id = c.paper_id"
    ),
    "unlinked_author": (
        f"SELECT {PAPER_KEY}, u.position, u.display_name FROM unlinked_author u"
        " JOIN paper p ON p.id = u.paper_id"
    ),
    "researcher_alias": (
        "SELECT r.slug, x.alias, x.alias_key FROM researcher_alias x"
        " JOIN researcher r ON r.id = x.researcher_id"
    ),
    "researcher_institution": (
        "SELECT r.slug, i.slug FROM researcher_institution x"
        " JOIN researcher r ON r.id = x.researcher_id JOIN institution i ON i.id = x.institution_id"
    ),
    "reported_metrics": (
        "SELECT r.slug, m.source, m.captured_on, m.captured_year, m.h_index, m.citation_count,"
        " m.paper_count, m.i10_index, m.two_year_mean_citedness FROM reported_metrics m"
        " JOIN researcher r ON r.id = m.researcher_id"
    ),
    "researcher_indicators": (
        "SELECT r.slug, x.paper_count, x.citation_count, x.h_index FROM researcher_indicators x"
        " JOIN researcher r ON r.id = x.researcher_id"
    ),
}


async def snapshot(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    tables: dict[str, list[tuple[Any, ...]]] = {}
    async with engine.connect() as connection:
        for name, sql in SNAPSHOT.items():
            rows = (await connection.execute(text(sql))).all()
            tables[name] = sorted((tuple(row) for row in rows), key=repr)
        if engine.dialect.name == "sqlite":
            # The index holds every paper, each once (its size table has a row per entry).
            sql = (
                f"SELECT {PAPER_KEY}, d.sz FROM paper_search_docsize d JOIN paper p ON p.id = d.id"
            )
        else:
            sql = f"SELECT {PAPER_KEY}, p.search_vector::text FROM paper p"
        rows = (await connection.execute(text(sql))).all()
        tables["search"] = sorted((tuple(row) for row in rows), key=repr)
    return tables


async def import_all(url: str, files: list[tuple[Path, Any]], **options: Any) -> list[Any]:
    """Import each (file, mapper) in turn into the database at url.

    Returns each import's (created, updated, unchanged, indexes_deferred) and then
    every stored row (snapshot). options go to import_records (batch_size, ...).
    """
    engine = create_engine(url)
    try:
        sessions = create_session_factory(engine)
        summaries = []
        for path, mapper in files:
            summary = await import_records(sessions, parsed(read_records(path), mapper), **options)
            summaries.append(
                (summary.created, summary.updated, summary.unchanged, summary.indexes_deferred)
            )
        return [summaries, await snapshot(engine)]
    finally:
        await engine.dispose()


async def test_one_record_a_batch_and_big_batches_write_the_same_rows(
    database_url: str, second_url: str, tmp_path: Path
) -> None:
    works = varied_works(240, seed=11)
    first = write_lines(tmp_path / "first.jsonl", works[: len(works) // 2])
    second = write_lines(tmp_path / "second.jsonl", works[len(works) // 2 :])
    authors = write_lines(tmp_path / "authors.jsonl", authors_of(works))
    files = [
        (first, work_from_openalex),
        (authors, author_from_openalex),
        (second, work_from_openalex),
        (first, work_from_openalex),  # again: its works' counts go back, then up again
        (authors, author_from_openalex),  # again: nothing changes
    ]
    one_by_one = await import_all(database_url, files, batch_size=1)
    batched = await import_all(second_url, files, batch_size=1000)
    assert batched[0] == one_by_one[0]
    assert one_by_one[0][-1][:2] == (0, 0)
    assert not any(summary[3] for summary in one_by_one[0] + batched[0])
    for table, rows in one_by_one[1].items():
        assert batched[1][table] == rows, table
    tables = one_by_one[1]
    # The fixture does reach every table.
    assert all(tables[name] for name in SNAPSHOT), [n for n in SNAPSHOT if not tables[n]]
    assert len(tables["search"]) == len(tables["paper"])
