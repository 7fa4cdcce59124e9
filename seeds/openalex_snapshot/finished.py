"""The snapshot files already imported (table snapshot_part), read and recorded."""

from __future__ import annotations

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.tables import snapshot_part
from seeds.openalex_snapshot.layout import Part

SOURCE = "openalex"


async def finished_parts(connection: AsyncConnection) -> dict[str, int]:
    """The size of each file imported to its end, by its name under the data folder."""
    statement = select(snapshot_part.c.path, snapshot_part.c.content_length).where(
        snapshot_part.c.source == SOURCE
    )
    return {path: int(length) for path, length in (await connection.execute(statement)).all()}


async def record_finished(connection: AsyncConnection, part: Part, record_count: int) -> None:
    """Record the part as imported; a part of the same name recorded before is replaced."""
    mine = (snapshot_part.c.source == SOURCE) & (snapshot_part.c.path == part.name)
    await connection.execute(delete(snapshot_part).where(mine))
    await connection.execute(
        insert(snapshot_part).values(
            source=SOURCE,
            path=part.name,
            content_length=part.content_length,
            record_count=record_count,
        )
    )


def is_finished(part: Part, finished: dict[str, int]) -> bool:
    return finished.get(part.name) == part.content_length
