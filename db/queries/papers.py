"""Statements over papers: lookups, filters, orderings and the per-paper lists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from db.direct import Direct, narrowed_direct
from db.queries.batches import id_in, prepared, rows_for_ids
from db.queries.pages import Ordering, parse_date, parse_float, parse_int, parse_str
from db.tables import (
    AnyRow,
    authorship,
    citation_year,
    institution,
    paper,
    paper_category,
    paper_institution,
    paper_link,
    researcher,
)

EARLIEST = date(1, 1, 1)


@dataclass(frozen=True, slots=True)
class PaperFilter:
    """Which papers a list holds; None means no restriction."""

    categories: tuple[str, ...] | None = None
    published_from: date | None = None
    published_to: date | None = None
    has_code: bool | None = None
    min_citations: int | None = None
    institution: str | None = None


@cache
def paper_ordering(field: str, *, descending: bool) -> Ordering:
    """PUBLISHED_ON, CITATION_COUNT or TITLE; unknown dates and counts sort as the least.

    Made once per field and direction: building the expressions is a fair part of a
    page's CPU when its statement itself is made once.
    """
    c = paper.c
    keys: tuple[ColumnElement[Any], ...]
    if field == "PUBLISHED_ON":
        keys = (
            func.coalesce(c.year, 0),
            func.coalesce(c.published_on, literal(EARLIEST, c.published_on.type)),
            c.id,
        )
        parsers: tuple[Any, ...] = (parse_int, parse_date, parse_int)
    elif field == "CITATION_COUNT":
        keys = (func.coalesce(c.citation_count, -1), c.id)
        parsers = (parse_int, parse_int)
    elif field == "TITLE":
        keys = (c.title_key, c.id)
        parsers = (parse_str, parse_int)
    else:
        raise ValueError(f"unknown paper ordering {field}")
    return Ordering(f"{field}:{'DESC' if descending else 'ASC'}", keys, parsers, descending)


@cache
def researcher_papers_ordering(field: str, *, descending: bool) -> Ordering:
    """`paper_ordering` for the papers of researchers (joined through `authorship`).

    Newest first (or last) reads the copies of the paper's keys each authorship
    keeps (migration 0007): the index on (researcher_id, those keys, paper_id)
    yields a researcher's page in order. The values, and so the cursors, are the
    paper's own.
    """
    ordering = paper_ordering(field, descending=descending)
    if field != "PUBLISHED_ON":
        return ordering
    keys = (authorship.c.paper_sort_year, authorship.c.paper_sort_date, authorship.c.paper_id)
    return replace(ordering, keys=keys)


def relevance_ordering(rank: ColumnElement[Any]) -> Ordering:
    """Best match first: a search's rank (lower is better), then id."""
    return Ordering("RELEVANCE", (rank, paper.c.id), (parse_float, parse_int))


def filter_conditions(spec: PaperFilter) -> list[ColumnElement[bool]]:
    c = paper.c
    conditions: list[ColumnElement[bool]] = []
    if spec.categories is not None:
        conditions.append(
            exists().where(
                paper_category.c.paper_id == c.id,
                paper_category.c.category_code.in_(spec.categories),
            )
        )
    if spec.published_from is not None:
        conditions.append(_published_on_or_after(spec.published_from))
    if spec.published_to is not None:
        conditions.append(_published_on_or_before(spec.published_to))
    if spec.has_code is not None:
        conditions.append(c.has_code == spec.has_code)
    if spec.min_citations is not None:
        conditions.append(c.citation_count >= spec.min_citations)
    if spec.institution is not None:
        conditions.append(_printed_with_institution(spec.institution))
    return conditions


def _published_on_or_after(day: date) -> ColumnElement[bool]:
    # A paper known only by its year is in range when its year is.
    c = paper.c
    return or_(c.published_on >= day, and_(c.published_on.is_(None), c.year >= day.year))


def _published_on_or_before(day: date) -> ColumnElement[bool]:
    c = paper.c
    return or_(c.published_on <= day, and_(c.published_on.is_(None), c.year <= day.year))


def _printed_with_institution(slug: str) -> ColumnElement[bool]:
    return exists().where(
        paper_institution.c.paper_id == paper.c.id,
        paper_institution.c.institution_id == institution.c.id,
        institution.c.slug == slug,
    )


def papers_select(spec: PaperFilter) -> Select[Any]:
    """Every paper column, for the papers the filter keeps."""
    return select(paper).where(*filter_conditions(spec))


def papers_of_researchers_select(spec: PaperFilter) -> tuple[Select[Any], ColumnElement[Any]]:
    """Papers with an authorship, and the researcher id to partition them by."""
    statement = papers_select(spec).join(authorship, authorship.c.paper_id == paper.c.id)
    return statement, authorship.c.researcher_id


def papers_of_institutions_select(spec: PaperFilter) -> tuple[Select[Any], ColumnElement[Any]]:
    statement = papers_select(spec).join(
        paper_institution, paper_institution.c.paper_id == paper.c.id
    )
    return statement, paper_institution.c.institution_id


async def count_papers(connection: AsyncConnection, spec: PaperFilter) -> int:
    statement = select(func.count()).select_from(paper).where(*filter_conditions(spec))
    return (await connection.execute(statement)).scalar_one()


async def count_papers_by_parent(
    connection: AsyncConnection,
    statement: Select[Any],
    parent: ColumnElement[Any],
    ids: Sequence[int],
) -> dict[int, int]:
    """How many rows of a parent-joined paper select each parent has."""
    counted = (
        statement.with_only_columns(parent, func.count()).where(parent.in_(ids)).group_by(parent)
    )
    return dict((await connection.execute(counted)).all())


@prepared
def _papers_by_ids(dialect: str) -> Select[Any]:
    return select(paper).where(id_in(paper.c.id, dialect))


async def papers_by_ids(connection: AsyncConnection, ids: Sequence[int]) -> list[AnyRow]:
    return await rows_for_ids(connection, _papers_by_ids, ids)


async def paper_by_arxiv_id(connection: AsyncConnection, arxiv_id: str) -> AnyRow | None:
    statement = select(paper).where(paper.c.arxiv_id == arxiv_id)
    return (await connection.execute(statement)).first()


async def paper_by_doi(connection: AsyncConnection, doi: str) -> AnyRow | None:
    statement = select(paper).where(func.lower(paper.c.doi) == doi.lower())
    return (await connection.execute(statement)).first()


@prepared
def _authorships_of_papers(dialect: str) -> Select[Any]:
    return (
        select(
            authorship.c.paper_id,
            authorship.c.position,
            authorship.c.display_name,
            researcher,
        )
        .join(researcher, researcher.c.id == authorship.c.researcher_id)
        .where(id_in(authorship.c.paper_id, dialect))
        .order_by(
            authorship.c.paper_id,
            authorship.c.position.is_(None),
            authorship.c.position,
            authorship.c.id,
        )
    )


def authorships_of_papers_direct(dialect: str, columns: frozenset[str]) -> Direct:
    """`authorships_of_papers` with only these columns (and paper_id), run on the driver."""
    return narrowed_direct(_authorships_of_papers, dialect, columns | {"paper_id"})


async def authorships_of_papers(connection: AsyncConnection, ids: Sequence[int]) -> list[AnyRow]:
    """Bylines in order (known places first), each row with its researcher's columns.

    The researcher comes in the same row: a byline is always shown with who is
    behind each name, and a second lookup per author would cost more than the join.
    """
    return await rows_for_ids(connection, _authorships_of_papers, ids)


async def category_codes_of_papers(
    connection: AsyncConnection, ids: Sequence[int]
) -> list[tuple[int, str]]:
    statement = (
        select(paper_category.c.paper_id, paper_category.c.category_code)
        .where(paper_category.c.paper_id.in_(ids))
        .order_by(paper_category.c.paper_id, paper_category.c.category_code)
    )
    return list((await connection.execute(statement)).all())


async def institutions_of_papers(connection: AsyncConnection, ids: Sequence[int]) -> list[AnyRow]:
    statement = (
        select(paper_institution.c.paper_id, institution)
        .join(institution, institution.c.id == paper_institution.c.institution_id)
        .where(paper_institution.c.paper_id.in_(ids))
        .order_by(paper_institution.c.paper_id, institution.c.name)
    )
    return list((await connection.execute(statement)).all())


async def links_of_papers(connection: AsyncConnection, ids: Sequence[int]) -> list[tuple[int, str]]:
    statement = (
        select(paper_link.c.paper_id, paper_link.c.url)
        .where(paper_link.c.paper_id.in_(ids))
        .order_by(paper_link.c.paper_id, paper_link.c.position)
    )
    return list((await connection.execute(statement)).all())


async def citation_years_of_papers(
    connection: AsyncConnection, ids: Sequence[int]
) -> list[tuple[int, int, int]]:
    statement = (
        select(citation_year.c.paper_id, citation_year.c.year, citation_year.c.count)
        .where(citation_year.c.paper_id.in_(ids))
        .order_by(citation_year.c.paper_id, citation_year.c.year)
    )
    return list((await connection.execute(statement)).all())
