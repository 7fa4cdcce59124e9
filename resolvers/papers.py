"""What the paper fields do: lookups, the searchable list, and per-paper lists."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select

from db.queries import papers
from db.queries.pages import Ordering, count_rows, cut_page, fetch_page
from db.queries.papers import PaperFilter
from db.queries.search import SearchTooLongError, paper_matches
from db.reads import ALL_PAPERS, PAPER_KEYS, note_found, note_list
from db.tables import AnyRow, paper
from resolvers.context import Context
from resolvers.errors import InvalidArgumentError
from resolvers.loaders import PaperListSpec
from resolvers.nodes import decode_id_of
from resolvers.pages import PageArgs, PageResult, page_request, page_result

DEFAULT_ORDER = ("PUBLISHED_ON", True)


async def find_paper(
    context: Context, *, id: str | None, arxiv_id: str | None, doi: str | None
) -> AnyRow | None:
    """The paper named by exactly one of id, arXiv id and DOI; None when there is none."""
    given = [value for value in (id, arxiv_id, doi) if value is not None]
    if len(given) != 1:
        raise InvalidArgumentError("Give exactly one of id, arxivId and doi.")
    if id is not None:
        return await context.loaders.papers_by_id.load(decode_id_of(id, "Paper"))
    if arxiv_id is not None:
        found = await context.read(lambda c: papers.paper_by_arxiv_id(c, arxiv_id.strip()))
    else:
        found = await context.read(lambda c: papers.paper_by_doi(c, (doi or "").strip()))
    return note_found("Paper", found, PAPER_KEYS)


async def list_papers(
    context: Context,
    args: PageArgs,
    *,
    query: str | None,
    spec: PaperFilter,
    order: tuple[str, bool] | None,
) -> PageResult:
    """All papers, or those matching a search (best match first unless an order is given)."""
    note_list(ALL_PAPERS)
    statement = papers.papers_select(spec)
    field, descending = _field_and_direction(order)
    ordering = papers.paper_ordering(field, descending=descending)
    if query is not None:
        try:
            matches = paper_matches(query, dialect=context.engine.dialect.name)
        except SearchTooLongError as error:
            raise InvalidArgumentError(str(error)) from None
        if matches is None:
            return _empty(ordering, args)
        statement = statement.join(matches, matches.c.paper_id == paper.c.id)
        if order is None:
            ordering = papers.relevance_ordering(matches.c.rank)
    return await _page_of(context, statement, ordering, args)


def _field_and_direction(order: tuple[str, bool] | None) -> tuple[str, bool]:
    field, descending = order or DEFAULT_ORDER
    return field, descending


async def _page_of(
    context: Context, statement: Select[Any], ordering: Ordering, args: PageArgs
) -> PageResult:
    request = page_request(args, ordering)
    rows = await context.read(lambda c: fetch_page(c, statement, ordering, request))

    async def count_all() -> int:
        return await context.read(lambda c: count_rows(c, statement))

    return page_result(cut_page(rows, ordering, request), ordering, count_all)


def _empty(ordering: Ordering, args: PageArgs) -> PageResult:
    async def no_rows() -> int:
        return 0

    request = page_request(args, ordering)  # still refuse bad arguments
    return page_result(cut_page([], ordering, request), ordering, no_rows)


def paper_list_spec(
    args: PageArgs, *, spec: PaperFilter, order: tuple[str, bool] | None
) -> PaperListSpec:
    field, descending = _field_and_direction(order)
    request = page_request(args, papers.paper_ordering(field, descending=descending))
    return PaperListSpec(request=request, filter=spec, order_field=field, descending=descending)


async def papers_of_researcher(
    context: Context,
    researcher_id: int,
    args: PageArgs,
    *,
    spec: PaperFilter,
    order: tuple[str, bool] | None,
) -> PageResult:
    list_spec = paper_list_spec(args, spec=spec, order=order)
    loaders = context.loaders
    page = await loaders.paper_page_by_researcher_id.load((researcher_id, list_spec))

    async def count_all() -> int:
        return await loaders.paper_count_by_researcher_id.load((researcher_id, spec))

    ordering = papers.paper_ordering(list_spec.order_field, descending=list_spec.descending)
    return page_result(page, ordering, count_all)


async def papers_of_institution(
    context: Context,
    institution_id: int,
    args: PageArgs,
    *,
    order: tuple[str, bool] | None,
) -> PageResult:
    spec = PaperFilter()
    list_spec = paper_list_spec(args, spec=spec, order=order)
    loaders = context.loaders
    page = await loaders.paper_page_by_institution_id.load((institution_id, list_spec))

    async def count_all() -> int:
        return await loaders.paper_count_by_institution_id.load((institution_id, spec))

    ordering = papers.paper_ordering(list_spec.order_field, descending=list_spec.descending)
    return page_result(page, ordering, count_all)
