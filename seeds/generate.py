"""A synthetic corpus for tests and benchmarks: deterministic, heavy-tailed, realistic in shape.

Productivity and citations are both heavy-tailed in real bibliometric data:
most researchers have a handful of papers and a few have thousands; most
papers are cited a little and a few enormously. The generator draws authors
for each paper from a Zipf-like weighting of researchers (so a few appear on
thousands of papers) and citation counts from a Pareto distribution, spread
over the years since publication as per-year counts that sum to the total.
A small share of papers has an unknown count (NULL), as in real imports.

The same (papers, researchers, seed) always gives the same rows.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from db.names import make_slug, name_key, title_key
from db.tables import authorship, citation_year, paper, paper_category, researcher
from db.writes.indicators import refresh_indicators

GIVEN = (
    "Ada Alan Amir Ana Ben Bo Chen Dana Eli Emma Farah Hugo Ines Ivan Jia Jonas Kai Lea Li "
    "Luca Maya Mei Nia Noor Omar Priya Raj Rosa Sam Sara Tom Uma Wei Yara Yuki Zoe"
).split()
FAMILY = (
    "Abe Bauer Costa Diaz Evans Fischer Garcia Haddad Ito Jensen Kim Kumar Lopez Meyer "
    "Nakamura Novak Okafor Patel Quinn Rossi Santos Schmidt Singh Tanaka Ueda Vargas Wang "
    "Weber Xu Yamamoto Zhang Zhou"
).split()
WORDS = (
    "sparse attention causal probing diffusion editing memory retrieval graph language "
    "vision reasoning robust scalable interpretable neural circuits transformer benchmark "
    "alignment federated contrastive latent concept dataset learning models representations"
).split()
CATEGORIES = ("cs.LG", "cs.CL", "cs.CV", "cs.AI", "cs.DB", "cs.IR", "cs.RO", "stat.ML")
FIRST_YEAR, LAST_YEAR = 1995, 2026
UNKNOWN_COUNT_SHARE = 0.05
BATCH = 5000


@dataclass(frozen=True, slots=True)
class GeneratedCounts:
    researchers: int
    papers: int
    authorships: int
    citation_years: int


def _researcher_weights(count: int) -> list[float]:
    # Zipf-like: the researcher of rank r is picked in proportion to 1/(r + 50). The
    # offset keeps the head realistic: a few thousand papers at most, not half the corpus.
    return [1.0 / (rank + 50) for rank in range(1, count + 1)]


def _citations(rng: random.Random, year: int) -> int:
    age = LAST_YEAR - year + 1
    return int((rng.paretovariate(1.3) - 1) * 3 * age**0.7)


def _spread(rng: random.Random, total: int, year: int) -> list[tuple[int, int]]:
    """Per-year counts from the publication year on, summing to `total`."""
    years = list(range(year, LAST_YEAR + 1))
    weights = [rng.random() + 0.2 for _ in years]
    scale = total / sum(weights)
    counts = [int(w * scale) for w in weights]
    counts[-1] += total - sum(counts)
    return [(y, n) for y, n in zip(years, counts, strict=True) if n > 0]


def _title(rng: random.Random, index: int) -> str:
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 7)))
    return f"{words.capitalize()} ({index})"


def _researcher_rows(rng: random.Random, count: int, taken: set[str]) -> Iterator[dict[str, Any]]:
    for _ in range(count):
        name = f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}"
        slug = make_slug(name, taken=taken)
        taken.add(slug)
        yield {"slug": slug, "name": name, "name_key": name_key(name)}


def _paper_row(rng: random.Random, index: int) -> tuple[dict[str, Any], list[tuple[int, int]]]:
    year = rng.randint(FIRST_YEAR, LAST_YEAR)
    published = date(year, rng.randint(1, 12), rng.randint(1, 28))
    known = rng.random() >= UNKNOWN_COUNT_SHARE
    total = _citations(rng, year) if known else None
    title = _title(rng, index)
    row = {
        "title": title,
        "title_key": title_key(title),
        "abstract": f"We study {title.lower()} and report results on synthetic data.",
        "published_on": published,
        "year": year,
        "primary_category": rng.choice(CATEGORIES),
        "has_code": rng.random() < 0.3,
        "citation_count": total,
        "authors_truncated": False,
    }
    return row, _spread(rng, total, year) if total else []


async def generate_corpus(
    connection: AsyncConnection, *, papers: int, researchers: int, seed: int
) -> GeneratedCounts:
    """Insert a synthetic corpus through `connection` (the caller commits)."""
    rng = random.Random(seed)
    taken = set((await connection.execute(select(researcher.c.slug))).scalars())
    names = await _insert_researchers(connection, rng, researchers, taken)
    researcher_ids = list(names)
    weights = list(itertools.accumulate(_researcher_weights(len(researcher_ids))))
    counts = [0, 0]
    for start in range(0, papers, BATCH):
        size = min(BATCH, papers - start)
        written = await _insert_papers(connection, rng, start, size, names, weights)
        counts = [counts[0] + written[0], counts[1] + written[1]]
    await refresh_indicators(connection)
    # Fresh planner statistics: after a bulk load the old ones describe an empty database.
    await connection.execute(text("ANALYZE"))
    return GeneratedCounts(len(researcher_ids), papers, counts[0], counts[1])


async def _insert_researchers(
    connection: AsyncConnection, rng: random.Random, count: int, taken: set[str]
) -> dict[int, str]:
    """The new researchers' names by id, in the order drawn (which sets their weight)."""
    names: dict[int, str] = {}
    rows = list(_researcher_rows(rng, count, taken))
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        statement = insert(researcher).returning(researcher.c.id, sort_by_parameter_order=True)
        ids = (await connection.execute(statement, batch)).scalars()
        names.update((rid, row["name"]) for rid, row in zip(ids, batch, strict=True))
    return names


async def _insert_papers(
    connection: AsyncConnection,
    rng: random.Random,
    start: int,
    size: int,
    names: dict[int, str],
    weights: list[float],
) -> tuple[int, int]:
    researcher_ids = list(names)
    drawn = [_paper_row(rng, start + i) for i in range(size)]
    statement = insert(paper).returning(paper.c.id, sort_by_parameter_order=True)
    paper_ids = list((await connection.execute(statement, [row for row, _ in drawn])).scalars())
    authorships, by_year, categories = [], [], []
    for paper_id, (row, years) in zip(paper_ids, drawn, strict=True):
        team = dict.fromkeys(rng.choices(researcher_ids, cum_weights=weights, k=rng.randint(1, 8)))
        authorships += [
            {
                "paper_id": paper_id,
                "researcher_id": rid,
                "position": place,
                "display_name": names[rid],
            }
            for place, rid in enumerate(team, 1)
        ]
        by_year += [{"paper_id": paper_id, "year": y, "count": n} for y, n in years]
        categories.append({"paper_id": paper_id, "category_code": row["primary_category"]})
    await _insert_all(connection, authorship, authorships)
    await _insert_all(connection, citation_year, by_year)
    await _insert_all(connection, paper_category, categories)
    return len(authorships), len(by_year)


async def _insert_all(connection: AsyncConnection, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        await connection.execute(insert(table), rows[start : start + BATCH])
