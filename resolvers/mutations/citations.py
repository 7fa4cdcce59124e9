"""setCitationCounts: totals and per-year counts for a batch of papers, all or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import utc_now
from db.reads import changing_papers
from db.tables import AnyRow
from db.writes import papers as paper_writes
from db.writes.indicators import refresh_indicators
from resolvers.context import Context
from resolvers.mutations.transactions import Written, write
from resolvers.mutations.validation import Problems, check_count, check_year_counts, checked_id

MAX_BATCH = 1000


@dataclass(frozen=True, slots=True)
class CitationCounts:
    """One paper's counts; `by_year` None leaves its per-year rows as they are."""

    paper_id: str
    total: int
    by_year: Sequence[tuple[int, int]] | None = None


async def set_citation_counts(
    context: Context, batch: Sequence[CitationCounts]
) -> Written[list[AnyRow]]:
    """Set every paper's total (and replace its per-year counts when given), in one transaction.

    The papers are locked in id order first, so concurrent batches queue up
    instead of interleaving: each paper ends with the total and the per-year
    rows of one and the same request.
    """
    problems = Problems()
    if len(batch) > MAX_BATCH:
        problems.invalid(("input",), f"At most {MAX_BATCH} papers at a time.")
        return Written(problems=problems.found)
    paper_ids = _checked_batch(batch, problems, this_year=context.today.year)

    async def work(session: AsyncSession) -> list[int]:
        connection = await session.connection()
        existing = await paper_writes.lock_papers(connection, [i for i in paper_ids if i])
        for index, paper_id in enumerate(paper_ids):
            if paper_id is not None and paper_id not in existing:
                problems.not_found(("input", str(index), "paperId"), "No paper has this ID.")
        problems.reject_if_any()
        await changing_papers(connection, existing)
        now = utc_now()
        for counts, paper_id in sorted(zip(batch, paper_ids, strict=True), key=lambda p: p[1] or 0):
            assert paper_id is not None
            await paper_writes.set_citation_count(connection, paper_id, counts.total, now=now)
            if counts.by_year is not None:
                await paper_writes.replace_citation_years(connection, paper_id, counts.by_year)
        authors = await paper_writes.researcher_ids_of_papers(connection, existing)
        await refresh_indicators(connection, authors)
        return [i for i in paper_ids if i is not None]

    written = await write(context, work)
    if written.value is None:
        return Written(problems=written.problems)
    rows = await context.loaders.papers_by_id.load_many(written.value)
    return Written([row for row in rows if row is not None])


def _checked_batch(
    batch: Sequence[CitationCounts], problems: Problems, *, this_year: int
) -> list[int | None]:
    """The papers' database ids (None where the ID is bad); each paper once."""
    paper_ids: list[int | None] = []
    first_place: dict[int, int] = {}
    for index, counts in enumerate(batch):
        path = ("input", str(index))
        paper_id = checked_id(counts.paper_id, "Paper", (*path, "paperId"), problems)
        if paper_id is not None and paper_id in first_place:
            message = f"The same paper as entry {first_place[paper_id] + 1}."
            problems.invalid((*path, "paperId"), message)
        elif paper_id is not None:
            first_place[paper_id] = index
        check_count(counts.total, (*path, "total"), problems)
        if counts.by_year is not None:
            check_year_counts(
                counts.total, counts.by_year, (*path, "byYear"), problems, this_year=this_year
            )
        paper_ids.append(paper_id)
    return paper_ids
