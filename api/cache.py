"""The response cache: successful anonymous reads kept as bytes, dropped exactly when a write
changes what they read.

Key: the document's hash, the operation name, the variables (canonical JSON)
and the negotiated media type. Value: the body bytes, their ETag and the
dependency keys the execution noted (db.reads). A GET whose If-None-Match
names the entry's tag gets 304 without the query running; a hit answers the
stored bytes. `extensions.cache` ("hit"/"miss") is added to the body when the
request's extensions ask for it ({"cache": true}); the header
`x-scholargraph-cache` says the same on every cacheable response.

No stale answer. Every write announces its keys after its commit and before
its response (db.reads.announce); the announcement bumps a global write
epoch, stamps each key with it, and drops the entries indexed under the keys,
in one atomic step. A read takes the epoch before it opens its snapshot (its
ticket); its store is refused, atomically, when any of its keys (or a flush)
was stamped after the ticket: a read that overlapped a write never stores
what it saw. Stamps outlive the longest read that may store (`GEN_TTL_S`).

Where: in Redis when SCHOLARGRAPH_REDIS_URL is set (one Lua script per step,
so every worker and host sees a write's invalidation before its response
leaves); otherwise in this process, which is only right for one worker with
no writers elsewhere, so it is opt-in (SCHOLARGRAPH_CACHE_IN_PROCESS).

Redis down or slow: reads are served uncached and writes go on, both
counted; the outage is logged once. A process that saw Redis fail (on a
call, or its change-stream connection dropping) uses the cache again only
after it has flushed it, so entries from before the outage cannot outlive a
write made during it.

A write's invalidation is never skipped because this process saw Redis fail
before: Redis may fail for one worker and not another (a connect that timed
out under load), and the other worker would go on answering from entries
the write changed. It is tried again, on new connections, for up to
INVALIDATE_DEADLINE_S before the write answers; only when Redis stays out of
reach that long does the write answer without it, logged as an error and
counted (`invalidations_lost`). The flush that ends this process's outage
then drops everything, but until it runs, another worker that still reaches
Redis may answer from an entry the write changed.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Protocol

import orjson
from prometheus_client import CollectorRegistry, Counter
from redis.exceptions import RedisError
from starlette.datastructures import QueryParams
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from api.caching import apply_cache_policy, cache_headers, entity_tag, matches
from api.observability import request_record
from api.redis_state import SharedState
from db.reads import ChangeSet, ReadSet, recording

logger = logging.getLogger("scholargraph.cache")

GEN_TTL_S = 600  # how long a key's write stamp is kept
MAX_READ_S = 300.0  # a read that took longer does not store (its stamps may be gone)
RETRY_AFTER_S = 1.0  # after a Redis failure, the next attempt to use it
INVALIDATE_DEADLINE_S = 2.0  # how long a write tries to reach Redis before it answers anyway
INVALIDATE_BACKOFF_S = (0.02, 0.05, 0.1, 0.2, 0.4)  # pauses between its attempts, then the last
REDIS_ERRORS = (RedisError, OSError, asyncio.TimeoutError)
CLIENT_CLOSED = 499  # nginx's status for a request its client closed before the answer


class CacheMetrics:
    """hit/miss/store/evict/invalidation counts, in the app's registry (shown by /metrics)."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        def counter(name: str, doc: str) -> Counter:
            return Counter(f"scholargraph_response_cache_{name}", doc, registry=registry)

        self.hits = counter("hits", "Reads answered from the response cache (304s included).")
        self.misses = counter("misses", "Cacheable reads that ran their query.")
        self.stores = counter("stores", "Responses stored.")
        self.refused = counter("refused", "Stores refused: a write overlapped the read.")
        self.evictions = counter("evictions", "Entries dropped to stay within the size bound.")
        self.invalidations = counter(
            "invalidations", "Entries dropped because a write changed them."
        )
        self.bypassed = counter("bypassed", "Reads served uncached because Redis failed.")
        self.outages = counter("redis_outages", "Times the cache found Redis unreachable.")
        self.lost = counter(
            "invalidations_lost",
            "Writes that answered without reaching Redis to drop what they changed.",
        )


@dataclass(frozen=True, slots=True)
class Ticket:
    """What a read saw before it began: the write epoch, and when."""

    epoch: int
    started: float


@dataclass(frozen=True, slots=True)
class Hit:
    tag: str
    body: bytes | None  # None when only the tag was asked for


def cache_key(query: str, operation_name: str | None, variables: Any, media_type: str) -> str:
    """The entry's key: every input that changes the response bytes."""
    digest = hashlib.sha256()
    for part in (query.encode(), (operation_name or "").encode(), media_type.encode()):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    digest.update(orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS))
    return digest.hexdigest()


class ResponseCache(Protocol):
    metrics: CacheMetrics

    async def lookup(self, key: str, *, tag_only: bool) -> tuple[Hit | None, Ticket | None]: ...
    async def store(
        self, key: str, ticket: Ticket, body: bytes, tag: str, deps: set[str]
    ) -> bool: ...
    async def invalidate(self, changes: ChangeSet) -> None: ...
    def lost_redis(self, error: BaseException) -> None: ...
    async def regained_redis(self) -> None: ...


class MemoryCache:
    """The cache in this process: an LRU of entries, an index per key, the epoch and stamps."""

    def __init__(self, max_bytes: int, metrics: CacheMetrics) -> None:
        self.max_bytes = max_bytes
        self.metrics = metrics
        self.epoch = 0
        self.flushed = 0
        self.stamps: dict[str, tuple[int, float]] = {}
        self.entries: OrderedDict[str, tuple[str, bytes, frozenset[str], int]] = OrderedDict()
        self.index: dict[str, set[str]] = {}
        self.size = 0

    async def lookup(self, key: str, *, tag_only: bool) -> tuple[Hit | None, Ticket | None]:
        ticket = Ticket(self.epoch, time.monotonic())
        entry = self.entries.get(key)
        if entry is None:
            return None, ticket
        self.entries.move_to_end(key)
        tag, body, _deps, _size = entry
        return Hit(tag, None if tag_only else body), ticket

    async def store(self, key: str, ticket: Ticket, body: bytes, tag: str, deps: set[str]) -> bool:
        if time.monotonic() - ticket.started > MAX_READ_S or self.flushed > ticket.epoch:
            self.metrics.refused.inc()
            return False
        for dep in deps:
            stamp = self.stamps.get(dep)
            if stamp is not None and stamp[0] > ticket.epoch:
                self.metrics.refused.inc()
                return False
        self._drop(key)
        size = len(body) + len(tag) + sum(len(d) for d in deps) + 64
        self.entries[key] = (tag, body, frozenset(deps), size)
        for dep in deps:
            self.index.setdefault(dep, set()).add(key)
        self.size += size
        self.metrics.stores.inc()
        while self.size > self.max_bytes and self.entries:
            self._drop(next(iter(self.entries)))
            self.metrics.evictions.inc()
        return True

    async def invalidate(self, changes: ChangeSet) -> None:
        self.epoch += 1
        now = time.monotonic()
        if changes.everything:
            self.flushed = self.epoch
            dropped = len(self.entries)
            self.entries.clear()
            self.index.clear()
            self.size = 0
        else:
            dropped = 0
            for dep in changes.keys:
                self.stamps[dep] = (self.epoch, now)
                for key in list(self.index.get(dep, ())):
                    dropped += self._drop(key)
        self.metrics.invalidations.inc(dropped)
        if len(self.stamps) > 10_000:  # stamps older than any read that may still store
            self.stamps = {k: v for k, v in self.stamps.items() if now - v[1] < GEN_TTL_S}

    def _drop(self, key: str) -> int:
        entry = self.entries.pop(key, None)
        if entry is None:
            return 0
        for dep in entry[2]:
            keys = self.index.get(dep)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self.index[dep]
        self.size -= entry[3]
        return 1

    def lost_redis(self, error: BaseException) -> None:
        pass

    async def regained_redis(self) -> None:
        pass


# Redis: keys under <prefix>cache: -- epoch, flushed, tick, bytes, lru (zset of entry
# keys by last use), e:<key> (hash: b body, t tag, d deps, n size), i:<dep> (set of
# entry keys), g:<dep> (the epoch of the last write to dep, expiring after GEN_TTL_S).
_EVICT = """
local function evict(P, k)
  local e = P .. 'e:' .. k
  local got = redis.call('HMGET', e, 'd', 'n')
  if not got[2] then redis.call('ZREM', P .. 'lru', k) return 0 end
  for dep in string.gmatch(got[1], '[^\\n]+') do redis.call('SREM', P .. 'i:' .. dep, k) end
  redis.call('DECRBY', P .. 'bytes', got[2])
  redis.call('DEL', e)
  redis.call('ZREM', P .. 'lru', k)
  return 1
end
"""
# look_up(P, key, tag_only, held): {epoch} for a miss, {epoch, tag} or {epoch, tag, body}.
LOOK_UP_FUNCTION = """
local function look_up(P, key, tag_only, held)
  local epoch = redis.call('GET', P .. 'epoch') or '0'
  local e = P .. 'e:' .. key
  local tag = redis.call('HGET', e, 't')
  if not tag then return {epoch} end
  redis.call('ZADD', P .. 'lru', redis.call('INCR', P .. 'tick'), key)
  -- The body only when wanted and the caller does not hold it already (its tag).
  if tag_only == '1' or tag == held then return {epoch, tag} end
  return {epoch, tag, redis.call('HGET', e, 'b')}
end
"""
LOOKUP = LOOK_UP_FUNCTION + "return look_up(ARGV[1], ARGV[2], ARGV[3], ARGV[4])\n"
STORE = (
    _EVICT
    + """
local P, key, start = ARGV[1], ARGV[2], tonumber(ARGV[3])
if tonumber(redis.call('GET', P .. 'flushed') or '0') > start then return -1 end
for i = 7, #ARGV do
  local g = redis.call('GET', P .. 'g:' .. ARGV[i])
  if g and tonumber(g) > start then return -1 end
end
evict(P, key)
local deps = {}
for i = 7, #ARGV do deps[#deps + 1] = ARGV[i] end
local joined = table.concat(deps, '\\n')
local size = #ARGV[5] + #ARGV[4] + #joined + 64
redis.call('HSET', P .. 'e:' .. key, 'b', ARGV[5], 't', ARGV[4], 'd', joined, 'n', size)
for _, dep in ipairs(deps) do redis.call('SADD', P .. 'i:' .. dep, key) end
redis.call('ZADD', P .. 'lru', redis.call('INCR', P .. 'tick'), key)
local total = redis.call('INCRBY', P .. 'bytes', size)
local evicted = 0
local limit = tonumber(ARGV[6])
while total > limit do
  local oldest = redis.call('ZRANGE', P .. 'lru', 0, 0)
  if #oldest == 0 then break end
  evicted = evicted + evict(P, oldest[1])
  total = tonumber(redis.call('GET', P .. 'bytes'))
end
return evicted
"""
)
INVALIDATE = (
    _EVICT
    + """
local P, ttl = ARGV[1], ARGV[2]
local epoch = redis.call('INCR', P .. 'epoch')
local dropped = 0
if ARGV[3] == '1' then
  redis.call('SET', P .. 'flushed', epoch)
  for _, k in ipairs(redis.call('ZRANGE', P .. 'lru', 0, -1)) do dropped = dropped + evict(P, k) end
else
  for i = 4, #ARGV do
    redis.call('SET', P .. 'g:' .. ARGV[i], epoch, 'EX', ttl)
    for _, k in ipairs(redis.call('SMEMBERS', P .. 'i:' .. ARGV[i])) do
      dropped = dropped + evict(P, k)
    end
  end
end
return dropped
"""
)


class BodyCopies:
    """A worker's copies of bodies kept in Redis, least recently used out past `max_bytes`."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.copies: OrderedDict[str, tuple[str, bytes]] = OrderedDict()

    def get(self, key: str) -> tuple[str, bytes] | None:
        held = self.copies.get(key)
        if held is not None:
            self.copies.move_to_end(key)
        return held

    def put(self, key: str, tag: str, body: bytes) -> None:
        old = self.copies.pop(key, None)
        if old is not None:
            self.size -= len(old[1])
        self.copies[key] = (tag, body)
        self.size += len(body)
        while self.size > self.max_bytes and self.copies:
            _, (_, dropped) = self.copies.popitem(last=False)
            self.size -= len(dropped)


class RedisCache:
    """The cache in Redis, shared by every worker and host; each step is one Lua script."""

    def __init__(self, shared: SharedState, max_bytes: int, metrics: CacheMetrics) -> None:
        self.redis = shared.client
        self.prefix = shared.key("cache:")
        self.max_bytes = max_bytes
        self.metrics = metrics
        self._lookup = self.redis.register_script(LOOKUP)
        self._store = self.redis.register_script(STORE)
        self._invalidate = self.redis.register_script(INVALIDATE)
        # Bodies this worker has fetched, by key with their tag: Redis says which tag is
        # current, and a body never changes under its tag (the tag is its hash).
        self.bodies = BodyCopies(max_bytes)
        # Down: Redis failed; the cache is unused until a flush succeeds (see the docstring).
        self.down = False
        self.retry_at = 0.0

    async def lookup(self, key: str, *, tag_only: bool) -> tuple[Hit | None, Ticket | None]:
        if not await self._usable():
            return None, None
        started = time.monotonic()
        args = self.lookup_args(key, tag_only=tag_only)
        try:
            reply = await self._lookup(args=args)
        except REDIS_ERRORS as error:
            self.lost_redis(error)
            return None, None
        return self.read_lookup(key, reply, tag_only=tag_only, started=started)

    def lookup_args(self, key: str, *, tag_only: bool) -> list[str]:
        """LOOK_UP_FUNCTION's arguments: the tag of this worker's copy saves sending the body."""
        held = self.bodies.get(key)
        return [self.prefix, key, "1" if tag_only else "0", held[0] if held else ""]

    def read_lookup(
        self, key: str, reply: list[Any], *, tag_only: bool, started: float
    ) -> tuple[Hit | None, Ticket | None]:
        # [epoch] (a miss), [epoch, tag], or [epoch, tag, body].
        ticket = Ticket(int(reply[0]), started)
        if len(reply) < 2:
            return None, ticket
        tag = reply[1].decode()
        if tag_only:
            return Hit(tag, None), ticket
        if len(reply) > 2:
            self.bodies.put(key, tag, reply[2])
            return Hit(tag, reply[2]), ticket
        held = self.bodies.get(key)
        if held is None or held[0] != tag:  # dropped from this worker's copies meanwhile
            return None, ticket
        return Hit(tag, held[1]), ticket

    async def store(self, key: str, ticket: Ticket, body: bytes, tag: str, deps: set[str]) -> bool:
        if self.down or time.monotonic() - ticket.started > MAX_READ_S:
            return False
        args: list[bytes | str | int] = [self.prefix, key, ticket.epoch, tag, body, self.max_bytes]
        args.extend(sorted(deps))
        try:
            evicted = int(await self._store(args=args))
        except REDIS_ERRORS as error:
            self.lost_redis(error)
            return False
        if evicted < 0:
            self.metrics.refused.inc()
            return False
        self.bodies.put(key, tag, body)
        self.metrics.stores.inc()
        self.metrics.evictions.inc(evicted)
        return True

    async def invalidate(self, changes: ChangeSet) -> None:
        # Tried even when this process saw Redis fail: others may reach it (module docstring).
        try:
            await invalidate_persistently(self._run_invalidate, changes)
        except REDIS_ERRORS as error:
            self.metrics.lost.inc()
            logger.error(
                "A write could not reach Redis within %.1f s to drop the cached responses it "
                "changed; other workers may answer from them until this worker flushes: %s",
                INVALIDATE_DEADLINE_S,
                f"{type(error).__name__}: {error}",
            )
            self.lost_redis(error)

    async def _run_invalidate(self, changes: ChangeSet) -> None:
        flag = "1" if changes.everything else "0"
        keys = [] if changes.everything else sorted(changes.keys)
        dropped = await self._invalidate(args=[self.prefix, GEN_TTL_S, flag, *keys])
        self.metrics.invalidations.inc(int(dropped))

    def lost_redis(self, error: BaseException) -> None:
        self.retry_at = time.monotonic() + RETRY_AFTER_S
        if not self.down:
            self.down = True
            self.metrics.outages.inc()
            logger.warning(
                "Redis unavailable for the response cache; serving uncached until it answers: %s",
                f"{type(error).__name__}: {error}",
            )

    async def regained_redis(self) -> None:
        """Redis answers again: flush what may predate a write made meanwhile, then use it."""
        try:
            await self._run_invalidate(ChangeSet.all())
        except REDIS_ERRORS as error:
            self.lost_redis(error)
            return
        if self.down:
            self.down = False
            logger.info("Redis available again for the response cache (flushed it)")

    async def _usable(self) -> bool:
        if self.down:
            if time.monotonic() < self.retry_at:
                self.metrics.bypassed.inc()
                return False
            self.retry_at = time.monotonic() + RETRY_AFTER_S
            await self.regained_redis()
            if self.down:
                self.metrics.bypassed.inc()
                return False
        return True


async def invalidate_persistently(
    run: Callable[[ChangeSet], Awaitable[None]], changes: ChangeSet
) -> None:
    """`run(changes)`, tried again after each Redis failure until INVALIDATE_DEADLINE_S.

    The last failure is raised. A failed call leaves its connection out of the
    client's pool, so each attempt connects afresh.
    """
    deadline = time.monotonic() + INVALIDATE_DEADLINE_S
    attempt = 0
    while True:
        try:
            await run(changes)
            return
        except REDIS_ERRORS:
            pause = INVALIDATE_BACKOFF_S[min(attempt, len(INVALIDATE_BACKOFF_S) - 1)]
            if time.monotonic() + pause >= deadline:
                raise
        attempt += 1
        await asyncio.sleep(pause)


REPORT_EXTENSION = "cache"  # request extensions {"cache": true}: the body says hit or miss


@dataclass(slots=True)
class Pending:
    """A cacheable request in flight: its key, its ticket and what its execution read."""

    key: str
    ticket: Ticket | None
    reads: ReadSet
    report: bool


def cacheable_request(request: Request) -> bool:
    """Anonymous GET or POST reads may be served from and kept in the cache."""
    return request.method in ("GET", "POST") and "authorization" not in request.headers


async def before_execution(
    cache: ResponseCache, request: Request, query: str, request_data: Any, media_type: str
) -> Hit | None:
    """Look the request up; a hit is answered without executing, a miss records its reads."""
    extensions = request_data.extensions or {}
    key = cache_key(
        query, request_data.operation_name, request_data.variables, media_type + today_key()
    )
    # Only a GET may be answered 304 (api.caching): a POST always gets its body.
    if_none_match = request.headers.get("if-none-match") if request.method == "GET" else None
    hit, ticket = await cache.lookup(key, tag_only=if_none_match is not None)
    if hit is not None and hit.body is None and not matches(if_none_match, hit.tag):
        hit, ticket = await cache.lookup(key, tag_only=False)
    report = isinstance(extensions, dict) and extensions.get(REPORT_EXTENSION) is True
    if hit is not None:
        cache.metrics.hits.inc()
        request.state.cache_hit = hit
        request.state.cache_report = report
        return hit
    cache.metrics.misses.inc()
    pending = Pending(key, ticket, ReadSet(), report)
    request.state.cache_pending = pending
    recording(pending.reads)  # this request's task (and what it hands on) notes its reads
    return None


@dataclass(frozen=True, slots=True)
class PlainAsk:
    """A plain request with its query in it (a GET's URL or a JSON POST): its cache entry."""

    key: str
    operation_name: str | None
    if_none_match: str | None  # a GET's: only a GET may be answered 304 (api.caching)
    report: bool  # extensions {"cache": true}


async def answered_early(
    cache: ResponseCache, request: Request, media_type: str, content_type: str, max_age: int
) -> Response | None:
    """A hit answered before anything else is done (no parsing, no context): or None.

    Only a plain request with the query in it (a GET's URL or a JSON POST); a
    persisted query's hash, a browser's visit and a miss go the usual way.
    """
    if not may_answer_early(request):
        return None
    body = None
    if request.method == "POST":
        try:
            body = await request.body()
        except ClientDisconnect:
            # Gone before its body arrived (a client stopping, a closed tab): nobody to answer.
            return Response(status_code=CLIENT_CLOSED)
    ask = plain_ask(request, body, media_type)
    if ask is None:
        return None
    hit, _ticket = await cache.lookup(ask.key, tag_only=ask.if_none_match is not None)
    hit = await with_body_unless_matched(cache, ask, hit)
    if hit is None:
        return None
    return hit_response(cache, request, ask, hit, content_type, max_age)


def may_answer_early(request: Request) -> bool:
    """Anonymous, not a browser's visit, and if a POST then of JSON."""
    if not cacheable_request(request) or "text/html" in request.headers.get("accept", ""):
        return False
    content_type = request.headers.get("content-type", "")
    return request.method == "GET" or content_type.split(";")[0].strip() == "application/json"


def plain_ask(request: Request, body: bytes | None, media_type: str) -> PlainAsk | None:
    """The cache entry of a GET's URL or a POST's `body`; None if not a plain request."""
    get = request.method == "GET"
    raw: bytes = request.scope["query_string"] if get else (body or b"")
    variant = media_type + today_key()
    memo = _memo_parsed if len(raw) <= MEMO_MAX_BYTES else _parsed
    parsed = memo(get, raw, variant)
    if parsed is None:
        return None
    key, operation_name, report = parsed
    return PlainAsk(
        key=key,
        operation_name=operation_name,
        if_none_match=request.headers.get("if-none-match") if get else None,
        report=report,
    )


# A client asking for the same page again sends the same bytes: their parse and key are
# kept (a GET's URL took 15% of a 304's time to parse). Up to 1,024 of up to 4 KB each.
MEMO_MAX_BYTES = 4096
ParsedAsk = tuple[str, str | None, bool]  # the entry's key, the operation's name, report?


@lru_cache(maxsize=1024)
def _memo_parsed(get: bool, raw: bytes, variant: str) -> ParsedAsk | None:
    return _parsed(get, raw, variant)


def _parsed(get: bool, raw: bytes, variant: str) -> ParsedAsk | None:
    """A GET's query string or a POST's body read as a plain request, keyed for `variant`."""
    if get:
        params: Any = QueryParams(raw)
        if "extensions" in params:
            extensions: Any = _json_or_none(params["extensions"])
            if not isinstance(extensions, dict) or set(extensions) - {REPORT_EXTENSION}:
                return None
        else:
            extensions = {}
        variables = _json_or_none(params["variables"]) if params.get("variables") else None
    else:
        params = _json_or_none(raw)
        if not isinstance(params, dict):
            return None
        extensions = params.get("extensions") or {}
        variables = params.get("variables")
        if not isinstance(extensions, dict) or set(extensions) - {REPORT_EXTENSION}:
            return None
    query = params.get("query")
    if not isinstance(query, str) or not query:
        return None
    operation_name = params.get("operationName") or None
    key = cache_key(query, operation_name, variables, variant)
    return key, operation_name, extensions.get(REPORT_EXTENSION) is True


async def with_body_unless_matched(
    cache: ResponseCache, ask: PlainAsk, hit: Hit | None
) -> Hit | None:
    """A hit looked up for its tag alone whose tag If-None-Match does not name: with its body."""
    if hit is not None and hit.body is None and not matches(ask.if_none_match, hit.tag):
        hit, _ticket = await cache.lookup(ask.key, tag_only=False)
    return hit


def hit_response(
    cache: ResponseCache,
    request: Request,
    ask: PlainAsk,
    hit: Hit,
    content_type: str,
    max_age: int,
) -> Response:
    """The stored answer (or 304), counted and logged as the query it answers."""
    cache.metrics.hits.inc()
    record = request_record()
    record.operation_name, record.operation_type = ask.operation_name, "query"
    if matches(ask.if_none_match, hit.tag):  # a GET's (api.caching): the client's copy is current
        headers = {**cache_headers(max_age, hit.tag), "x-scholargraph-cache": "hit"}
        return Response(status_code=304, headers=headers)
    response = Response(hit.body or b"", 200, headers={"content-type": content_type})
    response = apply_cache_policy(request, response, has_errors=False, max_age=max_age, tag=hit.tag)
    response.headers["x-scholargraph-cache"] = "hit"
    if ask.report and response.status_code == 200:
        return _reported(response, "hit")
    return response


def _json_or_none(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


async def after_response(cache: ResponseCache, request: Request, response: Response) -> Response:
    """Keep a successful query's body (before sending it); say hit or miss if asked."""
    state = request.state
    hit: Hit | None = getattr(state, "cache_hit", None)
    if hit is not None:
        response.headers["x-scholargraph-cache"] = "hit"
        if state.cache_report and response.status_code == 200:
            return _reported(response, "hit")
        return response
    pending: Pending | None = getattr(state, "cache_pending", None)
    if pending is None:
        return response
    recording(None)
    response.headers["x-scholargraph-cache"] = "miss"
    storable = (
        pending.ticket is not None
        and response.status_code == 200
        and not getattr(state, "cache_has_errors", True)
        and request_record().operation_type == "query"
        and pending.reads.keys
    )
    if storable:
        assert pending.ticket is not None
        body = bytes(response.body)
        tag = response.headers.get("etag") or entity_tag(body)
        await cache.store(pending.key, pending.ticket, body, tag, pending.reads.keys)
    if pending.report and response.status_code == 200:
        return _reported(response, "miss")
    return response


def _reported(response: Response, outcome: str) -> Response:
    document = orjson.loads(response.body)
    document.setdefault("extensions", {})[REPORT_EXTENSION] = outcome
    response.body = orjson.dumps(document)
    response.headers["content-length"] = str(len(response.body))
    return response


def today_key() -> str:
    """Figures such as mQuotient are as of today: yesterday's entries are not today's."""
    return datetime.now(UTC).date().isoformat()


def create_cache(
    max_bytes: int, shared: SharedState | None, in_process: bool, registry: CollectorRegistry
) -> ResponseCache | None:
    """The cache these settings ask for: in Redis, in this process (opt-in), or none."""
    if max_bytes <= 0:
        return None
    metrics = CacheMetrics(registry)
    if shared is not None:
        return RedisCache(shared, max_bytes, metrics)
    return MemoryCache(max_bytes, metrics) if in_process else None
