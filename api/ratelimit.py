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
short timeouts). In Redis, a request is counted and its window read back
in one script (`RedisWindows`: limits' two scripts joined, on limits' keys),
so counting costs one round trip, and the headers say what the count left.
When the response cache lives in that Redis too, an anonymous request it
may answer is counted and looked up in the same script, and a hit (or a
304) is answered here: one round trip to Redis for the whole request.
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
from typing import Protocol

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.storage.redis.redispy import RedispyBridge
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string
from redis.asyncio import Redis
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.cache import (
    CLIENT_CLOSED,
    LOOK_UP_FUNCTION,
    Hit,
    PlainAsk,
    RedisCache,
    hit_response,
    may_answer_early,
    plain_ask,
    with_body_unless_matched,
)
from api.graphql import GRAPHQL_RESPONSE, negotiated
from api.observability import Metrics
from api.protection import send_error
from api.redis_outage import REDIS_ERRORS, RedisOutage
from api.redis_state import DirectScript, SharedState
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


class Windows(Protocol):
    """Where requests are counted: `count` adds one to a caller's window and says what is left."""

    async def count(self, resource: str, item: RateLimitItem, key: str) -> Verdict: ...


class StorageWindows:
    """Counts in any limits store with sliding windows (memory, memcached ...): two calls."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.limiter = SlidingWindowCounterRateLimiter(storage)

    async def count(self, resource: str, item: RateLimitItem, key: str) -> Verdict:
        allowed = await self.limiter.hit(item, resource, key)
        stats = await self.limiter.get_window_stats(item, resource, key)
        return _verdict(allowed, resource, item, stats.remaining, stats.reset_time)


# limits' acquire_sliding_window.lua, then its sliding_window.lua's read of the two
# counters (previous and current window) on the same keys: one call, one round trip.
# count(previous key, current key, limit, expiry (s), amount) returns
# {acquired (0/1), previous count, previous TTL (ms), current count, current TTL}.
COUNT_FUNCTION = """
local function count(previous, current, limit, expiry, amount)
  limit, expiry, amount = tonumber(limit), tonumber(expiry) * 1000, tonumber(amount)
  local function read()
    return {
      tonumber(redis.call('get', previous)) or 0, tonumber(redis.call('pttl', previous)) or 0,
      tonumber(redis.call('get', current)) or 0, tonumber(redis.call('pttl', current)) or 0
    }
  end
  local acquired = 0
  if amount <= limit then
    local current_ttl = tonumber(redis.call('pttl', current))
    if current_ttl > 0 and current_ttl < expiry then
      -- The current window ended: it becomes the previous one.
      redis.call('rename', current, previous)
      redis.call('set', current, 0, 'PX', current_ttl + expiry)
    end
    local w = read()
    local weighted = math.floor(w[1] * math.max(w[2], 0) / expiry) + w[3]
    if weighted + amount <= limit then
      acquired = 1
      if redis.call('exists', current) == 1 then
        redis.call('incrby', current, amount)
      else
        redis.call('set', current, amount, 'PX', expiry * 2)
      end
    end
  end
  local w = read()
  return {acquired, w[1], w[2], w[3], w[4]}
end
"""
COUNT = COUNT_FUNCTION + "return count(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3])\n"
# A request the response cache may answer: counted, then (if allowed) looked up, in one
# call. KEYS and ARGV[1..3] as COUNT's, ARGV[4..7] as api.cache's LOOKUP's.
COUNT_AND_LOOK_UP = (
    COUNT_FUNCTION
    + LOOK_UP_FUNCTION
    + """
local counted = count(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3])
if counted[1] == 0 then return {counted} end
return {counted, look_up(ARGV[4], ARGV[5], ARGV[6], ARGV[7])}
"""
)


class RedisWindows:
    """limits' sliding-window counters in Redis, counted and read back in one call.

    The keys and the arithmetic are those of limits' RedisStorage with its
    SlidingWindowCounterRateLimiter (`<prefix>:{<item key>}` and its `/-1`),
    so the counts are the same whichever of the two counted them.
    """

    def __init__(self, client: Redis, key_prefix: str) -> None:
        self.client = client
        self.key_prefix = key_prefix
        self.script = client.register_script(COUNT)
        self.with_look_up = DirectScript(client, COUNT_AND_LOOK_UP)  # on every anonymous read

    async def count(self, resource: str, item: RateLimitItem, key: str) -> Verdict:
        reply = await self.script(keys=self.keys(resource, item, key), args=self.args(item))
        return self.verdict(resource, item, reply)

    async def count_and_look_up(
        self, resource: str, item: RateLimitItem, key: str, cache: RedisCache, ask: PlainAsk
    ) -> tuple[Verdict, Hit | None]:
        """Count, and if allowed look `ask` up in `cache` (in this Redis): one round trip."""
        started = time.monotonic()
        tag_only = ask.if_none_match is not None
        args: list[str | int] = [*self.args(item), *cache.lookup_args(ask.key, tag_only=tag_only)]
        reply = await self.with_look_up(self.keys(resource, item, key), args)
        verdict = self.verdict(resource, item, reply[0])
        if len(reply) < 2:
            return verdict, None
        hit, _ticket = cache.read_lookup(ask.key, reply[1], tag_only=tag_only, started=started)
        return verdict, hit

    def keys(self, resource: str, item: RateLimitItem, key: str) -> list[str]:
        current = f"{self.key_prefix}:{{{item.key_for(resource, key)}}}"
        return [f"{current}/-1", current]

    @staticmethod
    def args(item: RateLimitItem) -> list[int]:
        return [item.amount, item.get_expiry(), 1]

    @staticmethod
    def verdict(resource: str, item: RateLimitItem, reply: list[int]) -> Verdict:
        """limits' get_window_stats over the counters COUNT read back."""
        acquired, previous_count, previous_ms, current_count, current_ms = map(int, reply)
        expiry = item.get_expiry()
        previous_s, current_s = max(0, previous_ms) / 1000, max(0, current_ms) / 1000
        weighted = previous_count * previous_s / expiry + current_count
        remaining = max(0, item.amount - math.floor(weighted))
        now = time.time()
        reset_in = math.inf
        if previous_count:
            reset_in = previous_s % (expiry / previous_count)
        if current_count:
            reset_in = min(reset_in, current_s % expiry)
        reset_at = now if reset_in == math.inf else now + reset_in
        return _verdict(bool(acquired), resource, item, remaining, reset_at)


def _verdict(
    allowed: bool, resource: str, item: RateLimitItem, remaining: int, reset_at: float
) -> Verdict:
    retry_after_s = max(1, math.ceil(reset_at - time.time()))
    return Verdict(allowed, resource, item.amount, remaining, reset_at, retry_after_s)


def windows_in(storage: Storage) -> Windows:
    """One script a request for limits' Redis store through redis-py, its two calls otherwise."""
    if isinstance(storage, RedisStorage) and isinstance(storage.bridge, RedispyBridge):
        client = storage.bridge.get_connection()
        if isinstance(client, Redis):
            return RedisWindows(client, storage.bridge.key_prefix)
    return StorageWindows(storage)


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
        self.in_memory = StorageWindows(MemoryStorage())
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
        self.windows = windows_in(storage)
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
                verdict = await self.windows.count(resource, item, key)
            except REDIS_ERRORS as error:
                self.outage.failed(error)
            else:
                self.outage.succeeded()
                return verdict
        windows = self.in_memory if self.fails_over else self.windows
        return await windows.count(resource, item, key)

    def counts_beside(self, cache: object) -> RedisCache | None:
        """`cache` when it lives in the Redis that counts: then a hit costs one call to it."""
        if not isinstance(cache, RedisCache) or not isinstance(self.windows, RedisWindows):
            return None
        pool = self.windows.client.connection_pool
        return cache if cache.redis.connection_pool is pool else None

    async def count_and_look_up(
        self, *, address: str, cache: RedisCache, ask: PlainAsk
    ) -> tuple[Verdict, Hit | None]:
        """An anonymous request's count and, if allowed, its cached answer: one call to Redis.

        Either down, both go on without Redis as their own calls would.
        """
        assert isinstance(self.windows, RedisWindows)
        if cache.down:  # the view's look-up will find out when Redis is back
            return await self.count(address=address, token_hash=None), None
        if not self.outage.usable():
            return await self.in_memory.count("address", self.per_address, address), None
        try:
            verdict, hit = await self.windows.count_and_look_up(
                "address", self.per_address, address, cache, ask
            )
        except REDIS_ERRORS as error:
            self.outage.failed(error)
            cache.lost_redis(error)
            return await self.in_memory.count("address", self.per_address, address), None
        self.outage.succeeded()
        return verdict, hit


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
        token_hash = await self._valid_token_hash(scope)
        cache = self.limiter.counts_beside(getattr(scope["app"].state, "response_cache", None))
        early: Response | None = None
        if (
            token_hash is None
            and cache is not None
            and may_answer_early(request := Request(scope, receive))
        ):
            verdict, early, receive = await self._count_and_look_up(request, cache)
        else:
            verdict = await self.limiter.count(address=_address(scope), token_hash=token_hash)
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

        if early is not None:
            await early(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    async def _count_and_look_up(
        self, request: Request, cache: RedisCache
    ) -> tuple[Verdict, Response | None, Receive]:
        """Count an anonymous request the cache may answer, and look it up in the same call.

        The verdict; the answer when it is a hit; the `receive` that hands the
        app the body read here.
        """
        address = _address(request.scope)
        settings = request.app.state.settings
        body = b""
        if request.method == "POST":
            length = request.headers.get("content-length", "")
            if not length.isdigit() or int(length) > settings.max_body_bytes:
                # Too large or streamed: left to BodySizeLimit, and the view looks it up.
                verdict = await self.limiter.count(address=address, token_hash=None)
                return verdict, None, request.receive
            try:
                body = await request.body()
            except ClientDisconnect:
                verdict = await self.limiter.count(address=address, token_hash=None)
                return verdict, Response(status_code=CLIENT_CLOSED), request.receive
        receive = _replaying(body, request.receive) if body else request.receive
        media_type = negotiated(request)
        ask = plain_ask(request, body, media_type)
        if ask is None:
            return await self.limiter.count(address=address, token_hash=None), None, receive
        verdict, hit = await self.limiter.count_and_look_up(address=address, cache=cache, ask=ask)
        hit = await with_body_unless_matched(cache, ask, hit)
        if hit is None:
            return verdict, None, receive
        content_type = (
            f"{GRAPHQL_RESPONSE}; charset=utf-8" if media_type == "gql" else "application/json"
        )
        max_age = settings.cache_max_age_s
        return verdict, hit_response(cache, request, ask, hit, content_type, max_age), receive

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


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the body already read, then whatever the client sends next."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _address(scope: Scope) -> str:
    # Behind a proxy, uvicorn puts the forwarded client here (--forwarded-allow-ips).
    client = scope.get("client")
    return client[0] if client else "unknown"
