"""What the researcher fields do: lookups, the leaderboard list and coauthors."""

from __future__ import annotations

from db.queries import coauthors, researchers
from db.queries.pages import cut_page, fetch_page
from db.reads import ALL_RESEARCHERS, RESEARCHER_KEYS, note_found, note_list
from db.tables import AnyRow
from resolvers.context import Context
from resolvers.errors import InvalidArgumentError
from resolvers.loaders import ListSpec
from resolvers.nodes import decode_id_of
from resolvers.orcid import OrcidError, parse_orcid
from resolvers.pages import PageArgs, PageResult, page_request, page_result


async def find_researcher(
    context: Context,
    *,
    id: str | None,
    slug: str | None,
    orcid: str | None,
    columns: frozenset[str] | None = None,
) -> AnyRow | None:
    """The researcher named by exactly one of id, slug and ORCID; None when there is none.

    `columns`: only these (and the id) are read, on the driver (db.direct); all when None.
    """
    given = [value for value in (id, slug, orcid) if value is not None]
    if len(given) != 1:
        raise InvalidArgumentError("Give exactly one of id, slug and orcid.")
    if id is not None:
        return await context.loaders.researchers_by_id.load(decode_id_of(id, "Researcher"))
    column, value = ("slug", slug) if slug is not None else ("orcid", _bare_orcid(orcid or ""))
    value = (value or "").strip()
    if columns is None:
        found = await context.read(
            lambda connection: researchers.researcher_by(connection, column, value)
        )
    else:
        found = await researchers.researcher_with_columns(context.snapshot, column, value, columns)
    return note_found("Researcher", found, RESEARCHER_KEYS)


def _bare_orcid(orcid: str) -> str:
    """The iD as stored: lookups accept the forms writes accept, and refuse what they refuse."""
    try:
        return parse_orcid(orcid)
    except OrcidError as error:
        raise InvalidArgumentError(str(error)) from error


async def list_researchers(
    context: Context,
    args: PageArgs,
    *,
    query: str | None,
    order: tuple[str, bool] | None,
    columns: frozenset[str] | None = None,
) -> PageResult:
    """Researchers by name, or ranked by an indicator computed in SQL (leaderboards).

    `columns`: only these are read, on the driver (db.direct), when the page's statement
    is fixed (no search, no cursor); all when None.
    """
    note_list(ALL_RESEARCHERS)
    field, descending = order or ("NAME", False)
    if query is None:
        statement, ordering = researchers.unsearched_select(field, descending)
    else:
        statement, ordering = researchers.researchers_select(
            query=query, order_field=field, descending=descending
        )
    request = page_request(args, ordering)
    if columns is not None and query is None and request.after is None:
        snapshot = context.snapshot
        fixed = researchers.researchers_page_direct(
            field, descending, request, columns, snapshot.dialect
        )
        rows = await snapshot.fetch(fixed, {})
    else:
        rows = await context.read(lambda c: fetch_page(c, statement, ordering, request))
    if field in researchers.STAT_FIELDS and (not rows or "h_index" in rows[0]._fields):
        # A leaderboard's rows carry the kept figures its metrics would load.
        context.loaders.indicators_by_researcher_id.prime_many({row.id: row for row in rows})

    async def count_all() -> int:
        return await context.read(
            lambda connection: researchers.count_researchers(connection, query=query)
        )

    return page_result(cut_page(rows, ordering, request), ordering, count_all)


async def coauthors_of(context: Context, researcher_id: int, args: PageArgs) -> PageResult:
    """Coauthors, most shared papers first, then by name."""
    ordering = coauthors.coauthors_select([researcher_id])[2]
    spec = ListSpec(request=page_request(args, ordering))
    loaders = context.loaders
    page = await loaders.coauthor_page_by_researcher_id.load((researcher_id, spec))

    async def count_all() -> int:
        return await loaders.coauthor_count_by_researcher_id.load(researcher_id)

    return page_result(page, ordering, count_all)


async def researchers_of_institution(
    context: Context, institution_id: int, args: PageArgs
) -> PageResult:
    spec = ListSpec(request=page_request(args, researchers.NAME_ORDERING))
    loaders = context.loaders
    page = await loaders.researcher_page_by_institution_id.load((institution_id, spec))

    async def count_all() -> int:
        return await loaders.researcher_count_by_institution_id.load(institution_id)

    return page_result(page, researchers.NAME_ORDERING, count_all)
