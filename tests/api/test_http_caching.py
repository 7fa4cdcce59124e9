"""Automatic persisted queries (Apollo's protocol), GET for them, and HTTP caching of reads."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.persisted import LruQueryStore
from api.settings import Settings

PROFILE = 'query Profile { researcher(slug: "david-bau") { name } }'
PROFILE_HASH = hashlib.sha256(PROFILE.encode()).hexdigest()
PROFILE_DATA = {"researcher": {"name": "David Bau"}}
NOT_FOUND = {
    "errors": [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ]
}
GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.fixture
async def client(seeded_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=seeded_url, cache_max_age_s=90))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


def persisted(sha256_hash: str = PROFILE_HASH, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha256_hash}}


async def get_persisted(
    client: httpx.AsyncClient, *, headers: dict[str, str] | None = None, **params: Any
) -> httpx.Response:
    query = {"extensions": json.dumps(persisted())}
    query.update({name: json.dumps(value) for name, value in params.items()})
    return await client.get("/graphql", params=query, headers=headers or {})


def without_cost(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "extensions"}


async def test_an_unknown_hash_asks_for_the_query_then_the_hash_alone_runs_it(
    client: httpx.AsyncClient,
) -> None:
    unknown = await get_persisted(client)
    registered = await client.post("/graphql", json={"query": PROFILE, "extensions": persisted()})
    by_hash = await client.post("/graphql", json={"extensions": persisted()})
    assert (unknown.status_code, unknown.json()) == (200, NOT_FOUND)
    assert unknown.headers["cache-control"] == "no-store"
    assert registered.status_code == 200
    assert without_cost(registered.json()) == {"data": PROFILE_DATA}
    assert by_hash.status_code == 200
    assert without_cost(by_hash.json()) == {"data": PROFILE_DATA}


async def test_not_found_stays_200_for_graphql_response_json_clients(
    client: httpx.AsyncClient,
) -> None:
    # Apollo clients read the error from the body and retry; a 400 would hide it behind an error.
    response = await get_persisted(client, headers={"accept": GRAPHQL_RESPONSE})
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert response.json() == NOT_FOUND


async def test_a_query_that_does_not_match_its_hash_is_refused_and_not_stored(
    client: httpx.AsyncClient,
) -> None:
    other = '{ researcher(slug: "renee-j-miller") { name } }'
    refused = await client.post("/graphql", json={"query": other, "extensions": persisted()})
    after = await client.post("/graphql", json={"extensions": persisted()})
    assert refused.status_code == 400
    assert refused.json() == {
        "errors": [
            {
                "message": "persistedQuery.sha256Hash is not the SHA-256 of the query.",
                "extensions": {"code": "PERSISTED_QUERY_INVALID"},
            }
        ]
    }
    assert after.json() == NOT_FOUND


async def test_only_version_1_of_the_protocol_is_understood(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": PROFILE, "extensions": persisted(version=2)}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == (
        "Unsupported persisted query version; send version 1."
    )


async def test_a_persisted_get_is_public_for_max_age_with_an_etag_of_its_body(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/graphql", json={"query": PROFILE, "extensions": persisted()})
    response = await get_persisted(client)
    assert response.status_code == 200
    assert without_cost(response.json()) == {"data": PROFILE_DATA}
    assert response.headers["cache-control"] == "public, max-age=90"
    assert response.headers["vary"] == "Accept"
    expected_tag = hashlib.sha256(response.content).hexdigest()[:32]
    assert response.headers["etag"] == f'"{expected_tag}"'


async def test_a_get_with_variables_runs_the_persisted_query_with_them(
    client: httpx.AsyncClient,
) -> None:
    query = "query Named($slug: String!) { researcher(slug: $slug) { name } }"
    sha256_hash = hashlib.sha256(query.encode()).hexdigest()
    await client.post("/graphql", json={"query": query, "extensions": persisted(sha256_hash)})
    response = await client.get(
        "/graphql",
        params={
            "extensions": json.dumps(persisted(sha256_hash)),
            "variables": json.dumps({"slug": "david-bau"}),
        },
    )
    assert without_cost(response.json()) == {"data": PROFILE_DATA}
    assert response.headers["cache-control"] == "public, max-age=90"


async def test_if_none_match_with_the_current_tag_gets_304_without_a_body(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/graphql", json={"query": PROFILE, "extensions": persisted()})
    first = await get_persisted(client)
    again = await get_persisted(client, headers={"if-none-match": first.headers["etag"]})
    weak = await get_persisted(client, headers={"if-none-match": f"W/{first.headers['etag']}"})
    stale = await get_persisted(client, headers={"if-none-match": '"0123"'})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == "public, max-age=90"
    assert "x-request-id" in again.headers
    assert weak.status_code == 304
    assert stale.status_code == 200
    assert stale.content == first.content


async def test_a_plain_get_query_is_cacheable_too(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql", params={"query": PROFILE}, headers={"accept": "application/json"}
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=90"
    assert response.headers["etag"].startswith('"')


@pytest.mark.parametrize(
    ("method", "query", "headers"),
    [
        pytest.param("POST", PROFILE, {}, id="post"),
        pytest.param("GET", '{ researcher(slug: "a", orcid: "b") { name } }', {}, id="errors"),
        pytest.param("GET", "{ nope }", {}, id="request-error"),
        pytest.param("GET", PROFILE, {"authorization": "Bearer sg_x"}, id="authorization"),
    ],
)
async def test_posts_errors_and_callers_with_a_token_are_not_stored(
    client: httpx.AsyncClient, method: str, query: str, headers: dict[str, str]
) -> None:
    if method == "POST":
        response = await client.post("/graphql", json={"query": query}, headers=headers)
    else:
        response = await client.get(
            "/graphql", params={"query": query}, headers={"accept": "application/json", **headers}
        )
    assert response.headers["cache-control"] == "no-store"
    assert "etag" not in response.headers


async def test_a_browser_visit_still_gets_graphiql(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")


async def test_a_persisted_get_from_a_client_accepting_anything_is_not_sent_graphiql(
    client: httpx.AsyncClient,
) -> None:
    response = await get_persisted(client, headers={"accept": "*/*"})
    assert response.json() == NOT_FOUND


def test_the_store_keeps_the_most_recently_used_documents() -> None:
    store = LruQueryStore(maxsize=2)
    store.put("a", "{ a }")
    store.put("b", "{ b }")
    assert store.get("a") == "{ a }"  # now b is the least recently used
    store.put("c", "{ c }")
    assert (store.get("a"), store.get("b"), store.get("c")) == ("{ a }", None, "{ c }")
