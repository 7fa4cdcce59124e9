"""A new paper's byline: who each author is, matched by ID or by name, or created."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from db.names import name_key
from db.queries.matching import researchers_with_name_key
from db.tables import AnyRow
from db.writes.researchers import hold_slug_bases, lock_researchers
from resolvers.mutations.researchers import add_researcher
from resolvers.mutations.validation import Path, Problems, checked_id, checked_name
from resolvers.nodes import encode_global_id

# An ambiguous name lists at most this many of the researchers it matches.
MAX_CANDIDATES = 10


@dataclass(frozen=True, slots=True)
class AuthorSpec:
    """An author as given: an existing researcher's ID, or else a name to match or create."""

    researcher_id: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Author:
    """A checked author: a researcher id to look up, or a printed name, or both."""

    path: Path
    researcher_id: int | None
    name: str | None


# A researcher on the byline: an existing one's id, or the key of one to create.
Who = int | str


def checked_byline(authors: Sequence[AuthorSpec], problems: Problems) -> list[Author]:
    if not authors:
        problems.invalid(("input", "authors"), "A paper has at least one author.")
    byline: list[Author] = []
    for index, author in enumerate(authors):
        path = ("input", "authors", str(index))
        researcher_id = None
        if author.researcher_id is not None:
            id_path = (*path, "researcherId")
            researcher_id = checked_id(author.researcher_id, "Researcher", id_path, problems)
        name = None if author.name is None else checked_name(author.name, (*path, "name"), problems)
        if author.researcher_id is None and author.name is None:
            problems.invalid(path, "Give a researcherId or a name.")
        byline.append(Author(path, researcher_id, name))
    return byline


def name_keys_of(byline: Sequence[Author]) -> list[str]:
    """The name keys a byline finds researchers by (or creates them under)."""
    return [name_key(a.name) for a in byline if a.researcher_id is None and a.name is not None]


async def resolved_byline(
    session: AsyncSession, byline: Sequence[Author], problems: Problems
) -> list[tuple[Who, str]]:
    """Who each author is, and the name to print; nobody twice."""
    connection = await session.connection()
    matched = {
        index: await _match(connection, author, problems)
        for index, author in enumerate(byline)
        if author.researcher_id is None and not _reported(author, problems)
    }
    ids = [author.researcher_id for author in byline if author.researcher_id is not None]
    # Everyone on the byline, locked at once in id order: not merged away before this
    # paper commits, and no deadlock with a merge that locks them in that order too.
    found = await lock_researchers(
        connection,
        [*ids, *(who for who in matched.values() if isinstance(who, int))],
        for_change=False,
    )
    resolved: list[tuple[Who, str]] = []
    first_place: dict[Who, int] = {}
    for index, author in enumerate(byline):
        placed = _who(author, matched.get(index), found, problems)
        if placed is None:
            continue
        who, printed = placed
        if who in first_place:
            problems.invalid(author.path, f"The same researcher as author {first_place[who] + 1}.")
            continue
        first_place[who] = index
        resolved.append((who, printed))
    return resolved


def _reported(author: Author, problems: Problems) -> bool:
    given = (author.path, (*author.path, "name"), (*author.path, "researcherId"))
    return any(problems.at(path) for path in given)


async def _match(connection: AsyncConnection, author: Author, problems: Problems) -> Who | None:
    """The one researcher the author's name matches, or its key when none; None if several."""
    assert author.name is not None  # checked_byline reported an author with neither
    key = name_key(author.name)
    matches = await researchers_with_name_key(connection, key, limit=MAX_CANDIDATES + 1)
    if len(matches) > 1:
        _report_ambiguous(author, matches, problems)
        return None
    return int(matches[0].id) if matches else key


def _who(
    author: Author, matched: Who | None, found: Mapping[int, AnyRow], problems: Problems
) -> tuple[Who, str] | None:
    if _reported(author, problems):
        return None
    if author.researcher_id is not None:
        row = found.get(author.researcher_id)
        if row is None:
            problems.not_found((*author.path, "researcherId"), "No researcher has this ID.")
            return None
        return int(row.id), author.name or row.name
    assert author.name is not None
    if isinstance(matched, int) and matched not in found:
        message = "The researcher this name matched was merged away meanwhile; try again."
        problems.not_found((*author.path, "name"), message)
        return None
    return (matched, author.name) if matched is not None else None


def _report_ambiguous(author: Author, matches: Sequence[AnyRow], problems: Problems) -> None:
    shown = matches[:MAX_CANDIDATES]
    more = " and more" if len(matches) > MAX_CANDIDATES else ""
    listed = ", ".join(f"{row.name} ({row.slug})" for row in shown)
    problems.ambiguous(
        (*author.path, "name"),
        f"{author.name!r} matches several researchers: {listed}{more}. "
        "Give the researcherId of the one you mean.",
        [encode_global_id("Researcher", row.id) for row in shown],
    )


async def placed_byline(
    session: AsyncSession, authors: Sequence[tuple[Who, str]]
) -> list[tuple[int, str]]:
    """The byline as (researcher id, printed name), creating researchers met for the first time."""
    connection = await session.connection()
    await hold_slug_bases(connection, [printed for who, printed in authors if isinstance(who, str)])
    placed: list[tuple[int, str]] = []
    for who, printed in authors:
        researcher_id = who if isinstance(who, int) else await add_researcher(session, printed, {})
        placed.append((researcher_id, printed))
    return placed
