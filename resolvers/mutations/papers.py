"""createPaper, updatePaper and deletePaper."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import utc_now
from db.names import title_key
from db.reads import PAPER_KEYS, RESEARCHER_KEYS, changing_keys, changing_papers
from db.tables import AnyRow, paper
from db.writes import papers as paper_writes
from db.writes.indicators import refresh_indicators
from db.writes.keys import (
    INSTITUTION_SLUG,
    PAPER_ARXIV,
    PAPER_DOI,
    RESEARCHER_NAME,
    hold_natural_keys,
)
from db.writes.uniques import holder_of
from resolvers.context import Context
from resolvers.mutations.bylines import (
    AuthorSpec,
    checked_byline,
    name_keys_of,
    placed_byline,
    resolved_byline,
)
from resolvers.mutations.transactions import Written, write
from resolvers.mutations.validation import (
    ImpossibleDate,
    Keep,
    Problems,
    check_count,
    checked_arxiv_id,
    checked_date,
    checked_doi,
    checked_id,
    checked_optional,
    checked_slug,
    checked_title,
    checked_url,
    optional_text,
)
from resolvers.nodes import encode_global_id
from seeds.manifest import read_manifest

# column, input field, what to call it
UNIQUE_PAPER_FIELDS = (("arxiv_id", "arxivId", "arXiv id"), ("doi", "doi", "DOI"))


@dataclass(frozen=True, slots=True)
class NewPaper:
    title: str
    authors: Sequence[AuthorSpec] = ()
    abstract: str | None = None
    published_on: date | ImpossibleDate | None = None
    primary_category: str | None = None
    authors_truncated: bool | None = None
    institutions: Sequence[str] | None = None
    has_code: bool | None = None
    code_url: str | None = None
    arxiv_id: str | None = None
    doi: str | None = None
    citation_count: int | None = None


@dataclass(frozen=True, slots=True)
class PaperChanges:
    """What updatePaper was given; Keep.KEEP where a field was left out."""

    id: str
    title: str | Keep | None = Keep.KEEP
    abstract: str | Keep | None = Keep.KEEP
    published_on: date | ImpossibleDate | Keep | None = Keep.KEEP
    primary_category: str | Keep | None = Keep.KEEP
    has_code: bool | Keep | None = Keep.KEEP
    code_url: str | Keep | None = Keep.KEEP
    arxiv_id: str | Keep | None = Keep.KEEP
    doi: str | Keep | None = Keep.KEEP


async def create_paper(context: Context, new: NewPaper) -> Written[AnyRow]:
    """A paper with its byline in the order given, its institutions and primary category."""
    problems = Problems()
    values = _new_paper_values(new, problems)
    byline = checked_byline(new.authors, problems)
    slugs = _checked_slugs(new.institutions or (), problems)

    async def work(session: AsyncSession) -> int:
        connection = await session.connection()
        names = name_keys_of(byline)
        await hold_natural_keys(
            connection, {**_id_keys(values), INSTITUTION_SLUG: slugs, RESEARCHER_NAME: names}
        )
        await _check_references(connection, values, problems, paper_id=None)
        authors = await resolved_byline(session, byline, problems)
        problems.reject_if_any()
        now = utc_now()
        paper_id = await paper_writes.insert_paper(
            connection, {**values, "created_at": now, "updated_at": now}
        )
        if values["primary_category"] is not None:
            await paper_writes.insert_categories(connection, paper_id, [values["primary_category"]])
        placed = await placed_byline(session, authors)
        await paper_writes.insert_authorships(connection, paper_id, placed)
        await _link_institutions(connection, paper_id, slugs)
        await refresh_indicators(connection, [researcher_id for researcher_id, _ in placed])
        await changing_papers(connection, [paper_id])
        changing_keys(PAPER_KEYS)
        changing_keys(RESEARCHER_KEYS)  # the byline may have made researchers
        return paper_id

    return await fresh_paper(context, await write(context, work))


async def update_paper(context: Context, changes: PaperChanges) -> Written[AnyRow]:
    """Change the given fields only; a new title gets a new title key."""
    problems = Problems()
    paper_id = checked_id(changes.id, "Paper", ("input", "id"), problems)
    values = _changed_values(changes, problems)

    async def work(session: AsyncSession) -> int:
        connection = await session.connection()
        await hold_natural_keys(connection, _id_keys(values))
        stored = None if paper_id is None else await paper_writes.lock_paper(connection, paper_id)
        if paper_id is not None and stored is None:
            problems.not_found(("input", "id"), "No paper has this ID.")
        await _check_references(connection, values, problems, paper_id=paper_id)
        problems.reject_if_any()
        assert stored is not None
        await changing_papers(connection, [stored.id])
        if "doi" in values or "arxiv_id" in values:
            changing_keys(PAPER_KEYS)
        if values:
            await paper_writes.update_paper(
                connection, stored.id, {**values, "updated_at": utc_now()}
            )
        category = values.get("primary_category", stored.primary_category)
        if category != stored.primary_category:
            await paper_writes.replace_primary_category(
                connection, stored.id, old=stored.primary_category, new=category
            )
        return int(stored.id)

    return await fresh_paper(context, await write(context, work))


async def delete_paper(context: Context, global_id: str) -> Written[str]:
    """Delete a paper with everything that hangs off it; its researchers stay."""
    problems = Problems()
    paper_id = checked_id(global_id, "Paper", ("id",), problems)

    async def work(session: AsyncSession) -> str:
        problems.reject_if_any()
        assert paper_id is not None
        connection = await session.connection()
        if not await paper_writes.lock_papers(connection, [paper_id]):
            problems.not_found(("id",), "No paper has this ID.")
        problems.reject_if_any()
        authors = await paper_writes.researcher_ids_of_papers(connection, [paper_id])
        await changing_papers(connection, [paper_id])
        await paper_writes.delete_paper(connection, paper_id)
        await refresh_indicators(connection, authors)
        return encode_global_id("Paper", paper_id)

    if problems.found:
        return Written(problems=problems.found)
    return await write(context, work)


async def fresh_paper(context: Context, written: Written[int]) -> Written[AnyRow]:
    """The paper a write made or changed, read after the commit."""
    if written.value is None:
        return Written(problems=written.problems)
    return Written(await context.loaders.papers_by_id.load(written.value))


def _new_paper_values(new: NewPaper, problems: Problems) -> dict[str, Any]:
    """The paper row's columns, checked and normalised."""
    title = checked_title(new.title, ("input", "title"), problems)
    code_url = checked_optional(new.code_url, ("input", "codeUrl"), checked_url, problems)
    if new.citation_count is not None:
        check_count(new.citation_count, ("input", "citationCount"), problems)
    published_on = checked_date(new.published_on, ("input", "publishedOn"), problems)
    return {
        "title": title,
        "title_key": title_key(title),
        "abstract": optional_text(new.abstract),
        "published_on": published_on,
        "year": published_on.year if published_on else None,
        "primary_category": optional_text(new.primary_category),
        "authors_truncated": bool(new.authors_truncated),
        "has_code": new.has_code if new.has_code is not None else code_url is not None,
        "code_url": code_url,
        "arxiv_id": checked_optional(
            new.arxiv_id, ("input", "arxivId"), checked_arxiv_id, problems
        ),
        "doi": checked_optional(new.doi, ("input", "doi"), checked_doi, problems),
        "citation_count": new.citation_count,
    }


def _changed_values(changes: PaperChanges, problems: Problems) -> dict[str, Any]:
    """The columns the given fields change, checked and normalised."""
    values: dict[str, Any] = {}
    if changes.title is None:
        problems.invalid(("input", "title"), "The title cannot be null.")
    elif changes.title is not Keep.KEEP:
        title = checked_title(changes.title, ("input", "title"), problems)
        values.update(title=title, title_key=title_key(title))
    if changes.abstract is not Keep.KEEP:
        values["abstract"] = optional_text(changes.abstract)
    if changes.published_on is not Keep.KEEP:
        day = checked_date(changes.published_on, ("input", "publishedOn"), problems)
        values.update(published_on=day, year=day.year if day else None)
    if changes.primary_category is not Keep.KEEP:
        values["primary_category"] = optional_text(changes.primary_category)
    if changes.has_code is None:
        problems.invalid(("input", "hasCode"), "hasCode cannot be null.")
    elif changes.has_code is not Keep.KEEP:
        values["has_code"] = changes.has_code
    if changes.code_url is not Keep.KEEP:
        values["code_url"] = checked_optional(
            changes.code_url, ("input", "codeUrl"), checked_url, problems
        )
    if changes.arxiv_id is not Keep.KEEP:
        values["arxiv_id"] = checked_optional(
            changes.arxiv_id, ("input", "arxivId"), checked_arxiv_id, problems
        )
    if changes.doi is not Keep.KEEP:
        values["doi"] = checked_optional(changes.doi, ("input", "doi"), checked_doi, problems)
    return values


async def _check_references(
    connection: AsyncConnection,
    values: Mapping[str, Any],
    problems: Problems,
    *,
    paper_id: int | None,
) -> None:
    """The primary category exists, and no other paper has the arXiv id or DOI."""
    code = values.get("primary_category")
    if code is not None and not await paper_writes.known_category_codes(connection, [code]):
        problems.invalid(
            ("input", "primaryCategory"), f"{code!r} is not a known arXiv category (e.g. cs.CL)."
        )
    for column, input_field, label in UNIQUE_PAPER_FIELDS:
        path = ("input", input_field)
        value = values.get(column)
        if value is None or problems.at(path):
            continue
        holder = await holder_of(connection, paper.c[column], value, other_than=paper_id)
        if holder is not None:
            problems.conflict(path, f"Paper {encode_global_id('Paper', holder)} has this {label}.")


def _checked_slugs(slugs: Sequence[str], problems: Problems) -> list[str]:
    checked = [
        checked_slug(slug, ("input", "institutions", str(i)), problems)
        for i, slug in enumerate(slugs)
    ]
    return list(dict.fromkeys(checked))


async def _link_institutions(connection: AsyncConnection, paper_id: int, slugs: list[str]) -> None:
    """Institutions by slug; one not stored yet is created under the seed manifest's name
    for the slug, or else a name made from the slug's words (as a profile import does)."""
    known = await paper_writes.institution_ids_by_slug(connection, slugs)
    names = read_manifest().institution_names if len(known) < len(slugs) else {}
    ids = []
    for slug in slugs:
        if slug not in known:
            name = names.get(slug) or slug.replace("-", " ").title()
            known[slug] = await paper_writes.add_institution(connection, slug=slug, name=name)
        ids.append(known[slug])
    await paper_writes.link_institutions(connection, paper_id, ids)


def _id_keys(values: Mapping[str, Any]) -> dict[str, Sequence[str | None]]:
    """The identifiers a write gives a paper, as the natural keys whose locks it holds."""
    return {PAPER_ARXIV: [values.get("arxiv_id")], PAPER_DOI: [values.get("doi")]}
