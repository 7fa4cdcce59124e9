"""GraphQL runs on an event loop of its own, in a thread, so the server's loop stays free.

The server's event loop accepts connections, answers /health and /ready,
counts rate limits and writes responses. Executing a query can hold the CPU
for a long stretch without awaiting anything (completing thousands of
objects, computing indicators over a large batch), and an event loop that
runs such a stretch answers nothing else meanwhile: /health waited seconds
behind the heaviest accepted queries. Here execution runs on a second event
loop in a thread; Python hands the interpreter between threads every few
milliseconds, so the server's loop keeps answering while a query computes.

Each loop has its own database engines: a connection belongs to the loop that
opened it. Context variables (the request's record and deadline) go along
with each coroutine, and cancelling the caller (the time limit) cancels it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class ExecutionThread:
    """A thread running an event loop that coroutines can be handed to."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()
        self.loop.run_until_complete(_cancel_others())
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ExecutionThread]:
        self._thread.start()
        try:
            yield self
        finally:
            # Whatever still runs there is ended, its clean-up included, before the loop.
            self.loop.call_soon_threadsafe(self.loop.stop)
            await asyncio.to_thread(self._thread.join)

    async def cancel_running(self) -> None:
        """End what still runs there (the server gave up on it), its clean-up included."""
        await self.run(_cancel_others())

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """The coroutine's result, run to the end on this thread's loop, in the caller's context."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return await asyncio.wrap_future(future)


async def _cancel_others() -> None:
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)
