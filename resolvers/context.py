"""What every resolver gets: the engine, this request's loaders, and the clock."""

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

    @classmethod
    def for_request(cls, engine: AsyncEngine) -> Context:
        return cls(engine=engine, loaders=Loaders(engine))
