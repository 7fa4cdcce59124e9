"""Operations: one JSON log line per request, masked errors logged by id, /metrics."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.observability import JsonFormatter
from api.settings import Settings
from tests.api.conftest import patch_researcher_lookups

PROFILE = """
query Profile {
  researcher(slug: "david-bau") {
    name
    papers(first: 5) { nodes { title authors { displayName } institutions { name } } }
  }
}
"""


@pytest.fixture
async def client(seeded_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=seeded_url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


Lines = Callable[..., list[dict[str, Any]]]


@pytest.fixture
def json_log() -> Iterator[Lines]:
    """Our loggers' lines as `scholargraph serve` writes them (formatted while the request runs)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("scholargraph")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    def lines(name: str = "scholargraph.requests") -> list[dict[str, Any]]:
        parsed = [json.loads(line) for line in stream.getvalue().splitlines()]
        return [line for line in parsed if line["logger"] == name]

    yield lines
    logger.removeHandler(handler)
    logger.setLevel(level)


def samples(text: str) -> dict[str, float]:
    """Prometheus text format: `name{labels} value` lines as a dict."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            found[name] = float(value)
    return found


async def test_each_request_is_logged_as_one_json_line(
    client: httpx.AsyncClient, json_log: Lines
) -> None:
    response = await client.post(
        "/graphql", json={"query": PROFILE}, headers={"x-request-id": "trace-7"}
    )
    [line] = json_log()
    assert response.status_code == 200
    assert isinstance(line.pop("duration_ms"), float)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line.pop("time"))
    assert line == {
        "level": "INFO",
        "logger": "scholargraph.requests",
        "message": "POST /graphql 200",
        "request_id": "trace-7",
        "method": "POST",
        "path": "/graphql",
        "status": 200,
        "operation_name": "Profile",
        "operation_type": "query",
        # the researcher; the page of papers; authors and institutions, batched
        "sql_statements": 4,
        "errors": [],
    }


async def test_the_statement_count_is_per_request(
    client: httpx.AsyncClient, json_log: Lines
) -> None:
    await client.post("/graphql", json={"query": PROFILE})
    await client.get("/health")
    await client.post("/graphql", json={"query": PROFILE})
    assert [line["sql_statements"] for line in json_log()] == [4, 0, 4]


async def test_requests_refused_before_graphql_are_logged_too(
    client: httpx.AsyncClient, json_log: Lines
) -> None:
    await client.put("/graphql")
    await client.get("/nowhere")
    assert [
        (line["method"], line["path"], line["status"], line["operation_type"])
        for line in json_log()
    ] == [("PUT", "/graphql", 405, None), ("GET", "/nowhere", 404, None)]


async def test_a_masked_error_is_logged_with_its_traceback_under_the_request_id(
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    json_log: Lines,
) -> None:
    async def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("secret SQL: SELECT * FROM api_token")

    patch_researcher_lookups(monkeypatch, lambda _original: broken)
    response = await client.post(
        "/graphql",
        json={"query": '{ researcher(slug: "david-bau") { name } }'},
        headers={"x-request-id": "report-9"},
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "report-9"
    [error] = response.json()["errors"]
    assert error["message"] == "Unexpected error."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "report-9"}
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    [fault] = json_log("scholargraph.errors")
    assert fault["request_id"] == "report-9"
    assert (fault["level"], fault["message"]) == (
        "ERROR",
        "unexpected error at researcher (request report-9)",
    )
    assert fault["traceback"].startswith("Traceback (most recent call last):")
    assert fault["traceback"].endswith("RuntimeError: secret SQL: SELECT * FROM api_token")
    [line] = json_log()
    assert (line["request_id"], line["errors"]) == ("report-9", ["masked"])


async def test_validation_and_user_errors_stay_readable(client: httpx.AsyncClient) -> None:
    validation = await client.post("/graphql", json={"query": "{ nope }"})
    user = await client.post(
        "/graphql", json={"query": '{ researcher(slug: "a", orcid: "b") { name } }'}
    )
    assert validation.json()["errors"][0]["message"] == (
        "Cannot query field 'nope' on type 'Query'. Did you mean 'node' or 'nodes'?"
    )
    assert user.json()["errors"][0]["message"] == "Give exactly one of id, slug and orcid."
    assert user.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}


async def test_metrics_count_requests_latency_and_errors_by_kind(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await client.post("/graphql", json={"query": PROFILE})
    await client.post("/graphql", json={"query": "{ nope }"})
    await client.post("/graphql", json={"query": '{ researcher(slug: "a", orcid: "b") { id } }'})
    await client.get("/health")

    async def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("boom")

    patch_researcher_lookups(monkeypatch, lambda _original: broken)
    await client.post("/graphql", json={"query": '{ researcher(slug: "x") { name } }'})
    page = await client.get("/metrics")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    found = samples(page.text)
    ours = {name: value for name, value in found.items() if "_total{" in name}
    assert ours == {
        'scholargraph_http_requests_total{operation_type="query",status="200"}': 4.0,
        'scholargraph_http_requests_total{operation_type="none",status="200"}': 1.0,
        'scholargraph_graphql_errors_total{kind="validation"}': 1.0,
        'scholargraph_graphql_errors_total{kind="user"}': 1.0,
        'scholargraph_graphql_errors_total{kind="masked"}': 1.0,
    }
    assert found['scholargraph_http_request_duration_seconds_count{operation_type="query"}'] == 4
    assert found['scholargraph_http_request_duration_seconds_count{operation_type="none"}'] == 1
    assert "process_resident_memory_bytes" in found


async def test_a_mutation_is_counted_as_a_mutation(client: httpx.AsyncClient) -> None:
    # No token: refused, but it was a mutation that reached execution.
    await client.post(
        "/graphql",
        json={"query": 'mutation { createResearcher(input: {name: "X"}) { userErrors { code } } }'},
    )
    found = samples((await client.get("/metrics")).text)
    assert found['scholargraph_http_requests_total{operation_type="mutation",status="200"}'] == 1


async def test_every_app_counts_for_itself(seeded_url: str) -> None:
    # Metrics live in a registry per app (per process in production), not a global one.
    first, second = (create_app(Settings(database_url=seeded_url)) for _ in range(2))
    transport = httpx.ASGITransport(app=first)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        await http.get("/health")
    assert first.state.metrics.registry is not second.state.metrics.registry
