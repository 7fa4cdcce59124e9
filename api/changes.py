"""The change stream: every write's changes (types, ids, lists), published after its commit.

A write announces its ChangeSet (db.reads.announce) after it commits. The
hub first drops the cached responses the change touches (api.cache; before
the write's response is sent), then publishes one event:

    {"id": "<uuid>", "origin": "<worker>", "everything": false,
     "nodes": {"Paper": ["12"]}, "lists": ["researcher-papers:4", "papers"]}

Subscribers (`subscribe()`, an async iterator; GraphQL subscriptions can be
built on it) receive every event of every worker. In one process the stream
is in memory. With SCHOLARGRAPH_REDIS_URL it goes through Redis pub/sub on
`<prefix>changes`: Redis is already what workers and hosts share, it works
whatever the database (SQLite has no LISTEN/NOTIFY), and its messages have
no 8 kB cap (PostgreSQL's NOTIFY has, and an import's change set is larger).
Pub/sub delivers at most once: the cache never depends on it (invalidation
is synchronous, in Redis), and after a lost connection subscribers get a
`{"everything": true, "reset": true}` event, to start over. The listener's
connection also tells the cache when Redis drops, so that a worker with no
traffic during an outage still flushes before using the cache again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any, Protocol

import orjson

from api.cache import REDIS_ERRORS, CacheMetrics, RedisCache, invalidate_persistently
from api.redis_state import SharedState, shared_state
from db.reads import ChangeSet, announcing, stop_announcing

logger = logging.getLogger("scholargraph.changes")
QUEUE_MAX = 1000  # events a slow subscriber may fall behind by before it is reset


class Invalidating(Protocol):
    """What the hub needs of a cache (api.cache.ResponseCache is one)."""

    async def invalidate(self, changes: ChangeSet) -> None: ...
    def lost_redis(self, error: BaseException) -> None: ...
    async def regained_redis(self) -> None: ...


class ChangeHub:
    """Announcements in, invalidation and the stream out; lives on the server's loop."""

    def __init__(self, cache: Invalidating | None, shared: SharedState | None) -> None:
        self.cache = cache
        self.shared = shared
        self.channel = shared.key("changes") if shared is not None else ""
        self.loop: asyncio.AbstractEventLoop | None = None
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self.published = 0
        self.origin = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"  # this worker, in its events

    async def announce(self, changes: ChangeSet) -> None:
        """A write committed: drop what it changed from the cache, then tell every worker."""
        if self.loop is not None and asyncio.get_running_loop() is not self.loop:
            # From the GraphQL thread's loop: the Redis client belongs to the server's.
            future = asyncio.run_coroutine_threadsafe(self.announce(changes), self.loop)
            await asyncio.wrap_future(future)
            return
        if self.cache is not None:
            await self.cache.invalidate(changes)
        event = {"id": uuid.uuid4().hex, "origin": self.origin, **changes.as_event()}
        self.published += 1
        if self.shared is None:
            self._deliver(event)
            return
        try:
            await self.shared.client.publish(self.channel, orjson.dumps(event))
        except REDIS_ERRORS as error:
            if self.cache is not None:
                self.cache.lost_redis(error)
            self._deliver(event)  # this worker's subscribers at least

    async def subscribe(self) -> AsyncIterator[dict[str, Any]]:
        """Every change event from now on, from every worker."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_MAX)
        self._subscribers.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers.discard(queue)

    def _deliver(self, event: dict[str, Any]) -> None:
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                queue.get_nowait()
                queue.put_nowait({"everything": True, "reset": True, "nodes": {}, "lists": []})

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ChangeHub]:
        self.loop = asyncio.get_running_loop()
        listener = None
        if self.shared is not None:
            listener = asyncio.create_task(self._listen(), name="change-stream")
        try:
            yield self
        finally:
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener
            self.loop = None

    async def _listen(self) -> None:
        """Redis pub/sub to local subscribers; a dropped connection is an outage for the cache."""
        assert self.shared is not None
        lost = False
        while True:
            pubsub = self.shared.client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                if lost:
                    lost = False
                    if self.cache is not None:
                        await self.cache.regained_redis()
                    self._deliver({"everything": True, "reset": True, "nodes": {}, "lists": []})
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None:
                        await pubsub.ping()  # a connection that died quietly fails here
                        continue
                    if message.get("type") == "message":
                        self._deliver(orjson.loads(message["data"]))
            except REDIS_ERRORS as error:
                lost = True
                if self.cache is not None:
                    self.cache.lost_redis(error)
                await asyncio.sleep(0.5)
            finally:
                with contextlib.suppress(*REDIS_ERRORS):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]


def announcement_sink(hub: ChangeHub) -> Any:
    """What db.reads.announce calls in a request: the hub, on the server's loop."""
    return hub.announce


@contextlib.asynccontextmanager
async def command_announcements(settings: Any) -> AsyncIterator[None]:
    """Around a command that writes (seed, imports, generate, refresh-indicators).

    What it announces meanwhile (an import, after each batch it commits) drops
    cached answers in the shared Redis at once; at its end, whatever happened,
    everything is dropped once more. Without Redis there is nothing to reach: a
    server's in-process cache (opt-in) cannot see writes from other processes.
    """
    shared = shared_state(settings)
    if shared is None:
        yield
        return
    cache = _CommandCache(shared)
    hub = ChangeHub(cache, shared)
    token = announcing(hub.announce)
    try:
        yield
    finally:
        stop_announcing(token)
        await hub.announce(ChangeSet.all())
        if cache.failed is not None:
            logger.warning(
                "Could not reach Redis to drop cached responses (%s): servers may answer "
                "from entries older than this command's writes until a write or a flush "
                "reaches Redis",
                cache.failed,
            )
        await shared.aclose()


class _CommandCache:
    """Invalidation only, for a command: no reads, no metrics of its own."""

    def __init__(self, shared: SharedState) -> None:
        self.inner = RedisCache(shared, 1, CacheMetrics(None))
        self.failed: BaseException | None = None

    async def invalidate(self, changes: ChangeSet) -> None:
        try:
            if self.failed is None:
                await invalidate_persistently(self.inner._run_invalidate, changes)
            else:  # one try a batch once Redis failed: an import must not wait 2 s a batch
                await self.inner._run_invalidate(changes)
        except REDIS_ERRORS as error:
            self.failed = error

    def lost_redis(self, error: BaseException) -> None:
        self.failed = error

    async def regained_redis(self) -> None:
        pass
