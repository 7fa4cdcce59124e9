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

Threads do not help against the garbage collector: a collection holds the
interpreter, every thread waits. A full collection walks every object alive,
and while heavy queries run that is their result graphs too: millions of
objects, 100-300 ms. The served app (api.app.create_served_app) therefore
collects young objects only while requests run (YOUNG_ONLY_THRESHOLDS: each
young collection walks at most ~60,000 objects, a few ms), and
`full_collections_when_idle` makes the full collections happen here, once
no GraphQL work is in flight, when the heap is small again.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

# gc thresholds for a served process: a young collection every 20,000 allocations, the
# middle generation every third (it holds at most ~60,000 objects), and a full collection
# only after 1,000 middle ones (~60 million allocations) if the process is never idle;
# otherwise full collections come from ExecutionThread when no GraphQL work runs.
YOUNG_ONLY_THRESHOLDS = (20_000, 2, 1_000)
# Middle-generation collections since the last full one that make an idle moment collect.
FULL_AFTER_MIDDLE_COLLECTIONS = 20
IDLE_SETTLE_S = 0.05  # after the last work ends, so that its response goes out first


class ExecutionThread:
    """A thread running an event loop that coroutines can be handed to."""

    def __init__(self, name: str, *, full_collections_when_idle: bool = False) -> None:
        self.name = name
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self.full_collections_when_idle = full_collections_when_idle
        self.in_flight = 0
        self.idle_collections = 0

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
        self.in_flight += 1
        try:
            future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
            return await asyncio.wrap_future(future)
        finally:
            self.in_flight -= 1
            if self.in_flight == 0 and self.full_collections_when_idle:
                asyncio.get_running_loop().call_later(IDLE_SETTLE_S, self._collect_if_idle)

    def _collect_if_idle(self) -> None:
        """A full collection, if nothing runs and enough has been allocated since the last."""
        if self.in_flight == 0 and gc.get_count()[2] >= FULL_AFTER_MIDDLE_COLLECTIONS:
            gc.collect()
            self.idle_collections += 1


async def _cancel_others() -> None:
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)
