"""When the shared Redis fails: each use of it goes on without it, says so once, and counts.

A use (persisted queries, rate limits) asks `usable()` before each call to
Redis, then reports `failed(error)` or `succeeded()`. The first failure of an
outage is logged as a warning and counted; later calls skip Redis for
`retry_after_s`, so that a Redis that is down or slow costs one request its
short timeout (api.redis_state) a second, not every request. The first call
that succeeds again is logged too. Every request served without Redis meanwhile
is counted, in scholargraph_redis_fallbacks_total.
"""

from __future__ import annotations

import asyncio
import logging
import time

from limits.errors import StorageError
from redis.exceptions import RedisError

from api.observability import Metrics

logger = logging.getLogger("scholargraph.redis")

# What a Redis call raises when the server is down, slow or unreachable; limits wraps them.
REDIS_ERRORS = (RedisError, StorageError, OSError, asyncio.TimeoutError)


class RedisOutage:
    """The state of Redis as one use of it sees it: up, or down until `retry_at`."""

    def __init__(self, use: str, metrics: Metrics | None, *, retry_after_s: float = 1.0) -> None:
        self.use = use
        self.metrics = metrics
        self.retry_after_s = retry_after_s
        self.is_down = False
        self.retry_at = 0.0  # time.monotonic()

    def usable(self) -> bool:
        """Whether to call Redis now; False counts this request as served without it."""
        if self.is_down and time.monotonic() < self.retry_at:
            self._count_fallback()
            return False
        return True

    def failed(self, error: BaseException) -> None:
        """A call to Redis failed: this request goes on without it."""
        self.retry_at = time.monotonic() + self.retry_after_s
        self._count_fallback()
        if self.is_down:
            return
        self.is_down = True
        logger.warning(
            "Redis unavailable for %s, going on without it: %s",
            self.use,
            f"{type(error).__name__}: {error}",
            extra={"use": self.use},
        )
        if self.metrics is not None:
            self.metrics.redis_outages.labels(self.use).inc()

    def succeeded(self) -> None:
        if self.is_down:
            self.is_down = False
            logger.info("Redis available again for %s", self.use, extra={"use": self.use})

    def _count_fallback(self) -> None:
        if self.metrics is not None:
            self.metrics.redis_fallbacks.labels(self.use).inc()
