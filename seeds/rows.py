"""Finding or making the rows every source writes: researchers, institutions, authorships.

The profile loader and the bibliographic importer share these, so that a
name is matched the same way whichever source brings it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import Authorship, Institution, Researcher
from db.names import make_slug, name_key
from db.queries.matching import find_researcher_by_name_key, taken_slugs


@dataclass(slots=True)
class Lookups:
    """What one load has already found or made, so each name is looked up once."""

    researchers: dict[str, Researcher] = field(default_factory=dict)
    institutions: dict[str, Institution] = field(default_factory=dict)
    categories: set[str] = field(default_factory=set)
    # Name keys known to match no stored researcher (looked up in bulk beforehand).
    absent: set[str] = field(default_factory=set)


def assign(row: object, **values: object) -> bool:
    """Set the attributes that differ; True when any did."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


async def researcher_named(session: AsyncSession, name: str, lookups: Lookups) -> Researcher:
    key = name_key(name)
    if key in lookups.researchers:
        return lookups.researchers[key]
    researcher = None if key in lookups.absent else await find_researcher_by_name_key(session, key)
    if researcher is None:
        slug = make_slug(name, taken=await taken_slugs(session, make_slug(name)))
        researcher = Researcher(slug=slug, name=name, name_key=key)
        session.add(researcher)
        await session.flush()
    lookups.researchers[key] = researcher
    return researcher


async def institution_with_slug(
    session: AsyncSession, slug: str, lookups: Lookups, names: Mapping[str, str]
) -> Institution:
    if slug in lookups.institutions:
        return lookups.institutions[slug]
    statement = select(Institution).where(Institution.slug == slug)
    institution = (await session.exec(statement)).first()
    if institution is None:
        fallback = slug.replace("-", " ").title()
        institution = Institution(slug=slug, name=names.get(slug, fallback))
        session.add(institution)
        await session.flush()
    lookups.institutions[slug] = institution
    return institution


def place_author(
    session: AsyncSession,
    stored: dict[int, Authorship],
    paper_id: int,
    researcher: Researcher,
    position: int | None,
    printed: str,
) -> bool:
    assert researcher.id is not None
    existing = stored.get(researcher.id)
    if existing is None:
        authorship = Authorship(
            paper_id=paper_id, researcher_id=researcher.id, position=position, display_name=printed
        )
        session.add(authorship)
        stored[researcher.id] = authorship
        return True
    if position is None:
        return False  # a known place is never forgotten because another source lacks it
    return assign(existing, position=position, display_name=printed)
