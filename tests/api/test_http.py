"""GraphQL over HTTP: media types, status codes, methods, and the graphql-http audit suite."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.settings import Settings
from tests.api.conftest import GraphQLClient
from tests.api.live import serve
from tests.support import skip_or_fail

AUDIT = Path(__file__).resolve().parents[1] / "http_audit"
GRAPHQL_RESPONSE = "application/graphql-response+json"


async def post(client: GraphQLClient, body: object, accept: str) -> httpx.Response:
    return await client.http.post("/graphql", json=body, headers={"accept": accept})


async def test_a_client_that_accepts_graphql_response_json_gets_it(seeded: GraphQLClient) -> None:
    response = await post(seeded, {"query": "{ corpus { paperCount } }"}, GRAPHQL_RESPONSE)
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert response.json()["data"] == {"corpus": {"paperCount": 50}}


@pytest.mark.parametrize(
    "body",
    [
        {"query": "{ corpus { "},  # does not parse
        {"query": "{ corpus { nope } }"},  # does not validate
        {"query": "query($n: Int!) { papers(first: $n) { totalCount } }", "variables": {"n": "x"}},
    ],
)
async def test_a_request_error_is_400_without_data_for_graphql_response_json(
    seeded: GraphQLClient, body: dict[str, object]
) -> None:
    strict = await post(seeded, body, GRAPHQL_RESPONSE)
    legacy = await post(seeded, body, "application/json")
    assert strict.status_code == 400
    assert "data" not in strict.json()
    assert strict.json()["errors"]
    assert legacy.status_code == 200
    assert legacy.headers["content-type"] == "application/json"


async def test_a_field_error_keeps_200_and_the_data_there_is(seeded: GraphQLClient) -> None:
    body = {"query": '{ corpus { paperCount } researcher(slug: "a", orcid: "b") { id } }'}
    response = await post(seeded, body, GRAPHQL_RESPONSE)
    assert response.status_code == 200
    assert response.json()["data"] == {"corpus": {"paperCount": 50}, "researcher": None}


async def test_mutations_are_refused_over_get(seeded: GraphQLClient) -> None:
    query = 'mutation { createResearcher(input: {name: "X"}) { userErrors { message } } }'
    response = await seeded.http.get(
        "/graphql", params={"query": query}, headers={"accept": "application/json"}
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.text == "mutations are not allowed when using GET"


async def test_other_methods_are_refused_with_the_methods_that_would_do(seeded: GraphQLClient):
    response = await seeded.http.put("/graphql", json={"query": "{ corpus { paperCount } }"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


async def test_multipart_uploads_are_off(seeded: GraphQLClient) -> None:
    response = await seeded.http.post(
        "/graphql",
        files={"operations": (None, json.dumps({"query": "{ corpus { paperCount } }"}))},
    )
    assert response.status_code == 400


def run_audit(url: str) -> list[dict[str, str]]:
    node = shutil.which("node")
    if node is None or not (AUDIT / "node_modules" / "graphql-http").is_dir():
        skip_or_fail("node or the audit's npm packages are missing (make test installs them)")
    done = subprocess.run(
        [node, str(AUDIT / "audit.mjs"), url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_the_graphql_over_http_audit_passes_every_check(seeded_url: str) -> None:
    with serve(create_app(Settings(database_url=seeded_url))) as base:
        results = run_audit(f"{base}/graphql")
    not_ok = [f"{r['status']}: {r['name']} ({r['reason']})" for r in results if r["status"] != "ok"]
    assert not_ok == []
    assert len(results) == 61
