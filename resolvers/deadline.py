"""When the request being answered must stop: one deadline that every layer can read.

The HTTP layer sets it as a request starts (api.protection.TimeLimit); the
GraphQL executor (schema.execution) checks it before every field, so work that
never waits on anything, and so never lets an asyncio timeout fire, still stops.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar

from graphql import GraphQLError

_deadline: ContextVar[float | None] = ContextVar("request_deadline", default=None)


class DeadlineExceededError(GraphQLError):
    """The request ran out of time; what it was doing was stopped."""

    def __init__(self) -> None:
        super().__init__("The request ran out of time.", extensions={"code": "TIMEOUT"})


@contextlib.contextmanager
def deadline_in(seconds: float) -> Iterator[float]:
    """Within the block, the request must be answered `seconds` from now; yields the time."""
    at = time.monotonic() + seconds
    token = _deadline.set(at)
    try:
        yield at
    finally:
        _deadline.reset(token)


def current_deadline() -> float | None:
    """The monotonic time the current request must stop at; None outside a request."""
    return _deadline.get()
