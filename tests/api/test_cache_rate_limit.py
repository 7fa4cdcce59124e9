"""Answers from the response cache count against the rate limit like any other request.

With Redis, a request the cache may answer is counted and looked up in one
call (api.ratelimit's COUNT_AND_LOOK_UP): these tests hold that a hit, a 304
and a refusal say the same as they would with the two done apart.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from api.app import create_app
from api.settings import Settings
from tests.conftest import RedisTarget

QUERY = 'query Name { researcher(slug: "david-bau") { name } }'
DATA = {"researcher": {"name": "David Bau"}}


@asynccontextmanager
async def worker(database_url: str, redis: RedisTarget) -> AsyncIterator[httpx.AsyncClient]:
    """One app (one worker) counting and caching in the test's Redis, 3 requests a minute."""
    settings = Settings(
        database_url=database_url,
        redis_url=redis.url,
        redis_prefix=redis.prefix,
        rate_limit_per_address="3/minute",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


def seen(response: httpx.Response) -> tuple[int, str | None, str | None]:
    """Status, what the cache said, and what is left of the limit."""
    headers = response.headers
    return (
        response.status_code,
        headers.get("x-scholargraph-cache"),
        headers.get("x-ratelimit-remaining"),
    )


async def post(http: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await http.post("/graphql", json={"query": QUERY, **body})


async def test_hits_are_counted_and_the_limit_refuses_a_cached_answer(
    seeded_url: str, redis_target: RedisTarget
) -> None:
    async with worker(seeded_url, redis_target) as http:
        responses = [await post(http) for _ in range(4)]
    assert [seen(r) for r in responses[:3]] == [
        (200, "miss", "2"),
        (200, "hit", "1"),
        (200, "hit", "0"),
    ]
    assert [r.json()["data"] for r in responses[:3]] == [DATA] * 3
    refused = responses[3]
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert int(refused.headers["retry-after"]) >= 1


async def test_a_304_from_the_cache_is_counted_and_says_so(
    seeded_url: str, redis_target: RedisTarget
) -> None:
    async with worker(seeded_url, redis_target) as http:
        first = await http.get("/graphql", params={"query": QUERY})
        tag = first.headers["etag"]
        revalidated = await http.get(
            "/graphql", params={"query": QUERY}, headers={"If-None-Match": tag}
        )
        changed = await http.get(
            "/graphql", params={"query": QUERY}, headers={"If-None-Match": '"other"'}
        )
    assert seen(first) == (200, "miss", "2")
    assert seen(revalidated) == (304, "hit", "1")
    assert revalidated.content == b""
    assert revalidated.headers["etag"] == tag
    # What caches need to keep using their copy, as the 200 said it (RFC 9110, 15.4.5).
    for header in ("cache-control", "vary"):
        assert revalidated.headers[header] == first.headers[header]
    assert seen(changed) == (200, "hit", "0")
    assert changed.json()["data"] == DATA


async def test_workers_count_their_hits_together(
    seeded_url: str, redis_target: RedisTarget
) -> None:
    async with (
        worker(seeded_url, redis_target) as first,
        worker(seeded_url, redis_target) as second,
    ):
        on_first = [await post(first), await post(first)]
        on_second = [await post(second), await post(second)]
    assert [seen(r) for r in [*on_first, on_second[0]]] == [
        (200, "miss", "2"),
        (200, "hit", "1"),
        (200, "hit", "0"),
    ]
    assert on_second[1].status_code == 429


async def test_a_request_the_cache_cannot_answer_reaches_the_query_with_its_body(
    seeded_url: str, redis_target: RedisTarget
) -> None:
    async with worker(seeded_url, redis_target) as http:
        named = await post(http, operationName="Name", extensions={"cache": True})
        broken = await http.post(
            "/graphql", content=b'{"query": ', headers={"content-type": "application/json"}
        )
    assert seen(named) == (200, "miss", "2")
    assert (named.json()["data"], named.json()["extensions"]["cache"]) == (DATA, "miss")
    assert (broken.status_code, broken.headers["x-ratelimit-remaining"]) == (400, "1")
