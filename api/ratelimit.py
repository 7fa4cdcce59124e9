"""Rate limits on /graphql: per client address, or per token for callers that present a valid one.

Every answer from /graphql carries GitHub's headers for the caller's limit:

    x-ratelimit-limit      requests allowed in the window
    x-ratelimit-remaining  requests left in it
    x-ratelimit-used       requests counted in it
    x-ratelimit-reset      Unix time (s) when the next request will be counted again
    x-ratelimit-resource   "address" or "token": which limit this request counted against

A request over the limit is answered 429 with `retry-after` (seconds) and a
GraphQL-shaped error of code RATE_LIMITED, before anything else runs.

The windows are sliding-window counters of the `limits` library: two
counters a caller, so memory stays flat however many requests it makes.
They are kept in the store that SCHOLARGRAPH_RATE_LIMIT_STORAGE names:
`memory://` (this process) by default, or a store that server processes
share, such as `redis://host:6379` (through redis-py, with api.redis_state's
short timeouts).
Left at memory:// while SCHOLARGRAPH_REDIS_URL is set, the counts go to that
Redis, under its key prefix (`share`): workers and hosts count together.
Anything implementing limits' async `Storage` with sliding-window support
will do. When a shared store fails (down, slow, unreachable), requests are
counted in this process's memory until it answers again (api.redis_outage:
logged once per outage, counted), so a Redis outage never refuses or fails a
request that the limits would let through in one process.

A token counts only once it is known to be valid: otherwise a caller could
escape its address's limit by sending a new made-up token each time. Which
tokens are valid is remembered for a minute, so a busy token costs one
lookup a minute, and a revoked token falls back to its address within that.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.observability import Metrics
from api.protection import send_error
from api.redis_outage import REDIS_ERRORS, RedisOutage
from api.redis_state import SharedState
from api.settings import Settings
from db.queries.tokens import token_by_hash
from resolvers.auth import bearer_secret, hash_secret

PATH = "/graphql"
RATE_LIMIT_HEADERS = [
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-used",
    "x-ratelimit-reset",
    "x-ratelimit-resource",
]
TOKEN_MEMORY_S = 60.0
TOKENS_REMEMBERED = 10_000
MEMORY = "memory://"
REDIS_SCHEMES = ("redis://", "rediss://", "redis+unix://")


def create_storage(uri: str) -> Storage:
    """The limits store that a URI such as memory:// or memcached://host names, async."""
    uri = uri if uri.startswith("async+") else f"async+{uri}"
    storage = storage_from_string(uri, wrap_exceptions=True)
    assert isinstance(storage, Storage)
    return storage


def redis_storage(redis: SharedState, key_prefix: str) -> Storage:
    """Counts in this Redis, through its client's connections (and short timeouts)."""
    return RedisStorage(
        f"async+{redis.url}",
        implementation="redispy",  # redis-py, a dependency already; limits' default is coredis
        key_prefix=key_prefix,
        connection_pool=redis.client.connection_pool,  # type: ignore[arg-type]  # typed as scalars
        wrap_exceptions=True,
    )


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one request counted against, and what is left of it."""

    allowed: bool
    resource: str
    limit: int
    remaining: int
    reset_at: float  # Unix time
    retry_after_s: int  # whole seconds until the next request counts, at least 1

    def headers(self) -> list[tuple[bytes, bytes]]:
        values = {
            "x-ratelimit-limit": self.limit,
            "x-ratelimit-remaining": self.remaining,
            "x-ratelimit-used": self.limit - self.remaining,
            "x-ratelimit-reset": math.ceil(self.reset_at),
            "x-ratelimit-resource": self.resource,
        }
        if not self.allowed:
            values["retry-after"] = self.retry_after_s
        return [(name.encode(), str(value).encode()) for name, value in values.items()]


class RateLimiter:
    """Counts requests per address and per valid token in a limits store.

    A store other than this process's memory may fail: the request is then
    counted in memory (`in_memory`) instead, as if this process were alone.
    """

    def __init__(
        self,
        *,
        per_address: str,
        per_token: str,
        storage: Storage,
        shares_redis: bool = False,
        metrics: Metrics | None = None,
        owned: SharedState | None = None,
    ) -> None:
        self.per_address: RateLimitItem = parse(per_address)
        self.per_token: RateLimitItem = parse(per_token)
        self.in_memory = SlidingWindowCounterRateLimiter(MemoryStorage())
        self.use(storage)
        self.shares_redis = shares_redis
        self.outage = RedisOutage("rate_limit", metrics)
        self.owned = owned  # the Redis client of SCHOLARGRAPH_RATE_LIMIT_STORAGE, to close

    @classmethod
    def from_settings(
        cls, settings: Settings, storage: Storage | None = None, metrics: Metrics | None = None
    ) -> RateLimiter:
        """`shares_redis`: counts move to SCHOLARGRAPH_REDIS_URL's Redis once `share`d."""
        uri = settings.rate_limit_storage.removeprefix("async+")
        owned = None
        if storage is None and uri.startswith(REDIS_SCHEMES):
            owned = SharedState(uri.replace("redis+unix://", "unix://"), prefix="")
            storage = redis_storage(owned, key_prefix=RedisStorage.PREFIX)
        return cls(
            per_address=settings.rate_limit_per_address,
            per_token=settings.rate_limit_per_token,
            storage=storage or create_storage(uri),
            shares_redis=storage is None and uri == MEMORY,
            metrics=metrics,
            owned=owned,
        )

    def use(self, storage: Storage) -> None:
        self.windows = SlidingWindowCounterRateLimiter(storage)
        # A store outside this process may fail; memory then counts in its place.
        self.fails_over = not isinstance(storage, MemoryStorage)

    def share(self, shared: SharedState) -> None:
        """Count in this Redis from now on, unless another store was configured."""
        if self.shares_redis:
            self.use(redis_storage(shared, key_prefix=shared.key("ratelimit")))

    async def aclose(self) -> None:
        if self.owned is not None:
            await self.owned.aclose()

    async def count(self, *, address: str, token_hash: str | None) -> Verdict:
        """Count one request of this caller; `token_hash` only for a token known to be valid."""
        if token_hash is not None:
            resource, item, key = "token", self.per_token, token_hash
        else:
            resource, item, key = "address", self.per_address, address
        if self.fails_over and self.outage.usable():
            try:
                verdict = await self._count_in(self.windows, resource, item, key)
            except REDIS_ERRORS as error:
                self.outage.failed(error)
            else:
                self.outage.succeeded()
                return verdict
        return await self._count_in(
            self.in_memory if self.fails_over else self.windows, resource, item, key
        )

    @staticmethod
    async def _count_in(
        windows: SlidingWindowCounterRateLimiter, resource: str, item: RateLimitItem, key: str
    ) -> Verdict:
        allowed = await windows.hit(item, resource, key)
        stats = await windows.get_window_stats(item, resource, key)
        retry_after_s = max(1, math.ceil(stats.reset_time - time.time()))
        return Verdict(
            allowed, resource, item.amount, stats.remaining, stats.reset_time, retry_after_s
        )


class KnownTokens:
    """Which token hashes are valid (known, unrevoked), each answer kept for `seconds`."""

    def __init__(self, *, seconds: float = TOKEN_MEMORY_S, size: int = TOKENS_REMEMBERED) -> None:
        self.seconds = seconds
        self.size = size
        self.answers: OrderedDict[str, tuple[bool, float]] = OrderedDict()

    async def is_valid(self, scope: Scope, token_hash: str) -> bool:
        now = time.monotonic()
        kept = self.answers.get(token_hash)
        if kept is not None and kept[1] > now:
            self.answers.move_to_end(token_hash)
            return kept[0]
        async with scope["app"].state.engine.connect() as connection:
            token = await token_by_hash(connection, token_hash)
        valid = token is not None and token.revoked_at is None
        self.answers[token_hash] = (valid, now + self.seconds)
        self.answers.move_to_end(token_hash)
        while len(self.answers) > self.size:
            self.answers.popitem(last=False)
        return valid


class RateLimit:
    """ASGI middleware: counts each /graphql request and refuses those over the limit."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter
        self.tokens = KnownTokens()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        verdict = await self.limiter.count(
            address=_address(scope), token_hash=await self._valid_token_hash(scope)
        )
        headers = verdict.headers()
        if not verdict.allowed:
            message = (
                f"Rate limit exceeded: {verdict.limit} requests per "
                f"{self._window(verdict.resource)} for this {verdict.resource}; "
                f"retry after {verdict.retry_after_s} s."
            )
            await send_error(send, 429, message, code="RATE_LIMITED", headers=headers)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *headers]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _valid_token_hash(self, scope: Scope) -> str | None:
        authorization = dict(scope["headers"]).get(b"authorization")
        secret = bearer_secret(authorization.decode("latin-1") if authorization else None)
        if secret is None:
            return None
        token_hash = hash_secret(secret)
        return token_hash if await self.tokens.is_valid(scope, token_hash) else None

    def _window(self, resource: str) -> str:
        item = self.limiter.per_token if resource == "token" else self.limiter.per_address
        multiples = item.multiples
        return item.GRANULARITY.name if multiples == 1 else f"{multiples} {item.GRANULARITY.name}s"


def _address(scope: Scope) -> str:
    # Behind a proxy, uvicorn puts the forwarded client here (--forwarded-allow-ips).
    client = scope.get("client")
    return client[0] if client else "unknown"
