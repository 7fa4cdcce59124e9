"""Stored works and authors whose OpenAlex ids were merged away, folded into their targets.

For each (old id, id it ends at):
- neither stored, or only the target: nothing to do;
- only the old one stored: it takes the new id (it is the same record);
- both stored: the old one's authorships and the ids the target lacks move
  to the target, and the old row is deleted. A researcher's aliases,
  reported figures and affiliations move as mergeResearchers moves them;
  a paper's printed names, institutions, categories and links move where
  the target has none at that place. The target's own figures (citations,
  counts by year) stand: OpenAlex has already counted the merge into them.
The old OpenAlex id itself is dropped: it names nothing any more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Integer, Table, and_, delete, exists, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import utc_now
from db.tables import (
    authorship,
    paper,
    paper_category,
    paper_institution,
    paper_link,
    researcher,
    unlinked_author,
)
from db.writes import merge
from db.writes.indicators import refresh_indicators
from db.writes.locks import hold_keys
from db.writes.researchers import alias_keys_of, insert_aliases, lock_researchers
from seeds.bulk import LOCK_NAMESPACES

PAPER_IDS = ("doi", "arxiv_id", "semantic_scholar_id")
PERSON_IDS = ("orcid", "semantic_scholar_id", "homepage")
# A paper's rows other than its authorships, by the columns that place them on it.
PAPER_ROWS: tuple[tuple[Table, tuple[str, ...]], ...] = (
    (unlinked_author, ("position", "display_name")),
    (paper_institution, ("institution_id",)),
    (paper_category, ("category_code",)),
    (paper_link, ("position", "url")),
)


@dataclass(slots=True)
class Folded:
    folded: int = 0
    renamed: int = 0
    touched: set[int] = field(default_factory=set)


async def fold_merged(
    connection: AsyncConnection, entity: str, pairs: list[tuple[str, str]]
) -> Folded:
    """Apply these (old id, current id) merges to the stored rows of `entity`."""
    table, kind = (paper, "paper") if entity == "works" else (researcher, "person")
    namespace = LOCK_NAMESPACES[kind]["openalex_id"]
    await hold_keys(connection, namespace, {key for pair in pairs for key in pair})
    wanted = {key for pair in pairs for key in pair}
    found = await connection.execute(
        select(table.c.openalex_id, table.c.id).where(table.c.openalex_id.in_(wanted))
    )
    stored: dict[str, int] = {str(oid): int(row_id) for oid, row_id in found.all()}
    result = Folded()
    for old, new in pairs:
        source = stored.pop(old, None)
        if source is None:
            continue
        target = stored.get(new)
        if target is None or target == source:
            await connection.execute(
                update(table).where(table.c.id == source).values(openalex_id=new)
            )
            stored[new] = source
            result.renamed += 1
        elif entity == "works":
            result.touched |= await fold_paper(connection, source=source, target=target)
            result.folded += 1
        else:
            await fold_researcher(connection, source=source, target=target)
            result.touched.add(target)
            result.folded += 1
    if result.touched:
        await refresh_indicators(connection, result.touched)
    return result


async def fold_paper(connection: AsyncConnection, *, source: int, target: int) -> set[int]:
    """Move the source's byline and ids onto the target and delete it; who was touched."""
    locked = select(paper).where(paper.c.id.in_(sorted({source, target}))).order_by(paper.c.id)
    rows = {row.id: row for row in (await connection.execute(locked.with_for_update())).all()}
    people = select(authorship.c.researcher_id).where(authorship.c.paper_id == source)
    touched = set((await connection.execute(people)).scalars())
    on_target = select(authorship.c.researcher_id).where(authorship.c.paper_id == target)
    await connection.execute(
        delete(authorship).where(
            authorship.c.paper_id == source, authorship.c.researcher_id.in_(on_target)
        )
    )
    await connection.execute(
        update(authorship).where(authorship.c.paper_id == source).values(paper_id=target)
    )
    for table, columns in PAPER_ROWS:
        await _move_missing(connection, table, columns, source=source, target=target)
    await connection.execute(delete(paper).where(paper.c.id == source))
    # Only after the delete: the ids are unique, and the source held them until now.
    moved = {
        column: rows[source]._mapping[column]
        for column in PAPER_IDS
        if rows[target]._mapping[column] is None and rows[source]._mapping[column] is not None
    }
    if moved:
        await connection.execute(
            update(paper).where(paper.c.id == target).values(**moved, updated_at=utc_now())
        )
    return touched


async def _move_missing(
    connection: AsyncConnection,
    table: Table,
    columns: tuple[str, ...],
    *,
    source: int,
    target: int,
) -> None:
    """Copy the source's rows to the target where the target has none at that key (the first
    column); the source's own rows go with it when it is deleted."""
    key = columns[0]
    held = table.alias("held")
    copied = select(literal(target, Integer), *(table.c[c] for c in columns)).where(
        table.c.paper_id == source,
        ~exists().where(and_(held.c.paper_id == target, held.c[key] == table.c[key])),
    )
    await connection.execute(insert(table).from_select(["paper_id", *columns], copied))


async def fold_researcher(connection: AsyncConnection, *, source: int, target: int) -> None:
    """mergeResearchers' moves, for a researcher OpenAlex merged into another."""
    found = await lock_researchers(connection, [source, target], for_change=True)
    ids = {"source": source, "target": target}
    await merge.take_shared_positions(connection, **ids)
    await merge.take_shared_affiliations(connection, **ids)
    await merge.drop_shared_authorships(connection, **ids)
    await merge.move_authorships(connection, **ids)
    await _move_aliases(connection, found[source], found[target])
    await merge.move_reported_metrics(connection, **ids)
    await merge.move_affiliations(connection, **ids)
    await merge.delete_researcher(connection, source)
    moved: dict[str, Any] = {
        column: found[source]._mapping[column]
        for column in PERSON_IDS
        if found[target]._mapping[column] is None and found[source]._mapping[column] is not None
    }
    await connection.execute(
        update(researcher).where(researcher.c.id == target).values(**moved, updated_at=utc_now())
    )


async def _move_aliases(connection: AsyncConnection, source: Any, target: Any) -> None:
    known = await alias_keys_of(connection, target.id) | {target.name_key}
    await merge.move_aliases(connection, source=source.id, target=target.id, except_keys=known)
    known = await alias_keys_of(connection, target.id) | {target.name_key}
    if source.name_key not in known:
        await insert_aliases(connection, target.id, [(source.name, source.name_key)])
