"""createResearcher and updateResearcher, and the one way a researcher row is added."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import utc_now
from db.names import name_key
from db.reads import RESEARCHER_KEYS, changing_keys, changing_researchers
from db.tables import AnyRow, researcher
from db.writes.indicators import refresh_indicators
from db.writes.keys import (
    RESEARCHER_NAME,
    RESEARCHER_OPENALEX,
    RESEARCHER_ORCID,
    RESEARCHER_S2,
    hold_natural_keys,
)
from db.writes.researchers import (
    claim_slug,
    insert_researcher,
    lock_researchers,
    replace_aliases,
)
from db.writes.researchers import (
    update_researcher as update_researcher_row,
)
from db.writes.uniques import holder_of
from resolvers.context import Context
from resolvers.mutations.transactions import Written, write
from resolvers.mutations.validation import (
    Check,
    Keep,
    Problems,
    checked_id,
    checked_name,
    checked_openalex_author_id,
    checked_optional,
    checked_orcid,
    checked_semantic_scholar_author_id,
    checked_url,
)
from resolvers.nodes import encode_global_id

# column, input field, what to call it, its check.
EXTERNAL_IDS: tuple[tuple[str, str, str, Check], ...] = (
    ("orcid", "orcid", "ORCID iD", checked_orcid),
    ("openalex_id", "openalexId", "OpenAlex id", checked_openalex_author_id),
    (
        "semantic_scholar_id",
        "semanticScholarId",
        "Semantic Scholar id",
        checked_semantic_scholar_author_id,
    ),
)

ID_NAMESPACES = {
    "orcid": RESEARCHER_ORCID,
    "openalex_id": RESEARCHER_OPENALEX,
    "semantic_scholar_id": RESEARCHER_S2,
}


@dataclass(frozen=True, slots=True)
class NewResearcher:
    name: str
    orcid: str | None = None
    openalex_id: str | None = None
    semantic_scholar_id: str | None = None
    homepage: str | None = None


@dataclass(frozen=True, slots=True)
class ResearcherChanges:
    """What updateResearcher was given; Keep.KEEP where a field was left out."""

    id: str
    name: str | Keep | None = Keep.KEEP
    orcid: str | Keep | None = Keep.KEEP
    openalex_id: str | Keep | None = Keep.KEEP
    semantic_scholar_id: str | Keep | None = Keep.KEEP
    homepage: str | Keep | None = Keep.KEEP
    aliases: Sequence[str] | Keep | None = Keep.KEEP


async def create_researcher(context: Context, new: NewResearcher) -> Written[AnyRow]:
    """A researcher with a fresh slug made from the name; external ids must be free."""
    problems = Problems()
    name = checked_name(new.name, ("input", "name"), problems)
    values = _checked_ids(new, problems)
    if new.homepage is not None:
        values["homepage"] = checked_url(new.homepage, ("input", "homepage"), problems)

    async def work(session: AsyncSession) -> int:
        connection = await session.connection()
        await hold_natural_keys(connection, _id_keys(values))
        await _check_ids_free(connection, values, problems, researcher_id=None)
        problems.reject_if_any()
        researcher_id = await add_researcher(session, name, values)
        await refresh_indicators(connection, [researcher_id])
        await changing_researchers(connection, [researcher_id])
        changing_keys(RESEARCHER_KEYS)
        return researcher_id

    return await fresh_researcher(context, await write(context, work))


async def update_researcher(context: Context, changes: ResearcherChanges) -> Written[AnyRow]:
    """Change the given fields; a new name gets a new name key but keeps the slug."""
    problems = Problems()
    researcher_id = checked_id(changes.id, "Researcher", ("input", "id"), problems)
    values = _changed_values(changes, problems)
    aliases = None
    if changes.aliases is not Keep.KEEP:
        aliases = _checked_aliases(changes.aliases or (), problems)

    async def work(session: AsyncSession) -> int:
        connection = await session.connection()
        # The new name and aliases are keys a paper's byline finds researchers by.
        names = [values.get("name_key"), *(key for _alias, key in aliases or ())]
        await hold_natural_keys(connection, {**_id_keys(values), RESEARCHER_NAME: names})
        found = await lock_researchers(connection, _ids(researcher_id), for_change=True)
        if researcher_id is not None and researcher_id not in found:
            problems.not_found(("input", "id"), "No researcher has this ID.")
        await _check_ids_free(connection, values, problems, researcher_id=researcher_id)
        problems.reject_if_any()
        assert researcher_id is not None
        await changing_researchers(connection, [researcher_id])
        if "orcid" in values or "slug" in values:
            changing_keys(RESEARCHER_KEYS)
        if values or aliases is not None:
            await update_researcher_row(
                connection, researcher_id, {**values, "updated_at": utc_now()}
            )
        if aliases is not None:
            await replace_aliases(connection, researcher_id, aliases)
        return researcher_id

    return await fresh_researcher(context, await write(context, work))


async def add_researcher(session: AsyncSession, name: str, values: Mapping[str, Any]) -> int:
    """Insert a researcher named `name` under a slug no one has yet; returns its id."""
    connection = await session.connection()
    now = utc_now()
    row = {"slug": await claim_slug(connection, name), "name": name, "name_key": name_key(name)}
    return await insert_researcher(
        connection, {**row, "created_at": now, "updated_at": now, **values}
    )


async def fresh_researcher(context: Context, written: Written[int]) -> Written[AnyRow]:
    """The researcher a write made or changed, read after the commit."""
    if written.value is None:
        return Written(problems=written.problems)
    return Written(await context.loaders.researchers_by_id.load(written.value))


def _id_keys(values: Mapping[str, Any]) -> dict[str, list[str | None]]:
    """The external ids a write gives, as the natural keys whose locks it holds."""
    return {namespace: [values.get(column)] for column, namespace in ID_NAMESPACES.items()}


def _ids(researcher_id: int | None) -> list[int]:
    return [] if researcher_id is None else [researcher_id]


def _checked_ids(new: NewResearcher, problems: Problems) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for column, input_field, _label, check in EXTERNAL_IDS:
        given = getattr(new, column)
        if given is not None:
            values[column] = check(given, ("input", input_field), problems)
    return values


def _changed_values(changes: ResearcherChanges, problems: Problems) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if changes.name is None:
        problems.invalid(("input", "name"), "The name cannot be null.")
    elif changes.name is not Keep.KEEP:
        name = checked_name(changes.name, ("input", "name"), problems)
        values.update(name=name, name_key=name_key(name))
    for column, input_field, _label, check in EXTERNAL_IDS:
        given = getattr(changes, column)
        if given is not Keep.KEEP:
            values[column] = (
                None if given is None else check(given, ("input", input_field), problems)
            )
    if changes.homepage is not Keep.KEEP:
        path = ("input", "homepage")
        values["homepage"] = checked_optional(changes.homepage, path, checked_url, problems)
    return values


def _checked_aliases(aliases: Sequence[str], problems: Problems) -> list[tuple[str, str]]:
    """(alias, key) pairs; two aliases with the same key are one alias given twice."""
    pairs: list[tuple[str, str]] = []
    first_with_key: dict[str, int] = {}
    for index, alias in enumerate(aliases):
        path = ("input", "aliases", str(index))
        clean = checked_name(alias, path, problems, what="alias")
        key = name_key(clean)
        if problems.at(path):
            continue
        if key in first_with_key:
            problems.invalid(path, f"The same name as alias {first_with_key[key] + 1}.")
            continue
        first_with_key[key] = index
        pairs.append((clean, key))
    return pairs


async def _check_ids_free(
    connection: AsyncConnection,
    values: Mapping[str, Any],
    problems: Problems,
    *,
    researcher_id: int | None,
) -> None:
    """A CONFLICT for each external id another researcher already has."""
    for column, input_field, label, _check in EXTERNAL_IDS:
        path = ("input", input_field)
        value = values.get(column)
        if value is None or problems.at(path):
            continue
        holder = await holder_of(connection, researcher.c[column], value, other_than=researcher_id)
        if holder is not None:
            owner = encode_global_id("Researcher", holder)
            problems.conflict(path, f"Researcher {owner} already has this {label}.")
