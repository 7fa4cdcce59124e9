"""The fast paths answer byte for byte what the reference executor answers.

There are two: compiled reads (schema.compiled), tried first, and the lean
executor (schema.fast) behind them. Two apps over the same database, one with
a fast path (compiled reads on, or off so that the lean executor answers) and
one with neither, are asked the same requests over HTTP (the fast one twice:
compiled reads answer the second at the door, api.compiled_door): the README's
first query, the benchmark's pages, the typed clients' operations, hand-written
cases for every part of the language the fast path handles (fragments, inline
fragments on Node, aliases, @skip/@include with variables and their defaults,
__typename, nulls, errors in the middle of a list, every limit), and hundreds
of queries generated from the schema. Every response body and status must be
identical, and the fast path must really have answered the requests that hold
no error.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest
from graphql import print_ast
from hypothesis import HealthCheck, given, settings
from hypothesis_graphql import queries
from starlette.requests import Request

from api.app import create_app
from api.compiled_door import CompiledDoor
from api.settings import Settings
from schema.fast import FastExecutor
from schema.plans import OperationPlans
from tests.api import test_fuzz as fuzz
from tests.api.test_fuzz import known_values
from tests.benchmarks.pages import SCHOLARGRAPH_LEADERBOARD, SCHOLARGRAPH_PROFILE
from tests.support import IN_CI

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ROOT / "tests" / "clients" / "operations"
GENERATED_EXAMPLES = 500

README_FIRST_QUERY = """{
  researcher(slug: "david-bau") {
    name
    reportedMetrics { source hIndex citationCount paperCount novelty aiScore }
    metrics {
      paperCount hIndex citationCount papersWithCode firstYear lastYear
      categories { category { code name } count }
    }
    papers(first: 50) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes {
        title publishedOn primaryCategory { code } hasCode links citationCount
        authors { position displayName researcher { slug } }
        institutions { name }
      }
    }
    coauthors(first: 10) {
      totalCount
      edges { sharedPaperCount firstYear lastYear node { name slug } }
    }
  }
}"""

# (document, variables, must the fast path answer it?)
CASES: list[tuple[str, dict[str, Any], bool]] = [
    (README_FIRST_QUERY, {}, True),
    (SCHOLARGRAPH_PROFILE, {"slug": "david-bau"}, True),
    (SCHOLARGRAPH_LEADERBOARD, {}, True),
    ('{ papers(query: "diffusion concept erasure", first: 5) { nodes { title } } }', {}, True),
    ('{ researchers(query: "renee") { totalCount nodes { name slug } } }', {}, True),
    (
        '{ papers(first: 3, filter: {categories: ["cs.CV"], hasCode: true}) '
        "{ edges { cursor node { id title categories { code name } } } "
        "pageInfo { hasNextPage } } }",
        {},
        True,
    ),
    (
        """query($slug: String!, $withPapers: Boolean = true, $skipName: Boolean!) {
          who: researcher(slug: $slug) {
            __typename id
            name @skip(if: $skipName)
            ...Header
            papers(first: 2) @include(if: $withPapers) { nodes { ...Byline } }
            again: papers(first: 2) { nodes { title } }
          }
        }
        fragment Header on Researcher { slug metrics { hIndex paperCount } }
        fragment Byline on Paper { title authors { position displayName } }""",
        {"slug": "david-bau", "skipName": False},
        True,
    ),
    (
        """query($slug: String!) { researcher(slug: $slug) {
          name @skip(if: true) slug papers(first: 1) @include(if: false) { totalCount } } }""",
        {"slug": "david-bau"},
        True,
    ),
    ('{ researcher(slug: "no-such-person") { name papers { totalCount } } }', {}, True),
    (
        "{ corpus { paperCount researcherCount } categories { code name } "
        'institution(slug: "mit") { name papers(first: 2) { totalCount nodes { title } } } }',
        {},
        True,
    ),
    # Errors: the fast path gives way, and the answer is the reference's own.
    (
        '{ researcher(slug: "david-bau") { papers(after: "not-a-cursor") { totalCount } } }',
        {},
        False,
    ),
    (
        '{ researchers(first: 2) { nodes { name papers(first: 1, after: "bad") '
        "{ nodes { title } } } } }",
        {},
        False,
    ),
    ('{ researcher(slug: "david-bau", orcid: "x") { name } }', {}, False),
    ("{ papers(first: 101) { totalCount } }", {}, False),
    ("{ __schema { queryType { name } } }", {}, False),
    ("{ nope }", {}, False),
    ("query($n: Int!) { papers(first: $n) { totalCount } }", {"n": "x"}, False),
]


class Answers:
    """Both apps, and what the fast path answered (by document) while they ran."""

    def __init__(self, runner: asyncio.Runner, fast: httpx.AsyncClient, ref: httpx.AsyncClient):
        self.runner = runner
        self.fast = fast
        self.reference = ref

    def both(self, document: str, variables: dict[str, Any]) -> tuple[httpx.Response, ...]:
        """The fast app's answer and the reference's.

        The fast app is asked twice: a document it has planned and compiled is answered
        the second time at the door (api.compiled_door), which must answer alike too.
        """
        body = {"query": document, "variables": variables}
        fast, again, reference = (
            self.runner.run(client.post("/graphql", json=body))
            for client in (self.fast, self.fast, self.reference)
        )
        assert (again.status_code, again.content) == (fast.status_code, fast.content)
        assert again.headers["content-type"] == fast.headers["content-type"]
        assert again.headers["cache-control"] == fast.headers["cache-control"]
        return fast, reference


@contextmanager
def two_apps(url: str, mode: str = "compiled") -> Iterator[Answers]:
    """A fast app (`mode` compiled: compiled reads first; lean: the lean executor alone)
    beside the reference."""
    with asyncio.Runner() as runner:
        stack = AsyncExitStack()
        clients = []
        try:
            for fast in (True, False):
                settings = Settings(
                    database_url=url,
                    rate_limit_enabled=False,
                    fast_path=fast,
                    compiled_reads=fast and mode == "compiled",
                )
                app = create_app(settings)
                runner.run(stack.enter_async_context(app.router.lifespan_context(app)))
                client = httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://test"
                )
                clients.append(runner.run(stack.enter_async_context(client)))
            yield Answers(runner, *clients)
        finally:
            runner.run(stack.aclose())


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Operations compiled reads answered, by operation text."""
    seen: list[str] = []
    original = OperationPlans._run_compiled

    async def spy(self: OperationPlans, plan: Any, document: Any, *args: Any) -> Any:
        data = await original(self, plan, document, *args)
        if data is not None:
            seen.append(print_ast(document))
        return data

    monkeypatch.setattr(OperationPlans, "_run_compiled", spy)
    door_answer = CompiledDoor.answer

    async def door_spy(self: CompiledDoor, request: Request, *args: Any) -> Any:
        response = await door_answer(self, request, *args)
        if response is not None:  # compiled reads answered at the door (api.compiled_door)
            seen.append(print_ast(graphql.parse(json.loads(await request.body())["query"])))
        return response

    monkeypatch.setattr(CompiledDoor, "answer", door_spy)
    return seen


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch, compiled: list[str]) -> list[str]:
    """Operations a fast path (compiled or lean) answered, by operation text."""
    seen = compiled  # one list: either path answering counts
    original = FastExecutor.execute

    async def spy(self: FastExecutor, document: Any, *args: Any) -> Any:
        data = await original(self, document, *args)
        seen.append(print_ast(document))
        return data

    monkeypatch.setattr(FastExecutor, "execute", spy)
    return seen


def client_operations() -> list[tuple[str, dict[str, Any]]]:
    variables = {
        "ProfilePage": {"slug": "david-bau", "first": 20, "coauthors": 10},
        "ResearcherProfile": {"slug": "david-bau", "first": 20},
        "SearchPapers": {"query": "diffusion", "first": 5},
    }
    found = []
    for path in sorted(OPERATIONS.glob("*.graphql")):
        if path.stem in variables:
            found.append((path.read_text(), variables[path.stem]))
    return found


MODES = pytest.mark.parametrize("mode", ["compiled", "lean"])
# What compiled reads must answer themselves: the pages clients ask for most.
MUST_COMPILE = [README_FIRST_QUERY, SCHOLARGRAPH_PROFILE, SCHOLARGRAPH_LEADERBOARD]


@MODES
def test_every_case_is_answered_alike(seeded_url: str, answered: list[str], mode: str) -> None:
    with two_apps(seeded_url, mode) as apps:
        cases = [*CASES, *((doc, var, True) for doc, var in client_operations())]
        for document, variables, fast_answers in cases:
            fast, reference = apps.both(document, variables)
            assert (fast.status_code, fast.content) == (
                reference.status_code,
                reference.content,
            ), document
            printed = print_ast(graphql.parse(document))
            assert (printed in answered) is fast_answers, document


def test_compiled_reads_answer_the_common_pages(seeded_url: str, compiled: list[str]) -> None:
    with two_apps(seeded_url, "compiled") as apps:
        cases = [*((doc, {"slug": "david-bau"}) for doc in MUST_COMPILE)]
        cases += client_operations()
        for document, variables in cases:
            fast, reference = apps.both(document, variables)
            assert fast.content == reference.content
            assert print_ast(graphql.parse(document)) in compiled, document


@MODES
def test_generated_queries_are_answered_alike(
    seeded_url: str, answered: list[str], mode: str
) -> None:
    clean: list[str] = []
    with two_apps(seeded_url, mode) as apps:
        # Arguments from the data (real IDs, cursors, slugs) as well as random ones, so that
        # many generated queries hold no error and the fast path answers them itself.
        known = known_values(fuzz.Client(apps.runner, apps.reference))
        documents = fuzz.operations(queries, fuzz.SCHEMA.query_type, known)

        @settings(
            max_examples=GENERATED_EXAMPLES,
            deadline=None,
            derandomize=IN_CI,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(fuzz.requests(documents))
        def alike(request: fuzz.Request) -> None:
            fast, reference = apps.both(request.document, request.variables or {})
            assert (fast.status_code, fast.content) == (reference.status_code, reference.content)
            if "errors" not in reference.json():
                clean.append(print_ast(graphql.parse(request.document)))

        alike()
    # Every request the reference answered without an error, the fast path answered itself.
    assert clean
    assert set(clean) <= set(answered)


def test_the_fast_path_can_be_turned_off(seeded_url: str, answered: list[str]) -> None:
    with two_apps(seeded_url) as apps:
        apps.runner.run(
            apps.reference.post("/graphql", json={"query": "{ corpus { paperCount } }"})
        )
    assert answered == []
