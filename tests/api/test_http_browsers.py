"""Browsers: CORS only for the configured origins, none at all by default."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from api.app import create_app
from api.settings import Settings

ALLOWED = "https://app.example"
QUERY = {"query": "{ corpus { paperCount } }"}
PREFLIGHT = {
    "access-control-request-method": "POST",
    "access-control-request-headers": "authorization, content-type",
}


async def client_for(url: str, origins: list[str]) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=url, cors_origins=origins))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


@pytest.fixture
async def closed(seeded_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async for client in client_for(seeded_url, []):
        yield client


@pytest.fixture
async def open_to_app(seeded_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async for client in client_for(seeded_url, [ALLOWED]):
        yield client


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


async def test_without_configured_origins_no_cors_headers_are_sent(
    closed: httpx.AsyncClient,
) -> None:
    simple = await closed.post("/graphql", json=QUERY, headers={"origin": ALLOWED})
    preflight = await closed.options("/graphql", headers={"origin": ALLOWED, **PREFLIGHT})
    assert simple.status_code == 200
    assert cors_headers(simple) == {}
    assert preflight.status_code == 405
    assert cors_headers(preflight) == {}


async def test_a_configured_origin_passes_the_preflight(open_to_app: httpx.AsyncClient) -> None:
    response = await open_to_app.options("/graphql", headers={"origin": ALLOWED, **PREFLIGHT})
    assert response.status_code == 200
    assert cors_headers(response) == {
        "access-control-allow-origin": ALLOWED,
        "access-control-allow-methods": "GET, POST",
        "access-control-allow-headers": (
            "Accept, Accept-Language, Content-Language, Content-Type, "
            "authorization, content-type, x-request-id"
        ),
        "access-control-max-age": "600",
    }


async def test_a_configured_origin_may_read_the_answer_and_its_request_id(
    open_to_app: httpx.AsyncClient,
) -> None:
    response = await open_to_app.post("/graphql", json=QUERY, headers={"origin": ALLOWED})
    assert response.status_code == 200
    assert cors_headers(response) == {
        "access-control-allow-origin": ALLOWED,
        "access-control-expose-headers": (
            "x-request-id, etag, retry-after, x-ratelimit-limit, x-ratelimit-remaining, "
            "x-ratelimit-used, x-ratelimit-reset, x-ratelimit-resource"
        ),
    }
    assert response.headers["vary"] == "Origin"


async def test_another_origin_is_refused_the_preflight_and_may_not_read_answers(
    open_to_app: httpx.AsyncClient,
) -> None:
    evil = "https://evil.example"
    preflight = await open_to_app.options("/graphql", headers={"origin": evil, **PREFLIGHT})
    simple = await open_to_app.post("/graphql", json=QUERY, headers={"origin": evil})
    assert (preflight.status_code, preflight.text) == (400, "Disallowed CORS origin")
    assert "access-control-allow-origin" not in preflight.headers
    # Without an allow-origin naming it, the page cannot read the answer.
    assert "access-control-allow-origin" not in simple.headers


def test_origins_are_read_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHOLARGRAPH_CORS_ORIGINS", '["https://a.example", "https://b.example"]')
    assert Settings().cors_origins == ["https://a.example", "https://b.example"]
