"""Automatic persisted queries, in Apollo's protocol.

A client sends `extensions.persistedQuery = {"version": 1, "sha256Hash": H}`
without the query. If the server knows H it runs the query stored under it;
if not it answers PersistedQueryNotFound (code PERSISTED_QUERY_NOT_FOUND,
status 200 like Apollo Server, so that no client's error handling hides it),
and the client sends H again with the query, which the server checks against
H, stores and runs. Short hashes instead of long documents make queries fit
in a GET URL, and a GET can be cached by browsers and proxies (api.graphql).

The store is a bounded LRU in this process's memory: a restart or another
worker only costs the client one round trip to send the query again.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any, Protocol

from graphql import GraphQLError


class QueryStore(Protocol):
    """Where persisted documents are kept, by the SHA-256 of their text."""

    def get(self, sha256_hash: str) -> str | None: ...

    def put(self, sha256_hash: str, query: str) -> None: ...


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


class PersistedQueryError(GraphQLError):
    """A persisted-query request that cannot run; `status` is the HTTP status to answer."""

    def __init__(self, message: str, *, code: str, status: int) -> None:
        super().__init__(message, extensions={"code": code})
        self.status = status


def not_found() -> PersistedQueryError:
    return PersistedQueryError(
        "PersistedQueryNotFound", code="PERSISTED_QUERY_NOT_FOUND", status=200
    )


def resolve_query(
    query: str | None, extensions: dict[str, Any] | None, store: QueryStore
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
        stored = store.get(sha256_hash)
        if stored is None:
            raise not_found()
        return stored, "hit"
    if hashlib.sha256(query.encode()).hexdigest() != sha256_hash:
        raise _bad_request("persistedQuery.sha256Hash is not the SHA-256 of the query.")
    store.put(sha256_hash, query)
    return query, "stored"


def _bad_request(message: str) -> PersistedQueryError:
    return PersistedQueryError(message, code="PERSISTED_QUERY_INVALID", status=400)
