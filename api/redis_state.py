"""The Redis server that workers and hosts share, when SCHOLARGRAPH_REDIS_URL names one.

Every key this server writes starts with `settings.redis_prefix`, so that
several deployments (and the test suite) can share one Redis server; `key()`
builds them. Unset, there is no shared state: each process keeps its own, in
memory, as a single worker needs.
"""

from __future__ import annotations

from redis.asyncio import Redis

from api.settings import Settings


class SharedState:
    """One Redis client and the key prefix; callers own its lifetime (`aclose`)."""

    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = prefix
        # Short timeouts: a Redis that is down or slow must cost a request milliseconds,
        # then the caller goes on without it (served uncached, counted in memory).
        self.client: Redis = Redis.from_url(
            url, socket_timeout=0.25, socket_connect_timeout=0.25, health_check_interval=30
        )

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    async def aclose(self) -> None:
        await self.client.aclose()


def shared_state(settings: Settings) -> SharedState | None:
    """The shared state these settings name, or None when each process keeps its own."""
    if not settings.redis_url:
        return None
    return SharedState(settings.redis_url, settings.redis_prefix)
