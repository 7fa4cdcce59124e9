"""The response cache: hits and misses, 304s without running the query, exact invalidation.

Each test runs on both databases and both stores: in this process
(SCHOLARGRAPH_CACHE_IN_PROCESS) and in Redis (a key prefix of the test's own).
Reads go without a token (only anonymous reads are cached); writes carry one.
Whether a read was a hit shows in `extensions.cache`, which the request asks
for with the extension {"cache": true}.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette

from api.app import create_app
from api.cache import CacheMetrics, MemoryCache, RedisCache, ResponseCache
from api.redis_state import SharedState
from api.settings import Settings
from db.reads import ChangeSet
from tests.api.conftest import GraphQLClient
from tests.api.writes import (
    CREATE_PAPER,
    CREATE_RESEARCHER,
    SET_CITATION_COUNTS,
    add_token,
)

PROFILE = """
query Profile($id: ID!) {
  node(id: $id) {
    ... on Researcher {
      name
      metrics { hIndex paperCount citationCount }
      papers(first: 10) { totalCount nodes { title citationCount } }
      coauthors(first: 10) { nodes { name } }
    }
  }
}
"""
PAPER = "query Paper($id: ID!) { node(id: $id) { ... on Paper { title citationCount } } }"
LEADERBOARD = """
query Board { researchers(first: 10, orderBy: {field: CITATION_COUNT, direction: DESC}) {
  nodes { name metrics { citationCount } } } }
"""
BY_DOI = 'query Doi { paper(doi: "10.1000/later") { title } }'
UPDATE_RESEARCHER = """
mutation($input: UpdateResearcherInput!) {
  updateResearcher(input: $input) { researcher { id } userErrors { field message code } }
}
"""
UPDATE_PAPER = """
mutation($input: UpdatePaperInput!) {
  updatePaper(input: $input) { paper { id } userErrors { field message code } }
}
"""
DELETE_PAPER = """
mutation($id: ID!) { deletePaper(id: $id) { userErrors { field message code } } }
"""
MERGE = """
mutation($s: ID!, $t: ID!) {
  mergeResearchers(sourceId: $s, targetId: $t) { researcher { id } userErrors { message } }
}
"""
IMPORT = """
mutation($input: ImportProfileInput!) {
  importProfile(input: $input) { userErrors { field message code } }
}
"""

STORES = ["memory", "redis"]


def cache_settings(store: str, request: pytest.FixtureRequest, **more: Any) -> dict[str, Any]:
    if store == "memory":
        return {"cache_in_process": True, **more}
    target = request.getfixturevalue("redis_target")
    return {"redis_url": target.url, "redis_prefix": target.prefix, **more}


@asynccontextmanager
async def serving(database_url: str, **settings: Any) -> AsyncIterator[GraphQLClient]:
    """The app (one worker) and a client of it; its statements on the GraphQL engine counted."""
    settings.setdefault("rate_limit_enabled", False)
    app: Starlette = create_app(Settings(database_url=database_url, **settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            client = GraphQLClient(http, app.state.engine, counted=(app.state.graphql_engine,))
            name = f"tester-{uuid.uuid4().hex[:8]}"
            client.secret = await add_token(app.state.engine, name)  # type: ignore[attr-defined]
            yield client


async def read(client: GraphQLClient, document: str, **variables: Any) -> tuple[str, Any]:
    """An anonymous read: whether it was a hit, and its data."""
    body = {"query": document, "variables": variables, "extensions": {"cache": True}}
    response = await client.http.post("/graphql", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert "errors" not in answer, answer
    return answer["extensions"]["cache"], answer["data"]


async def write(client: GraphQLClient, document: str, **variables: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {client.secret}"}  # type: ignore[attr-defined]
    response = await client.http.post(
        "/graphql", json={"query": document, "variables": variables}, headers=headers
    )
    payload = next(iter(response.json()["data"].values()))
    assert payload["userErrors"] == [], payload
    result: dict[str, Any] = payload
    return result


async def metric(client: GraphQLClient, name: str) -> float:
    text = (await client.http.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == f"scholargraph_response_cache_{name}_total":
                return float(sample.value)
    raise AssertionError(f"no {name} in /metrics")


@pytest.fixture(params=STORES)
async def client(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[GraphQLClient]:
    async with serving(database_url, **cache_settings(request.param, request)) as opened:
        yield opened


async def test_a_second_read_is_answered_from_the_cache_without_a_statement(
    client: GraphQLClient,
) -> None:
    ada = (await write(client, CREATE_RESEARCHER, input={"name": "Ada Lovelace"}))["researcher"]
    first = await read(client, PROFILE, id=ada["id"])
    with client.counting() as statements:
        second = await read(client, PROFILE, id=ada["id"])
    assert first[0] == "miss"
    assert second == ("hit", first[1])
    assert statements == []
    # Other variables, another operation: another entry.
    assert (await read(client, PAPER, id=ada["id"]))[0] == "miss"
    assert await metric(client, "hits") == 1.0
    assert await metric(client, "misses") == 2.0
    assert await metric(client, "stores") == 2.0


async def test_the_body_is_the_same_bytes_and_says_nothing_unless_asked(
    client: GraphQLClient,
) -> None:
    ada = (await write(client, CREATE_RESEARCHER, input={"name": "Ada Lovelace"}))["researcher"]
    params = {"query": PROFILE, "variables": f'{{"id": "{ada["id"]}"}}'}
    miss = await client.http.get("/graphql", params=params)
    hit = await client.http.get("/graphql", params=params)
    assert (miss.headers["x-scholargraph-cache"], hit.headers["x-scholargraph-cache"]) == (
        "miss",
        "hit",
    )
    assert hit.content == miss.content
    assert "cache" not in hit.json().get("extensions", {})
    for name in ("content-type", "etag", "cache-control", "vary"):
        assert hit.headers[name] == miss.headers[name]
    # The other media type is another entry, with its own content type.
    accept = {"Accept": "application/graphql-response+json"}
    typed = [await client.http.get("/graphql", params=params, headers=accept) for _ in range(2)]
    assert [r.headers["x-scholargraph-cache"] for r in typed] == ["miss", "hit"]
    assert typed[1].headers["content-type"] == typed[0].headers["content-type"]
    assert typed[1].headers["content-type"].startswith("application/graphql-response+json")
    assert typed[1].content == typed[0].content


async def test_a_revalidation_is_a_304_from_the_cache_without_running_the_query(
    client: GraphQLClient,
) -> None:
    ada = (await write(client, CREATE_RESEARCHER, input={"name": "Ada Lovelace"}))["researcher"]
    params = {"query": PROFILE, "variables": f'{{"id": "{ada["id"]}"}}'}
    tag = (await client.http.get("/graphql", params=params)).headers["etag"]
    with client.counting() as statements:
        not_modified = await client.http.get(
            "/graphql", params=params, headers={"If-None-Match": tag}
        )
        other_tag = await client.http.get(
            "/graphql", params=params, headers={"If-None-Match": '"elsewhere"'}
        )
    assert statements == []
    assert (not_modified.status_code, not_modified.content) == (304, b"")
    assert not_modified.headers["etag"] == tag
    assert other_tag.status_code == 200
    assert other_tag.json()["data"]["node"]["name"] == "Ada Lovelace"
    # A POST is never a 304, whatever it sends.
    posted = await client.http.post(
        "/graphql",
        json={"query": PROFILE, "variables": {"id": ada["id"]}},
        headers={"If-None-Match": tag},
    )
    assert posted.status_code == 200
    assert posted.json()["data"]["node"]["name"] == "Ada Lovelace"
    # After a write to what it shows, the old tag no longer matches.
    await write(client, UPDATE_RESEARCHER, input={"id": ada["id"], "name": "Ada King"})
    changed = await client.http.get("/graphql", params=params, headers={"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.json()["data"]["node"]["name"] == "Ada King"


async def test_callers_with_a_token_errors_and_mutations_are_never_kept(
    client: GraphQLClient,
) -> None:
    ada = (await write(client, CREATE_RESEARCHER, input={"name": "Ada Lovelace"}))["researcher"]
    headers = {"Authorization": f"Bearer {client.secret}"}  # type: ignore[attr-defined]
    body = {"query": PROFILE, "variables": {"id": ada["id"]}, "extensions": {"cache": True}}
    for _ in range(2):
        response = await client.http.post("/graphql", json=body, headers=headers)
        assert "x-scholargraph-cache" not in response.headers
        assert "cache" not in response.json().get("extensions", {})
    failing = {"query": 'query { node(id: "nonsense") { id } }', "extensions": {"cache": True}}
    outcomes = [
        (await client.http.post("/graphql", json=failing)).json()["extensions"]["cache"]
        for _ in range(2)
    ]
    assert outcomes == ["miss", "miss"]
    assert await metric(client, "stores") == 0.0


async def test_each_write_drops_exactly_the_answers_it_changes(client: GraphQLClient) -> None:
    ids = {}
    for name in ("Ada Lovelace", "Charles Babbage", "Mary Somerville", "Grace Hopper"):
        ids[name.split()[0]] = (await write(client, CREATE_RESEARCHER, input={"name": name}))[
            "researcher"
        ]["id"]
    ada, charles, mary, grace = ids["Ada"], ids["Charles"], ids["Mary"], ids["Grace"]
    notes = await write(
        client,
        CREATE_PAPER,
        input={"title": "Notes", "authors": [{"researcherId": ada}, {"researcherId": charles}]},
    )
    engine = await write(
        client, CREATE_PAPER, input={"title": "Engine", "authors": [{"researcherId": mary}]}
    )
    notes_id, engine_id = notes["paper"]["id"], engine["paper"]["id"]
    reads: dict[str, tuple[str, dict[str, Any]]] = {
        "ada": (PROFILE, {"id": ada}),
        "charles": (PROFILE, {"id": charles}),
        "mary": (PROFILE, {"id": mary}),
        "grace": (PROFILE, {"id": grace}),
        "notes": (PAPER, {"id": notes_id}),
        "engine": (PAPER, {"id": engine_id}),
        "board": (LEADERBOARD, {}),
        "doi": (BY_DOI, {}),
    }

    async def warm() -> None:
        for document, variables in reads.values():
            await read(client, document, **variables)

    async def dropped() -> set[str]:
        outcomes = {name: await read(client, d, **v) for name, (d, v) in reads.items()}
        return {name for name, (outcome, _data) in outcomes.items() if outcome == "miss"}

    await warm()
    assert await dropped() == set()
    steps: list[tuple[str, dict[str, Any], set[str]]] = [
        (
            SET_CITATION_COUNTS,
            {"input": [{"paperId": notes_id, "total": 7}]},
            {"ada", "charles", "notes", "board"},
        ),
        (
            UPDATE_RESEARCHER,
            {"input": {"id": mary, "name": "Mary F. Somerville"}},
            {"mary", "board"},
        ),
        (
            UPDATE_PAPER,
            {"input": {"id": engine_id, "title": "Analytical Engine", "doi": "10.1000/later"}},
            {"mary", "engine", "board", "doi"},
        ),
        (
            CREATE_PAPER,
            {"input": {"title": "Compilers", "authors": [{"researcherId": grace}]}},
            {"grace", "board"},  # the DOI look-up found the engine paper: not this one's business
        ),
        (DELETE_PAPER, {"id": engine_id}, {"mary", "engine", "board", "doi"}),
        (MERGE, {"s": charles, "t": ada}, {"ada", "charles", "notes", "board"}),
        (CREATE_RESEARCHER, {"input": {"name": "Alan Turing"}}, {"board"}),
    ]
    for document, variables, expected in steps:
        await write(client, document, **variables)
        assert await dropped() == expected, document
        # Each answer now matches what the database says, as a read without a cache would.
        await warm()
    _, ada_now = await read(client, PROFILE, id=ada)
    assert ada_now["node"]["metrics"]["citationCount"] == 7
    assert [n["title"] for n in ada_now["node"]["papers"]["nodes"]] == ["Notes"]
    assert await metric(client, "invalidations") > 0


async def test_an_import_drops_every_answer(client: GraphQLClient) -> None:
    ada = (await write(client, CREATE_RESEARCHER, input={"name": "Ada Lovelace"}))["researcher"]
    await read(client, PROFILE, id=ada["id"])
    text = "Ada Lovelace\nCV\nh-index1\n1 Papers\n\nCL Jan 1, 2020\nA paper\nAda Lovelace\nText.\n"
    await write(client, IMPORT, input={"format": "PROFILE_TEXT", "text": text, "undatedYear": 2026})
    assert (await read(client, PROFILE, id=ada["id"]))[0] == "miss"


@pytest.fixture(params=STORES)
async def bare_cache(request: pytest.FixtureRequest) -> AsyncIterator[ResponseCache]:
    """A cache on its own (no app), in memory or in Redis under the test's prefix."""
    metrics = CacheMetrics(None)
    if request.param == "memory":
        yield MemoryCache(1_000_000, metrics)
        return
    target = request.getfixturevalue("redis_target")
    shared = SharedState(target.url, target.prefix)
    try:
        yield RedisCache(shared, 1_000_000, metrics)
    finally:
        await shared.aclose()


async def test_a_read_that_overlapped_a_write_does_not_store_what_it_saw(
    bare_cache: ResponseCache,
) -> None:
    # The interleaving that could store a stale answer, step by step: the read takes its
    # ticket and reads the old rows; the write commits and invalidates; the read stores.
    _, before_write = await bare_cache.lookup("profile", tag_only=False)
    _, unrelated = await bare_cache.lookup("other", tag_only=False)
    assert before_write is not None
    assert unrelated is not None
    await bare_cache.invalidate(ChangeSet({"Paper:1"}))
    assert not await bare_cache.store("profile", before_write, b"old", '"t1"', {"Paper:1", "x"})
    # A read over other keys that began as early still stores.
    assert await bare_cache.store("other", unrelated, b"fine", '"t2"', {"Paper:2"})
    # A read that began after the invalidation stores, and the next write drops it.
    _, after_write = await bare_cache.lookup("profile", tag_only=False)
    assert after_write is not None
    assert await bare_cache.store("profile", after_write, b"new", '"t3"', {"Paper:1"})
    hit, _ = await bare_cache.lookup("profile", tag_only=False)
    assert hit is not None
    assert hit.body == b"new"
    await bare_cache.invalidate(ChangeSet({"Paper:1"}))
    assert (await bare_cache.lookup("profile", tag_only=False))[0] is None
    assert (await bare_cache.lookup("other", tag_only=False))[0] is not None
    # A flush (everything) refuses every read that began before it.
    _, early = await bare_cache.lookup("third", tag_only=False)
    assert early is not None
    await bare_cache.invalidate(ChangeSet.all())
    assert (await bare_cache.lookup("other", tag_only=False))[0] is None
    assert not await bare_cache.store("third", early, b"old", '"t4"', {"Paper:9"})


async def test_the_least_recently_used_entries_go_past_the_size_bound(
    bare_cache: ResponseCache,
) -> None:
    bare_cache.max_bytes = 3 * (1000 + 64 + 10 + 6)  # type: ignore[attr-defined]
    for name in ("a", "b", "c"):
        _, ticket = await bare_cache.lookup(name, tag_only=False)
        assert ticket is not None
        assert await bare_cache.store(name, ticket, b"x" * 1000, '"tag"', {f"Paper:{name}"})
    await bare_cache.lookup("a", tag_only=True)  # a is used: b is now the oldest
    _, ticket = await bare_cache.lookup("d", tag_only=False)
    assert ticket is not None
    await bare_cache.store("d", ticket, b"x" * 1000, '"tag"', {"Paper:d"})
    kept = {n for n in "abcd" if (await bare_cache.lookup(n, tag_only=True))[0] is not None}
    assert kept == {"a", "c", "d"}
    assert bare_cache.metrics.evictions._value.get() == 1  # type: ignore[attr-defined]


CITED = """
query Cited($r: ID!, $p: ID!) {
  researcher: node(id: $r) { ... on Researcher { metrics { citationCount } } }
  paper: node(id: $p) { ... on Paper { citationCount } }
}
"""
LISTED = """
query Listed($r: ID!) {
  node(id: $r) { ... on Researcher { papers(first: 5) { nodes { citationCount } } } }
}
"""


def cited(document: str, data: dict[str, Any]) -> list[int]:
    if document is CITED:
        return [data["researcher"]["metrics"]["citationCount"], data["paper"]["citationCount"]]
    return [node["citationCount"] for node in data["node"]["papers"]["nodes"]]


async def test_no_read_that_began_after_a_write_answered_sees_older_data_on_either_worker(
    database_url: str, redis_target: Any
) -> None:
    shared = {"redis_url": redis_target.url, "redis_prefix": redis_target.prefix}
    async with serving(database_url, **shared) as first, serving(database_url, **shared) as second:
        workers = [first, second]
        owner = (await write(first, CREATE_RESEARCHER, input={"name": "Ada Lovelace"}))[
            "researcher"
        ]["id"]
        paper = (
            await write(
                first, CREATE_PAPER, input={"title": "Notes", "authors": [{"researcherId": owner}]}
            )
        )["paper"]["id"]
        answered: list[tuple[float, int]] = []  # (when the write's response came, its total)
        reads: list[tuple[float, list[int]]] = []  # (when the read began, what it saw)
        done = asyncio.Event()

        async def writer() -> None:
            for total in range(1, 21):
                worker = workers[total % 2]
                await write(worker, SET_CITATION_COUNTS, input=[{"paperId": paper, "total": total}])
                answered.append((time.monotonic(), total))
                await asyncio.sleep(0)
            done.set()

        async def reader(worker: GraphQLClient, document: str) -> None:
            while not done.is_set():
                began = time.monotonic()
                _, data = await read(worker, document, r=owner, p=paper)
                reads.append((began, cited(document, data)))

        readers = [reader(w, d) for w in workers for d in (CITED, LISTED) for _ in range(2)]
        await asyncio.gather(writer(), *readers)
        hits = await metric(first, "hits") + await metric(second, "hits")

    stale = []
    for began, seen in reads:
        newest = max((total for at, total in answered if at < began), default=0)
        if any((value or 0) < newest for value in seen):
            stale.append((seen, newest))
    assert stale == []
    assert len(reads) > 20, len(reads)
    assert hits > 0  # the cache was in play, not bypassed


async def test_a_read_held_past_a_write_does_not_leave_its_old_answer_behind(
    client: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The race made to happen: a read has its old rows and is about to store them when
    # a write commits and answers; the read stores after that. Its store must be refused.
    ada = (await write(client, CREATE_RESEARCHER, input={"name": "Ada Lovelace"}))["researcher"]
    cache = client.http._transport.app.state.response_cache  # type: ignore[attr-defined]
    about_to_store, go_on = asyncio.Event(), asyncio.Event()
    real_store = cache.store

    async def held_store(*args: Any) -> bool:
        about_to_store.set()
        await go_on.wait()
        return bool(await real_store(*args))

    monkeypatch.setattr(cache, "store", held_store)
    held = asyncio.create_task(read(client, PROFILE, id=ada["id"]))
    await about_to_store.wait()
    await write(client, UPDATE_RESEARCHER, input={"id": ada["id"], "name": "Ada King"})
    go_on.set()
    outcome, old = await held
    assert (outcome, old["node"]["name"]) == ("miss", "Ada Lovelace")
    monkeypatch.setattr(cache, "store", real_store)
    outcome, now = await read(client, PROFILE, id=ada["id"])
    assert (outcome, now["node"]["name"]) == ("miss", "Ada King")
    assert await metric(client, "refused") == 1.0


async def test_a_look_up_that_found_nothing_finds_the_row_a_write_then_makes(
    client: GraphQLClient,
) -> None:
    by_slug = 'query Slug { researcher(slug: "new-person") { name } }'
    by_doi = 'query Doi { paper(doi: "10.1000/new") { title } }'
    assert await read(client, by_slug) == ("miss", {"researcher": None})
    assert await read(client, by_slug) == ("hit", {"researcher": None})
    assert await read(client, by_doi) == ("miss", {"paper": None})
    await write(
        client,
        CREATE_PAPER,
        input={"title": "New", "doi": "10.1000/new", "authors": [{"name": "New Person"}]},
    )
    assert await read(client, by_slug) == ("miss", {"researcher": {"name": "New Person"}})
    assert await read(client, by_doi) == ("miss", {"paper": {"title": "New"}})
