"""How records from outside find the rows they describe.

Papers match on arXiv id, then DOI, then normalised title and year;
researchers on an external id, then their name key (names and aliases).
"""

from __future__ import annotations

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import Paper, Researcher, ResearcherAlias


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
    aliased_ids = select(ResearcherAlias.researcher_id).where(ResearcherAlias.alias_key == key)
    statement = (
        select(Researcher)
        .where(or_(col(Researcher.name_key) == key, col(Researcher.id).in_(aliased_ids)))
        .order_by(col(Researcher.id))
        .limit(1)
    )
    return (await session.exec(statement)).first()


async def taken_slugs(session: AsyncSession, base: str) -> set[str]:
    """Slugs already used that a new slug made from `base` could collide with."""
    statement = select(Researcher.slug).where(
        or_(col(Researcher.slug) == base, col(Researcher.slug).startswith(f"{base}-"))
    )
    return set((await session.exec(statement)).all())
