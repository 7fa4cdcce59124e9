"""What every resolver gets: the engines, this request's reads and loaders, the caller's token."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from strawberry.dataloader import DataLoader, DefaultCache
from strawberry.extensions import SchemaExtension

from db.engine import ReadSnapshot
from resolvers.loaders import Loaders

T = TypeVar("T")


def today() -> date:
    return datetime.now(UTC).date()


@dataclass(slots=True)
class Context:
    engine: AsyncEngine
    snapshot: ReadSnapshot
    loaders: Loaders
    today: date = field(default_factory=today)
    # Mutations write through this engine (on SQLite its transactions begin IMMEDIATE);
    # None means the read engine serves writes too, as in tests that build a bare context.
    write_engine: AsyncEngine | None = None
    # The Authorization header as sent; only a mutation looks at it (reads are public).
    authorization: str | None = None
    # Set once a mutation of this request has checked the token, so the next one need not.
    may_write: bool = False
    # Names this request in the response's x-request-id and in the server's log.
    request_id: str | None = None
    # Snapshots a write made stale (forget_reads); closed with the request's own.
    retired: list[ReadSnapshot] = field(default_factory=list)

    @classmethod
    def for_request(
        cls,
        engine: AsyncEngine,
        *,
        write_engine: AsyncEngine | None = None,
        authorization: str | None = None,
        request_id: str | None = None,
    ) -> Context:
        snapshot = ReadSnapshot(engine)
        return cls(
            engine=engine,
            snapshot=snapshot,
            loaders=Loaders(snapshot),
            write_engine=write_engine,
            authorization=authorization,
            request_id=request_id,
        )

    @property
    def writer(self) -> AsyncEngine:
        return self.write_engine or self.engine

    async def read(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run `work` on the request's read connection: every read of a request goes here.

        One connection, one read transaction (one snapshot) for the whole request,
        opened at the first read; `work` has the connection to itself while it runs.
        """
        return await self.snapshot.run(work)

    async def start_reads_again(self) -> None:
        """A fresh snapshot and fresh loaders: what was read so far is forgotten."""
        await self.snapshot.close()
        self.snapshot = ReadSnapshot(self.engine)
        self.loaders = Loaders(self.snapshot)

    async def close(self) -> None:
        """End the request's reads: its transaction ends and its connection goes back.

        What the loaders hold is let go too (see drop_loaded).
        """
        retired, self.retired = self.retired, []
        for snapshot in [*retired, self.snapshot]:
            await snapshot.close()
        drop_loaded(self.loaders)

    def forget_reads(self) -> None:
        """After a write: the payload must show the new rows, so drop the cache and the snapshot."""
        drop_loaded(self.loaders)
        self.retired.append(self.snapshot)
        self.snapshot = ReadSnapshot(self.engine)
        self.loaders = Loaders(self.snapshot)


def drop_loaded(loaders: Loaders) -> None:
    """Empty every loader's cache and batch, so that the rows loaded are freed at once.

    Each loader's load function is a bound method of the Loaders holding it: a
    reference cycle, which reference counting never frees. Left as it is, every
    row a request loaded (300,000 tuples for a page of prolific researchers'
    metrics) would wait for the garbage collector, whose collections stop every
    thread for as long as they walk them.
    """
    for value in vars(loaders).values():
        if isinstance(value, DataLoader):
            value.batch = None
            cached = value.cache_map.cache_map if isinstance(value.cache_map, DefaultCache) else {}
            # One entry at a time: freeing an entry (one parent's rows) is one stretch of C
            # that holds the interpreter; freeing them all at once would be one long stretch.
            while cached:
                cached.popitem()
            value.clear_all()


class EndReads(SchemaExtension):
    """Closes the request's reads when its operation ends: answered, failed or cancelled."""

    async def on_operation(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            context = self.execution_context.context
            if isinstance(context, Context):
                await context.close()
