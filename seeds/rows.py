"""Finding or making the rows every source writes: researchers, institutions, authorships.

The profile loader and the bibliographic importer share these, so that a
name is matched the same way whichever source brings it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import Authorship, Institution, Researcher
from db.names import name_key
from db.queries.matching import find_researcher_by_name_key
from db.writes.keys import INSTITUTION_SLUG, RESEARCHER_NAME, hold_natural_keys
from db.writes.researchers import claim_slug


@dataclass(slots=True)
class Lookups:
    """What one load has already found or made, so each name is looked up once."""

    researchers: dict[str, Researcher] = field(default_factory=dict)
    institutions: dict[str, Institution] = field(default_factory=dict)
    categories: set[str] = field(default_factory=set)
    # Name keys known to match no stored researcher (looked up in bulk beforehand, with
    # their locks held).
    absent: set[str] = field(default_factory=set)
    # The natural keys whose locks this load holds, as "namespace:key" (db.writes.keys).
    held: set[str] = field(default_factory=set)


async def hold_once(
    session: AsyncSession, lookups: Lookups, keys: Mapping[str, Iterable[str]]
) -> None:
    """Hold the locks of these keys, those not held yet (a load that knows its keys up front
    holds them all at once: taken one by one, two loads could each wait for the other)."""
    wanted = {
        namespace: {key for key in given if f"{namespace}:{key}" not in lookups.held}
        for namespace, given in keys.items()
    }
    await hold_natural_keys(await session.connection(), wanted)
    lookups.held.update(f"{ns}:{key}" for ns, given in wanted.items() for key in given)


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
    await hold_once(session, lookups, {RESEARCHER_NAME: [key]})
    researcher = None if key in lookups.absent else await find_researcher_by_name_key(session, key)
    if researcher is None:
        slug = await claim_slug(await session.connection(), name)
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
    await hold_once(session, lookups, {INSTITUTION_SLUG: [slug]})
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
