"""Every limit at its edge: just under passes, just over is refused with a clear message."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.settings import Settings
from db.queries import researchers as researcher_queries
from tests.api.conftest import patch_researcher_lookups

LIMITS = {"max_depth": 4, "max_aliases": 2, "max_tokens": 40, "max_cost": 120}


@pytest.fixture
async def limited(seeded_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async for client in client_with(seeded_url, **LIMITS):
        yield client


async def client_with(url: str, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=url, **settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def post(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = response.json()
    return body


def message(body: dict[str, Any]) -> str:
    [error] = body["errors"]
    return str(error["message"])


async def test_depth_at_the_limit_passes_and_one_more_is_refused(
    limited: httpx.AsyncClient,
) -> None:
    # Depth counts from 0 at the root field: position is at depth 4.
    at_limit = '{ researcher(slug: "david-bau") { papers { nodes { authors { position } } } } }'
    over = (
        '{ researcher(slug: "david-bau") { papers { nodes { authors { researcher { slug } } } } } }'
    )
    assert "errors" not in await post(limited, at_limit)
    assert message(await post(limited, over)) == (
        "'anonymous' exceeds maximum operation depth of 4 (it is 5 deep)"
    )


async def test_aliases_at_the_limit_pass_and_one_more_is_refused(
    limited: httpx.AsyncClient,
) -> None:
    two = "{ a: corpus { paperCount } b: corpus { paperCount } }"
    three = "{ a: corpus { paperCount } b: corpus { paperCount } c: corpus { paperCount } }"
    assert "errors" not in await post(limited, two)
    assert message(await post(limited, three)) == "3 aliases found. Allowed: 2"


async def test_tokens_at_the_limit_pass_and_one_more_is_refused(
    limited: httpx.AsyncClient,
) -> None:
    fields = "{ corpus { " + " ".join(["paperCount"] * 35) + " } }"  # 40 tokens
    assert "errors" not in await post(limited, fields)
    longer = fields.replace("paperCount }", "paperCount paperCount }")
    assert message(await post(limited, longer)) == (
        "Syntax Error: Document contains more than 40 tokens. Parsing aborted."
    )


async def test_an_accepted_query_reports_its_cost(limited: httpx.AsyncClient) -> None:
    single = '{ researcher(slug: "david-bau") { papers(first: 10) { nodes { title } } } }'
    assert (await post(limited, single))["extensions"] == {"cost": {"nodes": 10, "limit": 120}}
    nested = "{ researchers(first: 10) { nodes { papers(first: 11) { totalCount } } } }"
    assert (await post(limited, nested))["extensions"] == {"cost": {"nodes": 120, "limit": 120}}


async def test_a_query_over_budget_is_refused_before_any_sql(
    limited: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_sql(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("no statement may run for a refused query")

    monkeypatch.setattr(researcher_queries, "researchers_select", no_sql)
    over = "{ researchers(first: 10) { nodes { papers(first: 12) { totalCount } } } }"
    body = await post(limited, over)
    assert "data" not in body  # refused before execution: a request error
    [error] = body["errors"]
    assert error["message"] == (
        "This query may return 130 nodes; the limit is 120. "
        "Ask for fewer items with first/last, or split the query."
    )
    assert error["extensions"] == {"code": "QUERY_TOO_COSTLY", "cost": 130, "limit": 120}


async def test_variables_and_fragments_count_toward_the_cost(limited: httpx.AsyncClient) -> None:
    query = """
    query($n: Int) { researchers(first: $n) { ...Authored } }
    fragment Authored on ResearcherConnection { nodes { papers(first: 5) { totalCount } } }
    """
    assert (await post(limited, query, n=20))["extensions"]["cost"]["nodes"] == 120
    refused = await post(limited, query, n=21)
    assert refused["errors"][0]["extensions"]["cost"] == 126


async def test_a_body_over_the_limit_is_refused_with_413(seeded_url: str) -> None:
    async for client in client_with(seeded_url, max_body_bytes=200):
        query = "{ corpus { paperCount } }"
        filler = " " * (200 - len(f'{{"query": "{query}"}}'))
        fits = await client.post(
            "/graphql",
            content=f'{{"query": "{query}{filler}"}}',
            headers={"content-type": "application/json"},
        )
        too_big = await client.post(
            "/graphql",
            content=f'{{"query": "{query}{filler} "}}',
            headers={"content-type": "application/json"},
        )
    assert fits.status_code == 200
    assert too_big.status_code == 413
    assert too_big.json() == {
        "errors": [
            {
                "message": "The request body is over 200 bytes.",
                "extensions": {"code": "BODY_TOO_LARGE"},
            }
        ]
    }


async def test_a_request_over_the_time_limit_ends_with_a_timeout_error(
    seeded_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def slowed(original: Callable[..., Any]) -> Callable[..., Any]:
        async def slow(*args: Any, **kwargs: Any) -> Any:
            await asyncio.sleep(1)
            return await original(*args, **kwargs)

        return slow

    patch_researcher_lookups(monkeypatch, slowed)
    async for client in client_with(seeded_url, request_timeout_s=0.2):
        response = await client.post(
            "/graphql", json={"query": '{ researcher(slug: "david-bau") { name } }'}
        )
    assert response.status_code == 503
    assert response.json() == {
        "errors": [
            {
                "message": "The request took longer than 0.2 s and was stopped.",
                "extensions": {"code": "TIMEOUT"},
            }
        ]
    }


async def test_an_unexpected_error_is_masked_logged_and_named_by_request_id(
    seeded_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("secret SQL: SELECT * FROM api_token")

    patch_researcher_lookups(monkeypatch, lambda _original: broken)
    async for client in client_with(seeded_url):
        with caplog.at_level(logging.ERROR, logger="scholargraph.errors"):
            response = await client.post(
                "/graphql",
                json={"query": '{ researcher(slug: "david-bau") { name } }'},
                headers={"x-request-id": "report-42"},
            )
    assert response.headers["x-request-id"] == "report-42"
    assert response.json()["errors"] == [
        {
            "message": "Unexpected error.",
            "locations": [{"line": 1, "column": 3}],
            "path": ["researcher"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "report-42"},
        }
    ]
    assert "secret" not in response.text
    [record] = caplog.records
    assert record.getMessage() == "unexpected error at researcher (request report-42)"
    assert record.exc_info is not None
    assert "secret SQL" in str(record.exc_info[1])


async def test_every_response_gets_a_request_id_and_forged_ones_are_replaced(
    limited: httpx.AsyncClient,
) -> None:
    made = await limited.get("/health")
    forged = await limited.get("/health", headers={"x-request-id": "a\nb"})
    assert len(made.headers["x-request-id"]) == 32
    assert forged.headers["x-request-id"] != "a\nb"
