"""The statements of a merge: everything of a source researcher moves onto a target.

They run in this order inside one transaction, with both researcher rows
locked: shared papers first (one authorship survives per paper), then the
rest of the byline, aliases, reported figures and affiliations; then the
source is deleted, and whatever did not move goes with it by cascade.
"""

from __future__ import annotations

from sqlalchemy import Integer, and_, delete, exists, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from db.tables import (
    authorship,
    authorship_institution,
    reported_metrics,
    researcher,
    researcher_alias,
    researcher_institution,
)


async def take_shared_positions(connection: AsyncConnection, *, source: int, target: int) -> None:
    """On papers both wrote, the target's unknown position becomes the source's known one."""
    theirs = authorship.alias("theirs")
    same_paper = and_(
        theirs.c.paper_id == authorship.c.paper_id,
        theirs.c.researcher_id == source,
        theirs.c.position.is_not(None),
    )
    statement = (
        update(authorship)
        .where(authorship.c.researcher_id == target, authorship.c.position.is_(None))
        .where(exists().where(same_paper))
        .values(position=select(theirs.c.position).where(same_paper).scalar_subquery())
    )
    await connection.execute(statement)


async def take_shared_affiliations(
    connection: AsyncConnection, *, source: int, target: int
) -> None:
    """Affiliations on the source's authorship of a shared paper join the target's authorship."""
    theirs, ours = authorship.alias("theirs"), authorship.alias("ours")
    held = authorship_institution.alias("held")
    moved = (
        select(ours.c.id, authorship_institution.c.institution_id)
        .join(theirs, theirs.c.id == authorship_institution.c.authorship_id)
        .join(ours, and_(ours.c.paper_id == theirs.c.paper_id, ours.c.researcher_id == target))
        .where(theirs.c.researcher_id == source)
        .where(
            ~exists().where(
                held.c.authorship_id == ours.c.id,
                held.c.institution_id == authorship_institution.c.institution_id,
            )
        )
    )
    await connection.execute(
        insert(authorship_institution).from_select(["authorship_id", "institution_id"], moved)
    )


async def drop_shared_authorships(connection: AsyncConnection, *, source: int, target: int) -> None:
    targets_papers = select(authorship.c.paper_id).where(authorship.c.researcher_id == target)
    await connection.execute(
        delete(authorship).where(
            authorship.c.researcher_id == source, authorship.c.paper_id.in_(targets_papers)
        )
    )


async def move_authorships(connection: AsyncConnection, *, source: int, target: int) -> None:
    await connection.execute(
        update(authorship).where(authorship.c.researcher_id == source).values(researcher_id=target)
    )


async def move_aliases(
    connection: AsyncConnection, *, source: int, target: int, except_keys: set[str]
) -> None:
    """The source's aliases whose keys the target lacks (and that are not `except_keys`)."""
    statement = (
        update(researcher_alias)
        .where(researcher_alias.c.researcher_id == source)
        .where(researcher_alias.c.alias_key.not_in(except_keys))
        .values(researcher_id=target)
    )
    await connection.execute(statement)


async def move_reported_metrics(connection: AsyncConnection, *, source: int, target: int) -> None:
    """Reported figures move unless the target has figures from the same source."""
    targets_sources = select(reported_metrics.c.source).where(
        reported_metrics.c.researcher_id == target
    )
    statement = (
        update(reported_metrics)
        .where(reported_metrics.c.researcher_id == source)
        .where(reported_metrics.c.source.not_in(targets_sources))
        .values(researcher_id=target)
    )
    await connection.execute(statement)


async def move_affiliations(connection: AsyncConnection, *, source: int, target: int) -> None:
    targets = select(researcher_institution.c.institution_id).where(
        researcher_institution.c.researcher_id == target
    )
    moved = select(literal(target, Integer), researcher_institution.c.institution_id).where(
        researcher_institution.c.researcher_id == source,
        researcher_institution.c.institution_id.not_in(targets),
    )
    await connection.execute(
        insert(researcher_institution).from_select(["researcher_id", "institution_id"], moved)
    )


async def delete_researcher(connection: AsyncConnection, researcher_id: int) -> None:
    await connection.execute(delete(researcher).where(researcher.c.id == researcher_id))
