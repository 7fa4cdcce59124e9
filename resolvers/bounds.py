"""How long each list of the data can be: the figures a query's cost is counted with.

They are read from the database when the server starts and again every few
minutes (`BoundsWatch`), so the cost of `authors` is the length of the longest
byline stored, not a guess. A write that makes a list longer is counted from
the next refresh on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, fields

from sqlalchemy.ext.asyncio import AsyncEngine

from db.queries.bounds import list_sizes

log = logging.getLogger("scholargraph.bounds")


@dataclass(frozen=True, slots=True)
class ListBounds:
    """The most items each list field may return for one parent; at least 1 each."""

    authors_per_paper: int = 1
    institutions_per_paper: int = 1
    categories_per_paper: int = 1
    institutions_per_researcher: int = 1
    h_index: int = 1
    categories: int = 1
    years: int = 1

    @classmethod
    def fallback(cls) -> ListBounds:
        """Generous figures for when the data cannot be read: over-counting is the safe side."""
        return cls(
            authors_per_paper=1000,
            institutions_per_paper=100,
            categories_per_paper=50,
            institutions_per_researcher=100,
            h_index=300,
            categories=300,
            years=200,
        )

    @classmethod
    def from_sizes(cls, sizes: dict[str, int]) -> ListBounds:
        return cls(**{f.name: max(1, sizes.get(f.name, 1)) for f in fields(cls)})


async def read_list_bounds(engine: AsyncEngine) -> ListBounds:
    async with engine.connect() as connection:
        return ListBounds.from_sizes(await list_sizes(connection))


class BoundsWatch:
    """The current bounds, refreshed in the background while the server runs."""

    def __init__(self, *, every_s: float) -> None:
        self.every_s = every_s
        self.current = ListBounds.fallback()

    @contextlib.asynccontextmanager
    async def running(self, engine: AsyncEngine) -> AsyncIterator[BoundsWatch]:
        await self.refresh(engine)
        task = asyncio.create_task(self._refresh_forever(engine))
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def refresh(self, engine: AsyncEngine) -> None:
        try:
            self.current = await read_list_bounds(engine)
        except Exception:  # the last figures stay; a cost is never counted with none
            log.exception("could not read list bounds; keeping %s", self.current)

    async def _refresh_forever(self, engine: AsyncEngine) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            await self.refresh(engine)
