"""What the metrics engine needs from the database, in one statement per kind of fact."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.tables import AnyRow, authorship, category, citation_year, paper, paper_category, researcher


async def paper_facts_of_researchers(
    connection: AsyncConnection, ids: Sequence[int]
) -> list[AnyRow]:
    """Per authorship: researcher_id, paper_id, year, citation_count, primary_category, has_code."""
    statement = (
        select(
            authorship.c.researcher_id,
            paper.c.id.label("paper_id"),
            paper.c.year,
            paper.c.citation_count,
            paper.c.primary_category,
            paper.c.has_code,
        )
        .join(paper, paper.c.id == authorship.c.paper_id)
        .where(authorship.c.researcher_id.in_(ids))
        .order_by(authorship.c.researcher_id, paper.c.id)
    )
    return list((await connection.execute(statement)).all())


async def citation_years_of_researchers(
    connection: AsyncConnection, ids: Sequence[int]
) -> list[tuple[int, int, int, int]]:
    """(researcher_id, paper_id, year, count): citations each paper received each year."""
    statement = (
        select(
            authorship.c.researcher_id,
            citation_year.c.paper_id,
            citation_year.c.year,
            citation_year.c.count,
        )
        .join(citation_year, citation_year.c.paper_id == authorship.c.paper_id)
        .where(authorship.c.researcher_id.in_(ids))
        .order_by(authorship.c.researcher_id, citation_year.c.year)
    )
    return list((await connection.execute(statement)).all())


async def all_categories(connection: AsyncConnection) -> list[AnyRow]:
    statement = select(category).order_by(category.c.code)
    return list((await connection.execute(statement)).all())


async def categories_by_codes(connection: AsyncConnection, codes: Sequence[str]) -> list[AnyRow]:
    statement = select(category).where(category.c.code.in_(codes))
    return list((await connection.execute(statement)).all())


async def paper_count_by_category(connection: AsyncConnection) -> dict[str, int]:
    """Papers per category code, cross-listings included."""
    statement = select(paper_category.c.category_code, func.count()).group_by(
        paper_category.c.category_code
    )
    return dict((await connection.execute(statement)).all())


async def corpus_totals(connection: AsyncConnection) -> AnyRow:
    """researcher_count, paper_count and citation_count over everything stored."""
    researchers = select(func.count()).select_from(researcher).scalar_subquery()
    statement = select(
        researchers.label("researcher_count"),
        func.count().label("paper_count"),
        func.coalesce(func.sum(paper.c.citation_count), 0).label("citation_count"),
    ).select_from(paper)
    return (await connection.execute(statement)).one()


async def corpus_papers_by_year(connection: AsyncConnection) -> list[tuple[int, int]]:
    statement = (
        select(paper.c.year, func.count())
        .where(paper.c.year.is_not(None))
        .group_by(paper.c.year)
        .order_by(paper.c.year)
    )
    return list((await connection.execute(statement)).all())


async def corpus_primary_categories(connection: AsyncConnection) -> list[tuple[str, int]]:
    """Papers per primary category, most first."""
    statement = (
        select(paper.c.primary_category, func.count().label("n"))
        .where(paper.c.primary_category.is_not(None))
        .group_by(paper.c.primary_category)
        .order_by(func.count().desc(), paper.c.primary_category)
    )
    return list((await connection.execute(statement)).all())
