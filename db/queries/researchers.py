"""Statements over researchers: lookups, name search, orderings and per-researcher lists."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, Subquery, bindparam, case, func, or_, select, union
from sqlalchemy.ext.asyncio import AsyncConnection

from db.direct import Direct, direct, narrowed
from db.names import name_key
from db.queries.batches import id_in, prepared, rows_for_ids
from db.queries.pages import Ordering, PageRequest, page_statement, parse_int, parse_str
from db.tables import (
    AnyRow,
    authorship,
    authorship_institution,
    institution,
    paper,
    researcher,
    researcher_indicators,
    researcher_institution,
)
from db.tables import reported_metrics as reported
from db.tables import researcher_alias as alias

if TYPE_CHECKING:
    from db.engine import ReadSnapshot

STAT_FIELDS = ("PAPER_COUNT", "CITATION_COUNT", "H_INDEX")
NAME_ORDERING = Ordering("NAME", (researcher.c.name_key, researcher.c.id), (parse_str, parse_int))


def researcher_stats(researcher_ids: Sequence[int] | Select[Any] | None = None) -> Subquery:
    """Paper count, citation count and h-index of researchers with a paper, in SQL.

    h is the number of a researcher's papers whose citation count is at least
    their rank when sorted most cited first: exactly the papers of the h-core.
    Without ids, every researcher; this is the definition the leaderboard
    table (researcher_indicators) is refreshed from.
    """
    rank = func.row_number().over(
        partition_by=authorship.c.researcher_id,
        order_by=(func.coalesce(paper.c.citation_count, -1).desc(), paper.c.id),
    )
    ranked_rows = select(
        authorship.c.researcher_id,
        paper.c.citation_count.label("citations"),
        rank.label("rank"),
    ).join(paper, paper.c.id == authorship.c.paper_id)
    if researcher_ids is not None:
        ranked_rows = ranked_rows.where(authorship.c.researcher_id.in_(researcher_ids))
    ranked = ranked_rows.subquery("ranked")
    return (
        select(
            ranked.c.researcher_id,
            func.count().label("paper_count"),
            func.coalesce(func.sum(ranked.c.citations), 0).label("citation_count"),
            func.sum(case((ranked.c.citations >= ranked.c.rank, 1), else_=0)).label("h_index"),
        )
        .group_by(ranked.c.researcher_id)
        .subquery("stats")
    )


def researchers_select(
    *, query: str | None, order_field: str, descending: bool = False
) -> tuple[Select[Any], Ordering]:
    """Researchers matching a name search, in the order the field and direction ask for.

    Leaderboards rank by the kept figures (researcher_indicators, one row per
    researcher) and break ties by id, earliest added first, in both directions.
    Each direction has an index that yields rows in exactly this order
    (LEADERBOARD_INDEXES), so a page is an index range however deep it is.
    """
    statement = select(researcher)
    if query is not None:
        statement = statement.where(_name_matches(query))
    if order_field == "NAME":
        return statement, NAME_ORDERING.reversed() if descending else NAME_ORDERING
    if order_field not in STAT_FIELDS:
        raise ValueError(f"unknown researcher ordering {order_field}")
    # Ranked from the kept table: computing h-indexes of every researcher per request
    # costs seconds at 200,000 papers.
    # The figures come along, so that the page's metrics need no statement of their own.
    statement = statement.join(
        researcher_indicators, researcher_indicators.c.researcher_id == researcher.c.id
    ).add_columns(*(researcher_indicators.c[figure.lower()] for figure in STAT_FIELDS))
    value = researcher_indicators.c[order_field.lower()]
    tie = researcher_indicators.c.researcher_id
    parsers = (parse_int, parse_int)
    if descending:
        # Every key of an ordering runs one way (db.queries.pages): the id is negated
        # so that it still runs upwards while the figure runs downwards.
        return statement, Ordering(f"{order_field}:DESC", (value, -tie), parsers, descending=True)
    return statement, Ordering(order_field, (value, tie), parsers)


def _name_matches(query: str) -> ColumnElement[bool]:
    """Case- and accent-insensitive substring match on names and aliases."""
    pattern = f"%{_escape_like(name_key(query))}%"
    aliased = select(alias.c.researcher_id).where(alias.c.alias_key.like(pattern, escape="\\"))
    return or_(researcher.c.name_key.like(pattern, escape="\\"), researcher.c.id.in_(aliased))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def count_researchers(connection: AsyncConnection, *, query: str | None) -> int:
    statement = select(func.count()).select_from(researcher)
    if query is not None:
        statement = statement.where(_name_matches(query))
    return (await connection.execute(statement)).scalar_one()


@prepared
def _researchers_by_ids(dialect: str) -> Select[Any]:
    return select(researcher).where(id_in(researcher.c.id, dialect))


async def researchers_by_ids(connection: AsyncConnection, ids: Sequence[int]) -> list[AnyRow]:
    return await rows_for_ids(connection, _researchers_by_ids, ids)


@cache
def _researcher_by(column: str) -> Select[Any]:
    return select(researcher).where(researcher.c[column] == bindparam("value"))


@cache
def unsearched_select(order_field: str, descending: bool) -> tuple[Select[Any], Ordering]:
    """`researchers_select` without a search, made once per ordering."""
    return researchers_select(query=None, order_field=order_field, descending=descending)


@cache
def researchers_page_direct(
    order_field: str,
    descending: bool,
    request: PageRequest,
    columns: frozenset[str],
    dialect: str,
) -> Direct:
    """A first page of `researchers_select` (no search) with only these columns, on the driver."""
    statement, ordering = unsearched_select(order_field, descending)
    return direct(page_statement(narrowed(statement, columns | {"id"}), ordering, request), dialect)


@cache
def researcher_by_direct(column: str, dialect: str, columns: frozenset[str]) -> Direct:
    """`researcher_by` with only these columns (and the id), run on the driver.

    Kept figures among the columns (h_index, paper_count, citation_count) come from
    the researcher's researcher_indicators row in the same statement, NULL without one,
    as a leaderboard's rows carry them.
    """
    statement = narrowed(_researcher_by(column), columns | {"id"})
    kept = [researcher_indicators.c[name] for name in KEPT_COLUMNS if name in columns]
    if kept:
        statement = statement.outerjoin(
            researcher_indicators, researcher_indicators.c.researcher_id == researcher.c.id
        ).add_columns(*kept)
    return direct(statement, dialect)


# The kept figures (researcher_indicators) a researcher's row may carry, by column.
KEPT_COLUMNS = tuple(figure.lower() for figure in STAT_FIELDS)


async def researcher_with_columns(
    snapshot: ReadSnapshot, column: str, value: str, columns: frozenset[str]
) -> AnyRow | None:
    """`researcher_by` reading only these columns (db.direct), in the request's snapshot."""
    statement = researcher_by_direct(column, snapshot.dialect, columns)
    rows = await snapshot.fetch(statement, {"value": value})
    return rows[0] if rows else None


async def researcher_by(connection: AsyncConnection, column: str, value: str) -> AnyRow | None:
    """The researcher whose unique `column` (slug, orcid, ...) has this value."""
    found: AnyRow | None = (
        await connection.execute(_researcher_by(column), {"value": value})
    ).first()
    return found


async def aliases_of_researchers(
    connection: AsyncConnection, ids: Sequence[int]
) -> list[tuple[int, str]]:
    statement = (
        select(alias.c.researcher_id, alias.c.alias)
        .where(alias.c.researcher_id.in_(ids))
        .order_by(alias.c.researcher_id, alias.c.id)
    )
    return list((await connection.execute(statement)).all())


def affiliations() -> Subquery:
    """(researcher_id, institution_id) pairs a source states: on an authorship or a record."""
    on_papers = select(authorship.c.researcher_id, authorship_institution.c.institution_id).join(
        authorship, authorship.c.id == authorship_institution.c.authorship_id
    )
    on_records = select(
        researcher_institution.c.researcher_id, researcher_institution.c.institution_id
    )
    return union(on_papers, on_records).subquery("affiliation")


async def institutions_of_researchers(
    connection: AsyncConnection, ids: Sequence[int]
) -> list[AnyRow]:
    pairs = affiliations()
    statement = (
        select(pairs.c.researcher_id, institution)
        .join(institution, institution.c.id == pairs.c.institution_id)
        .where(pairs.c.researcher_id.in_(ids))
        .order_by(pairs.c.researcher_id, institution.c.name)
    )
    return list((await connection.execute(statement)).all())


def researchers_of_institutions_select() -> tuple[Select[Any], ColumnElement[Any]]:
    pairs = affiliations()
    statement = select(researcher).join(pairs, pairs.c.researcher_id == researcher.c.id)
    return statement, pairs.c.institution_id


async def reported_of_researchers(connection: AsyncConnection, ids: Sequence[int]) -> list[AnyRow]:
    """Reported figures, newest capture first within each researcher."""
    statement = (
        select(reported)
        .where(reported.c.researcher_id.in_(ids))
        .order_by(
            reported.c.researcher_id,
            func.coalesce(reported.c.captured_year, 0).desc(),
            reported.c.id.desc(),
        )
    )
    return list((await connection.execute(statement)).all())


async def count_researchers_by_institution(
    connection: AsyncConnection, ids: Sequence[int]
) -> dict[int, int]:
    pairs = affiliations()
    statement = (
        select(pairs.c.institution_id, func.count())
        .where(pairs.c.institution_id.in_(ids))
        .group_by(pairs.c.institution_id)
    )
    return dict((await connection.execute(statement)).all())


async def indicators_of_researchers(
    connection: AsyncConnection, ids: Sequence[int]
) -> list[AnyRow]:
    """The kept leaderboard figures (paper_count, citation_count, h_index) of researchers."""
    return await rows_for_ids(connection, _indicators_of_researchers, ids)


@prepared
def _indicators_of_researchers(dialect: str) -> Select[Any]:
    return select(researcher_indicators).where(
        id_in(researcher_indicators.c.researcher_id, dialect)
    )
