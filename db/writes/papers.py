"""Statements that write papers and what hangs off them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from db.tables import (
    AnyRow,
    authorship,
    category,
    citation_year,
    institution,
    paper,
    paper_category,
    paper_institution,
)


async def lock_paper(connection: AsyncConnection, paper_id: int) -> AnyRow | None:
    """The paper's row, locked until the transaction ends (PostgreSQL; SQLite locks the file)."""
    statement = select(paper).where(paper.c.id == paper_id).with_for_update()
    return (await connection.execute(statement)).first()


async def lock_papers(connection: AsyncConnection, paper_ids: Iterable[int]) -> set[int]:
    """Lock these papers in id order (so two batches never deadlock); the ids that exist."""
    statement = (
        select(paper.c.id)
        .where(paper.c.id.in_(sorted(set(paper_ids))))
        .order_by(paper.c.id)
        .with_for_update()
    )
    return set((await connection.execute(statement)).scalars())


async def researcher_ids_of_papers(
    connection: AsyncConnection, paper_ids: Iterable[int]
) -> set[int]:
    """Everyone on these papers' bylines."""
    statement = select(authorship.c.researcher_id).where(
        authorship.c.paper_id.in_(sorted(set(paper_ids)))
    )
    return set((await connection.execute(statement)).scalars())


async def known_category_codes(connection: AsyncConnection, codes: Iterable[str]) -> set[str]:
    statement = select(category.c.code).where(category.c.code.in_(set(codes)))
    return set((await connection.execute(statement)).scalars())


async def insert_paper(connection: AsyncConnection, values: Mapping[str, Any]) -> int:
    statement = insert(paper).values(**values).returning(paper.c.id)
    return int((await connection.execute(statement)).scalar_one())


async def update_paper(
    connection: AsyncConnection, paper_id: int, values: Mapping[str, Any]
) -> None:
    await connection.execute(update(paper).where(paper.c.id == paper_id).values(**values))


async def delete_paper(connection: AsyncConnection, paper_id: int) -> bool:
    """Delete the paper; its authorships, links, categories and counts go with it (FK cascade)."""
    result = await connection.execute(delete(paper).where(paper.c.id == paper_id))
    return result.rowcount > 0


async def replace_primary_category(
    connection: AsyncConnection, paper_id: int, *, old: str | None, new: str | None
) -> None:
    """The paper's category list follows a change of its primary category.

    The old primary category leaves the list: a change is most often a correction,
    and a wrong category kept as a cross-listing would still match filters.
    """
    if old is not None:
        await connection.execute(
            delete(paper_category).where(
                paper_category.c.paper_id == paper_id, paper_category.c.category_code == old
            )
        )
    if new is not None:
        await insert_categories(connection, paper_id, [new])


async def insert_categories(
    connection: AsyncConnection, paper_id: int, codes: Sequence[str]
) -> None:
    stored = select(paper_category.c.category_code).where(paper_category.c.paper_id == paper_id)
    present = set((await connection.execute(stored)).scalars())
    rows = [{"paper_id": paper_id, "category_code": c} for c in codes if c not in present]
    if rows:
        await connection.execute(insert(paper_category), rows)


async def insert_authorships(
    connection: AsyncConnection, paper_id: int, byline: Sequence[tuple[int, str]]
) -> None:
    """Authorships in byline order: (researcher id, printed name), positions from 1."""
    rows = [
        {"paper_id": paper_id, "researcher_id": r, "position": i, "display_name": name}
        for i, (r, name) in enumerate(byline, 1)
    ]
    if rows:
        await connection.execute(insert(authorship), rows)


async def institution_ids_by_slug(
    connection: AsyncConnection, slugs: Iterable[str]
) -> dict[str, int]:
    statement = select(institution.c.slug, institution.c.id).where(
        institution.c.slug.in_(set(slugs))
    )
    return {row.slug: row.id for row in (await connection.execute(statement)).all()}


async def add_institution(connection: AsyncConnection, *, slug: str, name: str) -> int:
    """The id of the institution with this slug, inserted under `name` unless it exists.

    The writer holds the slug's lock (db.writes.keys), so the insert does not race
    ours; one that skips the lock still finds the row rather than a unique violation.
    """
    insert_new = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert_new(institution)
        .values(slug=slug, name=name)
        .on_conflict_do_nothing(index_elements=[institution.c.slug])
        .returning(institution.c.id)
    )
    inserted = (await connection.execute(statement)).scalar_one_or_none()
    if inserted is not None:
        return int(inserted)
    return (await institution_ids_by_slug(connection, [slug]))[slug]


async def link_institutions(
    connection: AsyncConnection, paper_id: int, institution_ids: Sequence[int]
) -> None:
    rows = [{"paper_id": paper_id, "institution_id": i} for i in institution_ids]
    if rows:
        await connection.execute(insert(paper_institution), rows)


async def set_citation_count(
    connection: AsyncConnection, paper_id: int, total: int, *, now: datetime
) -> None:
    await update_paper(connection, paper_id, {"citation_count": total, "updated_at": now})


async def replace_citation_years(
    connection: AsyncConnection, paper_id: int, by_year: Sequence[tuple[int, int]]
) -> None:
    await connection.execute(delete(citation_year).where(citation_year.c.paper_id == paper_id))
    rows = [{"paper_id": paper_id, "year": y, "count": n} for y, n in by_year]
    if rows:
        await connection.execute(insert(citation_year), rows)
