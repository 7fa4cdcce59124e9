"""The one way a mutation writes: a transaction on the write engine that commits or rolls back.

The work function may raise RejectedError (problems it found in the input);
the transaction then rolls back and the problems are returned. A unique or
foreign key violation the checks could not foresee (two requests racing for
the same DOI or slug) also rolls back and comes back as a problem, never as
a fault. After a commit the request's loaders are emptied, so the payload
reads the new rows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from db.engine import create_session_factory
from db.reads import Changes, announce, collecting, stop_collecting
from resolvers.context import Context
from resolvers.mutations.validation import Problem, ProblemCode, RejectedError

T = TypeVar("T")

# Unique columns, as a constraint name (PostgreSQL) or table.column (SQLite) shows them,
# with the input field that sets them.
UNIQUE_FIELDS = {
    "paper_arxiv_id": ("arxivId", "arXiv id"),
    "paper_doi": ("doi", "DOI"),
    "researcher_orcid": ("orcid", "ORCID iD"),
    "researcher_openalex_id": ("openalexId", "OpenAlex id"),
    "researcher_semantic_scholar_id": ("semanticScholarId", "Semantic Scholar id"),
    "researcher_slug": ("name", "slug"),
    "institution_slug": ("institutions", "institution slug"),
}


@dataclass(frozen=True, slots=True)
class Written(Generic[T]):
    """What a write returned, or the problems that stopped it (then nothing was written)."""

    value: T | None = None
    problems: list[Problem] = field(default_factory=list)


async def write(context: Context, work: Callable[[AsyncSession], Awaitable[T]]) -> Written[T]:
    """Run `work` in one transaction on the write engine: all of it, or none of it."""
    sessions = create_session_factory(context.writer)
    # The work says what it changes (db.reads.current_changes); announced after the commit.
    changes = Changes()
    token = collecting(changes)
    try:
        async with sessions() as session, session.begin():
            value = await work(session)
            await changes.settle(await session.connection())
    except RejectedError as rejected:
        return Written(problems=rejected.problems)
    except IntegrityError as error:
        return Written(problems=[problem_of(error)])
    finally:
        stop_collecting(token)
    context.forget_reads()
    await announce(changes.changed)
    return Written(value)


async def connection_of(session: AsyncSession) -> AsyncConnection:
    """The session's connection, for Core statements in the same transaction."""
    return await session.connection()


def problem_of(error: IntegrityError) -> Problem:
    """The problem a constraint violation stands for."""
    text = str(error.orig)
    if "foreign key" in text.lower():
        return Problem(
            None,
            "Something the input refers to was deleted meanwhile; nothing was written.",
            ProblemCode.NOT_FOUND,
        )
    for name, (input_field, label) in UNIQUE_FIELDS.items():
        table, _, column = name.partition("_")
        if f"uq_{name}" in text or f"{table}.{column}" in text:
            return Problem(
                ("input", input_field),
                f"Another record took this {label} meanwhile; nothing was written.",
                ProblemCode.CONFLICT,
            )
    return Problem(None, "The input clashes with a stored record.", ProblemCode.CONFLICT)
