"""mergeResearchers: one person recorded twice becomes one record."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import utc_now
from db.reads import RESEARCHER_KEYS, changing_keys, changing_researchers
from db.tables import AnyRow
from db.writes import merge
from db.writes.indicators import refresh_indicators
from db.writes.researchers import alias_keys_of, insert_aliases, lock_researchers, update_researcher
from resolvers.context import Context
from resolvers.mutations.researchers import EXTERNAL_IDS, fresh_researcher
from resolvers.mutations.transactions import Written, write
from resolvers.mutations.validation import Problems, checked_id


async def merge_researchers(context: Context, source_id: str, target_id: str) -> Written[AnyRow]:
    """Move the source's papers, aliases, ids and figures onto the target; delete the source.

    Both rows are locked (in id order) before anything moves, so a second merge
    of the same pair waits for the first and then finds the source gone.
    """
    problems = Problems()
    source = checked_id(source_id, "Researcher", ("sourceId",), problems)
    target = checked_id(target_id, "Researcher", ("targetId",), problems)
    if source is not None and source == target:
        problems.invalid(("targetId",), "A researcher cannot be merged into itself.")

    async def work(session: AsyncSession) -> int:
        connection = await session.connection()
        wanted = [i for i in (source, target) if i is not None]
        found = await lock_researchers(connection, wanted, for_change=True)
        for path, db_id in ((("sourceId",), source), (("targetId",), target)):
            if db_id is not None and db_id not in found:
                problems.not_found(path, "No researcher has this ID.")
        problems.reject_if_any()
        assert source is not None
        assert target is not None
        await changing_researchers(connection, [source, target], with_papers=True)
        changing_keys(RESEARCHER_KEYS)  # the source's slug and ids go
        await _merge(connection, found[source], found[target])
        return target

    return await fresh_researcher(context, await write(context, work))


async def _merge(connection: AsyncConnection, source: AnyRow, target: AnyRow) -> None:
    ids = {"source": int(source.id), "target": int(target.id)}
    await merge.take_shared_positions(connection, **ids)
    await merge.take_shared_affiliations(connection, **ids)
    await merge.drop_shared_authorships(connection, **ids)
    await merge.move_authorships(connection, **ids)
    await _merge_aliases(connection, source, target)
    await merge.move_reported_metrics(connection, **ids)
    await merge.move_affiliations(connection, **ids)
    await merge.delete_researcher(connection, source.id)
    # Only after the delete: the ids are unique, and the source held them until now.
    moved_ids = {
        column: source._mapping[column]
        for column, *_ in EXTERNAL_IDS
        if target._mapping[column] is None and source._mapping[column] is not None
    }
    await update_researcher(connection, target.id, {**moved_ids, "updated_at": utc_now()})
    await refresh_indicators(connection, [target.id])


async def _merge_aliases(connection: AsyncConnection, source: AnyRow, target: AnyRow) -> None:
    """The source's aliases, and its name as one more, unless the target already matches them."""
    known = await alias_keys_of(connection, target.id) | {target.name_key}
    await merge.move_aliases(connection, source=source.id, target=target.id, except_keys=known)
    known = await alias_keys_of(connection, target.id) | {target.name_key}
    if source.name_key not in known:
        await insert_aliases(connection, target.id, [(source.name, source.name_key)])
