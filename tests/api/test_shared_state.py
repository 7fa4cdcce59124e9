"""Workers sharing one Redis: persisted queries and rate-limit counts, and Redis failing.

Two apps over one database and one Redis key prefix stand for two workers
(or two hosts). Redis failing is a URL to a port where nothing listens, or a
TCP proxy to the test Redis that the test stops, stalls and starts again;
the Redis service itself is never touched.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families
from redis._parsers import _AsyncHiredisParser

from api.app import create_app
from api.redis_state import SharedState
from api.settings import Settings
from tests.conftest import REDIS_URL, RedisTarget
from tests.redis_proxy import RedisProxy, free_port
from tests.support import skip_or_fail

QUERY = 'query Name { researcher(slug: "david-bau") { name } }'
QUERY_HASH = hashlib.sha256(QUERY.encode()).hexdigest()
DATA = {"researcher": {"name": "David Bau"}}
NOT_FOUND = [
    {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
]
LIMITS = {"rate_limit_per_address": "3/minute", "rate_limit_per_token": "5/minute"}
EXTENSIONS = json.dumps({"persistedQuery": {"version": 1, "sha256Hash": QUERY_HASH}})


@asynccontextmanager
async def worker(
    database_url: str, *, address: str = "192.0.2.1", **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """One app (one worker) and a client of it, from one client address."""
    app = create_app(Settings(database_url=database_url, **settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


def sharing(redis_url: str, prefix: str, **settings: Any) -> dict[str, Any]:
    return {"redis_url": redis_url, "redis_prefix": prefix, **settings}


async def by_hash(http: httpx.AsyncClient) -> httpx.Response:
    """A hash-only GET, as a client sends it once it believes the query is persisted."""
    return await http.get("/graphql", params={"extensions": EXTENSIONS})


async def register(http: httpx.AsyncClient) -> httpx.Response:
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": QUERY_HASH}}
    return await http.post("/graphql", json={"query": QUERY, "extensions": extensions})


def answer(response: httpx.Response) -> tuple[int, Any]:
    """The status, and the data or the errors."""
    body = response.json()
    return response.status_code, body.get("data", body.get("errors"))


async def samples(http: httpx.AsyncClient, name: str) -> dict[str, float]:
    """The values of one metric in /metrics, by their `use` or `result` label."""
    text = (await http.get("/metrics")).text
    return {
        next(iter(sample.labels.values()), ""): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


async def test_a_query_persisted_through_one_worker_is_found_by_another(
    seeded_url: str, redis_target: RedisTarget
) -> None:
    shared = sharing(redis_target.url, redis_target.prefix)
    async with worker(seeded_url, **shared) as first, worker(seeded_url, **shared) as second:
        before = await by_hash(second)
        registered = await register(first)
        after = [await by_hash(second) for _ in range(3)]
    assert answer(before) == (200, NOT_FOUND)
    assert answer(registered) == (200, DATA)
    assert [answer(response) for response in after] == [(200, DATA)] * 3


async def test_without_redis_each_worker_keeps_its_own_persisted_queries(seeded_url: str) -> None:
    async with worker(seeded_url) as first, worker(seeded_url) as second:
        registered = await register(first)
        elsewhere = await by_hash(second)
        here = await by_hash(first)
    assert (answer(registered), answer(here)) == ((200, DATA), (200, DATA))
    assert answer(elsewhere) == (200, NOT_FOUND)


async def test_workers_count_a_client_s_requests_together(
    seeded_url: str, redis_target: RedisTarget
) -> None:
    shared = sharing(redis_target.url, redis_target.prefix, **LIMITS)
    async with worker(seeded_url, **shared) as first, worker(seeded_url, **shared) as second:
        on_first = [await register(first) for _ in range(2)]
        on_second = [await register(second) for _ in range(2)]
    remaining = [r.headers["x-ratelimit-remaining"] for r in [*on_first, *on_second[:1]]]
    assert remaining == ["2", "1", "0"]
    refused = on_second[1]
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_an_unreachable_redis_costs_a_miss_and_counts_in_memory(
    seeded_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="scholargraph.redis")
    nowhere = sharing(f"redis://127.0.0.1:{free_port()}/0", "sg-test-nowhere:", **LIMITS)
    async with worker(seeded_url, **nowhere) as http:
        responses = [await by_hash(http), await register(http), await by_hash(http)]
        refused = await by_hash(http)
        outages = await samples(http, "scholargraph_redis_outages_total")
        fallbacks = await samples(http, "scholargraph_redis_fallbacks_total")
    # The client resends the query as on any miss, and then runs it by hash from memory.
    assert [answer(r) for r in responses] == [(200, NOT_FOUND), (200, DATA), (200, DATA)]
    # Counted in this process: the fourth request of a 3/minute limit is refused, not failed.
    assert [r.headers["x-ratelimit-remaining"] for r in responses] == ["2", "1", "0"]
    assert refused.status_code == 429
    warnings = [r.getMessage() for r in caplog.records if r.name == "scholargraph.redis"]
    assert [m.split(",")[0] for m in warnings] == [
        "Redis unavailable for rate_limit",
        "Redis unavailable for persisted_queries",
    ]
    assert outages == {"persisted_queries": 1.0, "rate_limit": 1.0}
    # Each request counted without Redis; the lookup and the registration of the query.
    assert fallbacks == {"persisted_queries": 2.0, "rate_limit": 4.0}


async def test_workers_go_on_while_redis_is_cut_off_and_share_again_when_it_is_back(
    seeded_url: str, redis_target: RedisTarget, proxy: RedisProxy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="scholargraph.redis")
    shared = sharing(proxy.url, redis_target.prefix)
    async with worker(seeded_url, **shared) as first, worker(seeded_url, **shared) as second:
        await register(first)
        await proxy.stop()
        # The worker that registered it still runs it by hash; the other asks for the query.
        during = [await by_hash(first), await by_hash(second)]
        await proxy.start()
        await asyncio.sleep(1.1)  # past the second a worker waits before trying Redis again
        after = await by_hash(second)
        outages = await samples(second, "scholargraph_redis_outages_total")
    assert [answer(r) for r in during] == [(200, DATA), (200, NOT_FOUND)]
    assert all("x-ratelimit-remaining" in r.headers for r in during)  # counted in memory
    assert answer(after) == (200, DATA)
    messages = [r.getMessage() for r in caplog.records if r.name == "scholargraph.redis"]
    assert "Redis available again for persisted_queries" in messages
    assert outages["persisted_queries"] == 1.0


async def test_a_redis_that_hangs_costs_a_miss_not_an_error(
    seeded_url: str, redis_target: RedisTarget, proxy: RedisProxy
) -> None:
    shared = sharing(proxy.url, redis_target.prefix, **LIMITS)
    async with worker(seeded_url, **shared) as first, worker(seeded_url, **shared) as second:
        registered = await register(first)
        proxy.stall()
        hung = await by_hash(second)
        outages = await samples(second, "scholargraph_redis_outages_total")
    assert answer(registered) == (200, DATA)
    assert answer(hung) == (200, NOT_FOUND)
    assert hung.headers["x-ratelimit-remaining"] == "2"  # this worker's own count: its first
    assert outages == {"persisted_queries": 1.0, "rate_limit": 1.0}


async def test_a_redis_store_named_for_the_counts_alone_is_shared_too(seeded_url: str) -> None:
    """SCHOLARGRAPH_RATE_LIMIT_STORAGE=redis://... without SCHOLARGRAPH_REDIS_URL (redis-py)."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        skip_or_fail(f"Redis at {REDIS_URL} is not reachable: {error}")
    address = f"198.51.100.{uuid.uuid4().int % 250 + 1}"  # counts of this test's own
    limits = {**LIMITS, "rate_limit_storage": REDIS_URL}
    try:
        async with (
            worker(seeded_url, address=address, **limits) as first,
            worker(seeded_url, address=address, **limits) as second,
        ):
            responses = [await register(first), await register(second), await register(first)]
            refused = await register(second)
    finally:
        keys = list(client.scan_iter(match=f"LIMITS:*{address}*"))
        if keys:
            client.delete(*keys)
        client.close()
    assert [r.headers["x-ratelimit-remaining"] for r in responses] == ["2", "1", "0"]
    assert refused.status_code == 429


def test_redis_replies_are_parsed_in_c() -> None:
    """Every request of a deployment with Redis makes a round trip to it: with redis-py's
    own Python parser a round trip took 300 us of Python, with hiredis 170; a 304 answered
    from the cache went from ~870 to ~1,060 a second at one client."""
    shared = SharedState(REDIS_URL, prefix="parser-check:")
    connection = shared.client.connection_pool.make_connection()  # type: ignore[no-untyped-call]
    assert isinstance(connection._parser, _AsyncHiredisParser)
