"""How records from outside find the rows they describe.

Papers match on arXiv id, then DOI, then normalised title and year;
researchers on an external id, then their name key (names and aliases).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import Paper, Researcher
from db.tables import AnyRow, researcher, researcher_alias


async def find_paper(
    session: AsyncSession,
    *,
    arxiv_id: str | None = None,
    doi: str | None = None,
    title_key: str | None = None,
    year: int | None = None,
) -> Paper | None:
    """The stored paper a record describes, trying the strongest key first."""
    if arxiv_id and (paper := await _first_paper(session, col(Paper.arxiv_id) == arxiv_id)):
        return paper
    if doi and (paper := await _first_paper(session, col(Paper.doi) == doi.lower())):
        return paper
    if title_key:
        return await _first_paper(
            session, col(Paper.title_key) == title_key, col(Paper.year) == year
        )
    return None


async def _first_paper(session: AsyncSession, *conditions: object) -> Paper | None:
    statement = select(Paper).where(*conditions).order_by(col(Paper.id)).limit(1)  # type: ignore[arg-type]
    return (await session.exec(statement)).first()


async def find_researcher_by_name_key(session: AsyncSession, key: str) -> Researcher | None:
    """The oldest researcher whose name or one of whose aliases has this key."""
    statement = select(Researcher).where(_named(key)).order_by(col(Researcher.id)).limit(1)
    return (await session.exec(statement)).first()


async def researchers_with_name_key(
    connection: AsyncConnection, key: str, *, limit: int
) -> list[AnyRow]:
    """Up to `limit` researchers (id, slug, name) with this name or alias key, oldest first."""
    statement = (
        sa_select(researcher.c.id, researcher.c.slug, researcher.c.name)
        .where(_named(key))
        .order_by(researcher.c.id)
        .limit(limit)
    )
    return list((await connection.execute(statement)).all())


def _named(key: str) -> ColumnElement[bool]:
    aliased_ids = sa_select(researcher_alias.c.researcher_id).where(
        researcher_alias.c.alias_key == key
    )
    return or_(researcher.c.name_key == key, researcher.c.id.in_(aliased_ids))


async def taken_slugs(connection: AsyncConnection, base: str) -> set[str]:
    """Slugs already used that a new slug made from `base` could collide with."""
    statement = sa_select(researcher.c.slug).where(
        or_(researcher.c.slug == base, researcher.c.slug.startswith(f"{base}-", autoescape=True))
    )
    return set((await connection.execute(statement)).scalars())
