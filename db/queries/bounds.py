"""The most items each list of the data holds anywhere: what a query's cost may assume."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from db.tables import (
    authorship,
    category,
    citation_year,
    paper,
    paper_category,
    paper_institution,
    researcher_indicators,
    researcher_institution,
)


def _most_per(column: Column[Any]) -> Any:
    """The largest number of rows sharing one value of `column`."""
    per_key = select(func.count().label("n")).select_from(column.table).group_by(column).subquery()
    return select(func.coalesce(func.max(per_key.c.n), 0)).scalar_subquery()


async def list_sizes(connection: AsyncConnection) -> dict[str, int]:
    """Largest list sizes in the stored data, by name, in one statement."""
    years = union_all(
        select(paper.c.year.label("year")).where(paper.c.year.is_not(None)),
        select(citation_year.c.year.label("year")),
    ).subquery()
    statement = select(
        _most_per(authorship.c.paper_id).label("authors_per_paper"),
        _most_per(paper_institution.c.paper_id).label("institutions_per_paper"),
        _most_per(paper_category.c.paper_id).label("categories_per_paper"),
        _most_per(researcher_institution.c.researcher_id).label("institutions_per_researcher"),
        select(func.coalesce(func.max(researcher_indicators.c.h_index), 0))
        .scalar_subquery()
        .label("h_index"),
        select(func.count()).select_from(category).scalar_subquery().label("categories"),
        select(func.coalesce(func.max(years.c.year) - func.min(years.c.year) + 1, 0))
        .scalar_subquery()
        .label("years"),
    )
    row = (await connection.execute(statement)).one()
    return {name: int(value or 0) for name, value in row._mapping.items()}
