"""Small anonymous requests built to take the server: each is refused or bounded.

Each case replays one found by trying the API as an attacker would (a 1 KB
document that costs exponential time to check, a cost that undercounts, an
N+1 list), on both databases, through HTTP. Time is never asserted: the tests
count the work done (statements, calls, figures in the answer) instead.
"""

from __future__ import annotations

import gc
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event

import schema.compiled
import schema.node
from api.app import create_app
from api.settings import Settings
from resolvers.metrics import PaperFacts
from resolvers.nodes import encode_global_id
from schema.plans import MAX_SELECTIONS


@pytest.fixture
async def client(seeded_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async for made in client_with(seeded_url):
        yield made


async def client_with(url: str, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=url, rate_limit_enabled=False, **settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as made:
            made.app = app  # type: ignore[attr-defined]
            yield made


async def post(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = response.json()
    return body


def fan_out(levels: int, leaf: str = "__typename") -> str:
    """Fragment F0 spreads F1 twice, F1 spreads F2 twice, ...: 2**levels leaves, O(levels) text."""
    fragments = " ".join(
        f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)
    )
    return f"query {{ ...F0 }} {fragments} fragment F{levels} on Query {{ {leaf} }}"


async def test_a_fragment_fan_out_is_checked_once_per_fragment(
    client: httpx.AsyncClient,
) -> None:
    document = fan_out(30)
    assert len(document) < 1500
    body = await post(client, document)
    # 2**30 spreads: walking each would take days; the answer merges them into one field.
    assert body["data"] == {"__typename": "Query"}
    assert body["extensions"]["cost"]["nodes"] == 0


async def test_aliases_behind_a_fan_out_are_counted_at_every_spread(
    client: httpx.AsyncClient,
) -> None:
    body = await post(client, fan_out(20, leaf="a: __typename"))
    [error] = body["errors"]
    assert error["message"] == f"{2**20} aliases found. Allowed: 30"
    assert error["extensions"] == {"code": "TOO_MANY_ALIASES"}


async def test_connections_behind_a_fan_out_multiply_the_cost(
    client: httpx.AsyncClient,
) -> None:
    body = await post(client, fan_out(25, leaf="papers(first: 1) { totalCount }"))
    [error] = body["errors"]
    # The spreads merge into one field when run, yet each may ask for its own page:
    # counting every spread keeps the figure an upper bound.
    assert error["extensions"]["cost"] == 2**25
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"


VARIABLE_DEFAULTS = """
query($n: Int = 100) {
  researchers(first: $n) {
    nodes { papers(first: $n) { totalCount } coauthors(first: $n) { totalCount } }
  }
}
"""
LITERALS = VARIABLE_DEFAULTS.replace("$n", "100").replace("(100: Int = 100)", "")


async def test_variable_defaults_cost_what_the_same_literals_cost(seeded_url: str) -> None:
    async for client in client_with(seeded_url, max_cost=20_000):
        by_default = await post(client, VARIABLE_DEFAULTS)
        by_literal = await post(client, LITERALS)
    assert by_default["errors"][0]["extensions"]["cost"] == 20_100
    assert by_literal["errors"][0]["extensions"]["cost"] == 20_100


@pytest.mark.parametrize("size", [-2_000_000, -1, 101])
async def test_a_page_size_out_of_range_is_refused_even_under_a_null_parent(
    client: httpx.AsyncClient, size: int
) -> None:
    query = f'{{ researcher(slug: "no-such-person") {{ papers(first: {size}) {{ totalCount }} }} }}'
    body = await post(client, query)
    assert "data" not in body
    [error] = body["errors"]
    assert error["message"] == f"first must be between 0 and 100; got {size}."
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}


async def test_lists_that_are_not_connections_count_with_the_longest_list_stored(
    client: httpx.AsyncClient,
) -> None:
    one_byline = await post(client, "{ papers(first: 1) { nodes { authors { position } } } }")
    longest = one_byline["extensions"]["cost"]["nodes"] - 1  # the seed's longest byline
    assert longest >= 2
    nested = """{ researchers(first: 20) { nodes { metrics { hCore { authors {
      researcher { metrics { hCore { authors { position } } } } } } } } } }"""
    body = await post(client, nested)
    # The seed has no citation counts, so every hCore holds at most 1 (its bound is >= 1):
    # per researcher 1 paper + its authors + each author's hCore paper + that paper's authors.
    per_researcher = 1 + longest + longest * (1 + longest)
    assert body["extensions"]["cost"]["nodes"] == 20 + 20 * per_researcher


def statements_into(statements: list[str]) -> Any:
    def count(*args: Any) -> None:
        statements.append(args[2])

    return count


async def test_nodes_takes_at_most_100_ids_and_loads_them_in_one_statement_per_type(
    seeded_url: str,
) -> None:
    async for client in client_with(seeded_url):
        engine = client.app.state.graphql_engine  # type: ignore[attr-defined]
        ids = [encode_global_id("Paper", n) for n in range(1, 51)]
        ids += [encode_global_id("Researcher", n) for n in range(1, 51)]
        statements: list[str] = []
        count = statements_into(statements)

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        try:
            body = await post(client, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", ids=ids)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", count)
        assert [node["id"] for node in body["data"]["nodes"]] == ids
        assert len([s for s in statements if "FROM paper" in s or "FROM researcher" in s]) == 2
        refused = await post(
            client, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", ids=[*ids, ids[0]]
        )
        assert "data" not in refused
        assert refused["errors"][0]["message"] == "nodes takes at most 100 IDs at a time; got 101."


async def test_work_that_never_awaits_stops_at_the_time_limit(
    seeded_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0
    original = schema.node.encode_global_id

    def slow_encode(type_name: str, db_id: int) -> str:
        nonlocal calls
        calls += 1
        spin_until = time.monotonic() + 0.05  # CPU work with no await: no asyncio timeout fires
        while time.monotonic() < spin_until:
            pass
        return original(type_name, db_id)

    # Every executor that makes ids: compiled reads, the lean executor and the reference.
    monkeypatch.setattr(schema.node, "encode_global_id", slow_encode)
    monkeypatch.setattr(schema.compiled, "encode_global_id", slow_encode)
    async for client in client_with(seeded_url, request_timeout_s=0.2):
        response = await client.post(
            "/graphql", json={"query": "{ papers(first: 50) { nodes { id } } }"}
        )
    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"] == {"code": "TIMEOUT"}
    # Without the deadline every one of the 50 ids would be made before the answer.
    assert calls < 10


async def test_a_document_too_large_to_check_is_refused_with_a_reason(
    client: httpx.AsyncClient,
) -> None:
    body = await post(client, "{ " + " ".join(["__typename"] * 1990) + " }")
    assert body["errors"] == [
        {
            "message": "This document is too large to check: too many fields in one selection, "
            "or nested too deeply. Ask for fewer fields at once, or split the query.",
            "extensions": {"code": "DOCUMENT_TOO_COMPLEX"},
        }
    ]


async def test_a_selection_is_checked_only_up_to_its_size_limit(client: httpx.AsyncClient) -> None:
    widest = " ".join(["__typename"] * MAX_SELECTIONS)
    assert (await post(client, f"{{ {widest} }}"))["data"] == {"__typename": "Query"}
    [refused] = (await post(client, f"{{ {widest} __typename }}"))["errors"]
    assert refused["extensions"] == {"code": "DOCUMENT_TOO_COMPLEX"}


METRICS = """{ researcher(slug: "david-bau") { metrics { hIndex paperCount
  hCore { title } citationsByYear { year count } } } }"""


async def test_the_rows_a_request_loaded_are_freed_without_the_garbage_collector(
    seeded_url: str,
) -> None:
    # Rows left in reference cycles wait for a collection, and a collection stops every
    # thread (/health too) for as long as it walks them: 300,000 rows of a heavy query.
    gc.collect()
    gc.disable()
    try:
        async for client in client_with(seeded_url):
            body = await post(client, METRICS)
            assert body["data"]["researcher"]["metrics"]["paperCount"] == 50
            left = [o for o in gc.get_objects() if isinstance(o, PaperFacts)]
            assert left == []
    finally:
        gc.enable()
