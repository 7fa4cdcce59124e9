"""Rate limits on /graphql: per address, per valid token, their headers, the 429, a shared store."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from limits.aio.storage import MemoryStorage
from pydantic import ValidationError
from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncEngine

from api.app import create_app
from api.settings import Settings
from db.tables import api_token
from tests.api.conftest import graphql_engines
from tests.api.live import serve
from tests.api.writes import add_token

QUERY = {"query": "{ corpus { paperCount } }"}
App = Callable[..., httpx.AsyncClient]


@asynccontextmanager
async def limited_app(
    url: str, storage: MemoryStorage | None = None, **settings: Any
) -> AsyncIterator[tuple[App, AsyncEngine]]:
    """The app with these limits; yields a maker of clients from a given address, and its engine."""
    limits = {"rate_limit_per_address": "3/minute", "rate_limit_per_token": "5/minute"}
    app = create_app(
        Settings(database_url=url, **{**limits, **settings}), rate_limit_storage=storage
    )

    def client(address: str = "192.0.2.1", token: str | None = None) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers)

    client.app = app  # type: ignore[attr-defined]  # for the engines GraphQL runs on
    async with app.router.lifespan_context(app):
        yield client, app.state.engine


def limit_headers(response: httpx.Response) -> dict[str, str]:
    return {
        name.removeprefix("x-ratelimit-"): value
        for name, value in response.headers.items()
        if name.startswith("x-ratelimit-")
    }


async def spend(client: httpx.AsyncClient, requests: int) -> list[httpx.Response]:
    return [await client.post("/graphql", json=QUERY) for _ in range(requests)]


async def test_each_answer_says_how_much_of_the_limit_is_left(database_url: str):
    async with limited_app(database_url) as (client, _engine), client() as http:
        before = time.time()
        responses = await spend(http, 3)
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert [r.json()["data"] for r in responses] == [{"corpus": {"paperCount": 0}}] * 3
    headers = [limit_headers(r) for r in responses]
    assert [(h["limit"], h["remaining"], h["used"]) for h in headers] == [
        ("3", "2", "1"),
        ("3", "1", "2"),
        ("3", "0", "3"),
    ]
    assert {h["resource"] for h in headers} == {"address"}
    assert all(before - 1 <= int(h["reset"]) <= before + 61 for h in headers)


async def test_one_request_over_the_limit_is_429_and_runs_nothing(database_url: str):
    async with limited_app(database_url) as (client, engine), client() as http:
        await spend(http, 3)
        statements: list[str] = []

        def note(*args: Any) -> None:
            statements.append(args[2])

        engines = [engine, *graphql_engines(client.app)]  # type: ignore[attr-defined]
        for each in engines:
            event.listen(each.sync_engine, "before_cursor_execute", note)
        refused = await http.post("/graphql", json=QUERY)
        for each in engines:
            event.remove(each.sync_engine, "before_cursor_execute", note)

    assert refused.status_code == 429
    assert statements == []
    [error] = refused.json()["errors"]
    assert error["extensions"] == {"code": "RATE_LIMITED"}
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert error["message"] == (
        f"Rate limit exceeded: 3 requests per minute for this address; retry after {retry_after} s."
    )
    assert limit_headers(refused)["remaining"] == "0"
    assert refused.headers["x-request-id"]  # a refusal can be traced like any answer


async def test_each_address_has_its_own_count(database_url: str):
    async with limited_app(database_url) as (client, _engine):
        async with client("192.0.2.1") as first, client("192.0.2.2") as second:
            await spend(first, 3)
            assert (await first.post("/graphql", json=QUERY)).status_code == 429
            other = await second.post("/graphql", json=QUERY)
    assert other.status_code == 200
    assert limit_headers(other)["remaining"] == "2"


async def test_a_valid_token_has_its_own_larger_limit_wherever_it_comes_from(database_url: str):
    async with limited_app(database_url) as (client, engine):
        secret = await add_token(engine, scopes=("read",))
        async with client("192.0.2.1") as anonymous:
            await spend(anonymous, 3)
        async with client("192.0.2.1", secret) as here, client("192.0.2.9", secret) as there:
            first = await spend(here, 3)
            second = await spend(there, 3)
    statuses = [r.status_code for r in first + second]
    assert statuses == [200, 200, 200, 200, 200, 429]
    assert {limit_headers(r)["resource"] for r in first + second} == {"token"}
    assert [limit_headers(r)["remaining"] for r in first + second] == ["4", "3", "2", "1", "0", "0"]
    assert "5 requests per minute for this token" in second[-1].json()["errors"][0]["message"]


@pytest.mark.parametrize("token", ["made-up", "revoked"])
async def test_an_unknown_or_revoked_token_counts_against_the_address(
    database_url: str, token: str
):
    async with limited_app(database_url) as (client, engine):
        secret = "sg_made-up-secret"
        if token == "revoked":
            secret = await add_token(engine)
            async with engine.begin() as connection:
                await connection.execute(
                    update(api_token).values(revoked_at=api_token.c.created_at)
                )
        async with client() as anonymous, client(token=secret) as pretender:
            await spend(anonymous, 3)
            refused = await pretender.post("/graphql", json=QUERY)
    assert refused.status_code == 429
    assert limit_headers(refused)["resource"] == "address"


async def test_only_graphql_is_counted(database_url: str):
    async with limited_app(database_url) as (client, _engine), client() as http:
        await spend(http, 3)
        health = await http.get("/health")
        metrics = await http.get("/metrics")
    assert health.status_code == 200
    assert limit_headers(health) == {}
    assert 'status="429"' not in metrics.text  # nothing was refused yet
    assert metrics.status_code == 200


async def test_refusals_are_counted_in_the_metrics(database_url: str):
    async with limited_app(database_url) as (client, _engine), client() as http:
        await spend(http, 4)
        metrics = await http.get("/metrics")
    assert (
        'scholargraph_http_requests_total{operation_type="none",status="429"} 1.0' in metrics.text
    )
    assert 'scholargraph_graphql_errors_total{kind="rate_limited"} 1.0' in metrics.text


async def test_the_limit_can_be_switched_off(database_url: str):
    async with limited_app(database_url, rate_limit_enabled=False) as (client, _e), client() as h:
        responses = await spend(h, 5)
    assert [r.status_code for r in responses] == [200] * 5
    assert all(limit_headers(r) == {} for r in responses)


async def test_apps_sharing_a_store_share_the_counts(database_url: str):
    """Two server processes with one shared store (Redis in production) count together."""
    storage = MemoryStorage()
    async with (
        limited_app(database_url, storage) as (first_app, _e1),
        limited_app(database_url, storage) as (second_app, _e2),
        first_app() as first,
        second_app() as second,
    ):
        await spend(first, 2)
        last = await second.post("/graphql", json=QUERY)
        refused = await first.post("/graphql", json=QUERY)
    assert limit_headers(last)["remaining"] == "0"
    assert refused.status_code == 429


async def test_a_browser_page_can_read_the_refusal(database_url: str):
    origin = "https://profiles.example.org"
    async with limited_app(database_url, cors_origins=[origin]) as (client, _e), client() as http:
        http.headers["origin"] = origin
        await spend(http, 3)
        refused = await http.post("/graphql", json=QUERY)
    assert refused.status_code == 429
    assert refused.headers["access-control-allow-origin"] == origin
    exposed = {h.strip() for h in refused.headers["access-control-expose-headers"].split(",")}
    assert {"retry-after", "x-ratelimit-remaining", "x-ratelimit-reset"} <= exposed


def test_after_retry_after_seconds_a_real_client_may_ask_again(seeded_url: str):
    """Over a socket: the address is the peer's, and waiting as told is enough.

    A sliding window weighs the previous second's requests by how much of it
    is still in the window, so across a boundary a third request may pass.
    """
    settings = Settings(database_url=seeded_url, rate_limit_per_address="2/second")
    with serve(create_app(settings)) as base, httpx.Client(base_url=base) as http:
        responses = [http.post("/graphql", json=QUERY) for _ in range(6)]
        refused = next(r for r in responses if r.status_code == 429)
        time.sleep(int(refused.headers["retry-after"]))
        again = http.post("/graphql", json=QUERY)
    assert [r.status_code for r in responses[:2]] == [200, 200]
    assert again.status_code == 200
    assert again.json()["data"] == {"corpus": {"paperCount": 50}}


@pytest.mark.parametrize(("trusted", "shared"), [("127.0.0.1", False), ("192.0.2.250", True)])
def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_count(
    seeded_url: str, trusted: str, shared: bool
):
    settings = Settings(database_url=seeded_url, rate_limit_per_address="2/minute")
    with serve(create_app(settings), forwarded_allow_ips=trusted) as base:
        with httpx.Client(base_url=base) as http:

            def ask(client: str) -> httpx.Response:
                return http.post("/graphql", json=QUERY, headers={"x-forwarded-for": client})

            first = [ask("198.51.100.1"), ask("198.51.100.1")]
            other = ask("198.51.100.2")
    assert [r.status_code for r in first] == [200, 200]
    assert other.status_code == (429 if shared else 200)


@pytest.mark.parametrize("rate", ["lots", "10/fortnight", "10/second;100/minute"])
def test_a_rate_that_is_not_one_rate_is_refused_at_start(rate: str):
    with pytest.raises(ValidationError, match="is not one rate such as 600/minute"):
        Settings(rate_limit_per_address=rate)
