"""What every resolver gets: the engines, this request's loaders, the caller's token, the clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from resolvers.loaders import Loaders


def today() -> date:
    return datetime.now(UTC).date()


@dataclass(slots=True)
class Context:
    engine: AsyncEngine
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

    @classmethod
    def for_request(
        cls,
        engine: AsyncEngine,
        *,
        write_engine: AsyncEngine | None = None,
        authorization: str | None = None,
        request_id: str | None = None,
    ) -> Context:
        return cls(
            engine=engine,
            loaders=Loaders(engine),
            write_engine=write_engine,
            authorization=authorization,
            request_id=request_id,
        )

    @property
    def writer(self) -> AsyncEngine:
        return self.write_engine or self.engine

    def forget_reads(self) -> None:
        """Drop what the loaders cached: after a write, the payload must show the new rows."""
        self.loaders = Loaders(self.engine)
