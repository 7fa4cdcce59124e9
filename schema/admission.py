"""How much query cost may execute at once in one process; the rest waits its turn.

Each accepted request spends its cost (schema.analysis) from a budget of the
cost limit's size while it executes, and gives it back when done. Cheap
requests run side by side; two requests near the limit run one after the
other instead of together. On a small machine that keeps the database from
taking every core for several heavy queries at once, which would leave the
server's own loop (and /health) waiting for a processor.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class CostBudget:
    """A weighted semaphore: `capacity` units, each request holding its cost in them."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.in_use = 0
        self._waiting: list[tuple[int, asyncio.Future[None]]] = []

    @contextlib.asynccontextmanager
    async def spending(self, cost: int) -> AsyncIterator[None]:
        units = max(0, min(cost, self.capacity))
        await self._take(units)
        try:
            yield
        finally:
            self._give_back(units)

    async def _take(self, units: int) -> None:
        if self.in_use + units <= self.capacity:
            self.in_use += units
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((units, granted))
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self._give_back(units)  # granted just as it was given up
            else:
                self._waiting.remove((units, granted))
            raise

    def _give_back(self, units: int) -> None:
        self.in_use -= units
        # The first waiters that fit go on; a large one waits for room without blocking smaller.
        for entry in list(self._waiting):
            waiting_units, granted = entry
            if self.in_use + waiting_units <= self.capacity:
                self._waiting.remove(entry)
                self.in_use += waiting_units
                granted.set_result(None)
