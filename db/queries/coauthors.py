"""Coauthors: researchers who share papers with another, most shared first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.queries.pages import Ordering, parse_int, parse_str
from db.tables import authorship, paper, researcher


def coauthors_select(of_ids: Sequence[int]) -> tuple[Select[Any], ColumnElement[Any], Ordering]:
    """Coauthors of the given researchers with shared paper count and first and last year.

    Ordered by most shared papers, then name: the count is negated so that the
    whole key runs one way (see db.queries.pages).
    """
    mine, theirs = authorship.alias("mine"), authorship.alias("theirs")
    shared = (
        select(
            mine.c.researcher_id.label("of_id"),
            theirs.c.researcher_id.label("coauthor_id"),
            func.count().label("shared_paper_count"),
            func.min(paper.c.year).label("first_year"),
            func.max(paper.c.year).label("last_year"),
        )
        .join(theirs, theirs.c.paper_id == mine.c.paper_id)
        .join(paper, paper.c.id == mine.c.paper_id)
        .where(mine.c.researcher_id.in_(of_ids), theirs.c.researcher_id != mine.c.researcher_id)
        .group_by(mine.c.researcher_id, theirs.c.researcher_id)
        .subquery("shared")
    )
    statement = select(
        researcher, shared.c.shared_paper_count, shared.c.first_year, shared.c.last_year
    ).join(shared, shared.c.coauthor_id == researcher.c.id)
    ordering = Ordering(
        "COAUTHORS",
        (-shared.c.shared_paper_count, researcher.c.name_key, researcher.c.id),
        (parse_int, parse_str, parse_int),
    )
    return statement, shared.c.of_id, ordering


async def count_coauthors(connection: AsyncConnection, of_ids: Sequence[int]) -> dict[int, int]:
    mine, theirs = authorship.alias("mine"), authorship.alias("theirs")
    statement = (
        select(mine.c.researcher_id, func.count(distinct(theirs.c.researcher_id)))
        .join(theirs, theirs.c.paper_id == mine.c.paper_id)
        .where(mine.c.researcher_id.in_(of_ids), theirs.c.researcher_id != mine.c.researcher_id)
        .group_by(mine.c.researcher_id)
    )
    return dict((await connection.execute(statement)).all())
