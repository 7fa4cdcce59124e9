"""Automatic persisted queries, in Apollo's protocol.

A client sends `extensions.persistedQuery = {"version": 1, "sha256Hash": H}`
without the query. If the server knows H it runs the query stored under it;
if not it answers PersistedQueryNotFound (code PERSISTED_QUERY_NOT_FOUND,
status 200 like Apollo Server, so that no client's error handling hides it),
and the client sends H again with the query, which the server checks against
H, stores and runs. Short hashes instead of long documents make queries fit
in a GET URL, and a GET can be cached by browsers and proxies (api.graphql).

Each process keeps the documents it has seen in a bounded LRU. With
SCHOLARGRAPH_REDIS_URL set they are kept in Redis too, so that a document
registered through one worker or host is found by every other: a Redis hash
of documents by hash and a sorted set of when each was last used, trimmed to
the same bound, least recently used out. A document never changes under its
hash, so a copy in memory is never stale. When Redis is down or slow, a hash
this process has not seen is answered as not found and the client sends the
query again, as the protocol has it (api.redis_outage: logged once, counted).
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from typing import Any

from graphql import GraphQLError

from api.observability import Metrics
from api.redis_outage import REDIS_ERRORS, RedisOutage
from api.redis_state import SharedState


class LruQueryStore:
    """The `maxsize` most recently used documents, in memory."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._queries: OrderedDict[str, str] = OrderedDict()

    def get(self, sha256_hash: str) -> str | None:
        query = self._queries.get(sha256_hash)
        if query is not None:
            self._queries.move_to_end(sha256_hash)
        return query

    def put(self, sha256_hash: str, query: str) -> None:
        self._queries[sha256_hash] = query
        self._queries.move_to_end(sha256_hash)
        while len(self._queries) > self.maxsize:
            self._queries.popitem(last=False)


# Both scripts take KEYS = [documents by hash, last use by hash]; one round trip each.
GET_SCRIPT = """
local query = redis.call('HGET', KEYS[1], ARGV[1])
if query then redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1]) end
return query
"""
PUT_SCRIPT = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if excess > 0 then
  local oldest = redis.call('ZPOPMIN', KEYS[2], excess)
  for i = 1, #oldest, 2 do redis.call('HDEL', KEYS[1], oldest[i]) end
end
return excess
"""


class PersistedQueries:
    """The documents the view runs by hash: this process's LRU, then Redis once `share`d."""

    def __init__(self, maxsize: int, *, metrics: Metrics | None = None) -> None:
        self.maxsize = maxsize
        self.memory = LruQueryStore(maxsize)
        self.outage = RedisOutage("persisted_queries", metrics)
        self.shared: SharedState | None = None

    def share(self, shared: SharedState | None) -> None:
        """Keep documents in this Redis too (None: in this process only)."""
        self.shared = shared
        if shared is not None:
            self._keys = [shared.key("apq", "documents"), shared.key("apq", "used")]
            self._get = shared.client.register_script(GET_SCRIPT)
            self._put = shared.client.register_script(PUT_SCRIPT)

    async def get(self, sha256_hash: str) -> str | None:
        query = self.memory.get(sha256_hash)
        if query is not None or self.shared is None or not self.outage.usable():
            return query
        try:
            found = await self._get(keys=self._keys, args=[sha256_hash, time.time()])
        except REDIS_ERRORS as error:
            self.outage.failed(error)
            return None
        self.outage.succeeded()
        if found is None:
            return None
        query = bytes(found).decode()
        self.memory.put(sha256_hash, query)
        return query

    async def put(self, sha256_hash: str, query: str) -> None:
        self.memory.put(sha256_hash, query)
        if self.shared is None or not self.outage.usable():
            return
        try:
            await self._put(keys=self._keys, args=[sha256_hash, query, time.time(), self.maxsize])
        except REDIS_ERRORS as error:
            self.outage.failed(error)
        else:
            self.outage.succeeded()


class PersistedQueryError(GraphQLError):
    """A persisted-query request that cannot run; `status` is the HTTP status to answer."""

    def __init__(self, message: str, *, code: str, status: int) -> None:
        super().__init__(message, extensions={"code": code})
        self.status = status


def not_found() -> PersistedQueryError:
    return PersistedQueryError(
        "PersistedQueryNotFound", code="PERSISTED_QUERY_NOT_FOUND", status=200
    )


async def resolve_query(
    query: str | None, extensions: dict[str, Any] | None, store: PersistedQueries
) -> tuple[str | None, str | None]:
    """The document to run and what the store did (hit, stored; None without a persisted query).

    Raises PersistedQueryError when the hash is unknown and no query came,
    when the query does not match its hash, or the request is malformed.
    """
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return query, None
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise _bad_request("Unsupported persisted query version; send version 1.")
    sha256_hash = persisted.get("sha256Hash")
    if not isinstance(sha256_hash, str):
        raise _bad_request("persistedQuery.sha256Hash must be a string.")
    sha256_hash = sha256_hash.lower()
    if query is None:
        stored = await store.get(sha256_hash)
        if stored is None:
            raise not_found()
        return stored, "hit"
    if hashlib.sha256(query.encode()).hexdigest() != sha256_hash:
        raise _bad_request("persistedQuery.sha256Hash is not the SHA-256 of the query.")
    await store.put(sha256_hash, query)
    return query, "stored"


def _bad_request(message: str) -> PersistedQueryError:
    return PersistedQueryError(message, code="PERSISTED_QUERY_INVALID", status=400)
