"""A bounded fuzz run of /graphql: no generated operation earns a 500, a masked error or a leak.

hypothesis-graphql builds operations from the served schema: valid ones, and in
one test ones with a single violation each. Their arguments mix its random
values with values that get past the first check: IDs, cursors and slugs read
from the database, and broken copies of them (well-formed IDs of impossible
rows, cursors of the right ordering holding keys of the wrong type or size,
NUL characters). Each operation goes over HTTP to the real app, its arguments
written inline or sent as variables, queries by POST or GET. Every answer must
be a 200, or the 400 of a request error for clients that take
application/graphql-response+json; JSON with `data` and/or `errors`; free of
stack traces, SQL and server paths; and never "Unexpected error.": a masked
error is a fault of ours.

Under CI the examples are derandomized, the same ones every run, so a red build
means a change, not luck. Elsewhere each run tries new examples, and Hypothesis's
example database replays a failure until it is fixed.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from typing import Any

import graphql
import httpx
from graphql import print_ast
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, queries
from hypothesis_graphql import nodes as gql_nodes

from api.app import create_app
from api.settings import Settings
from db.engine import create_engine
from schema import sorted_sdl
from tests.api.factories import SMALL_PROFILE_TEXT
from tests.api.writes import add_token
from tests.support import IN_CI

SCHEMA = graphql.build_schema(sorted_sdl())
GRAPHQL_RESPONSE = "application/graphql-response+json"
ACCEPTS = st.sampled_from(["application/json", GRAPHQL_RESPONSE])
# What no answer may hold unless the request did: traces, SQL, database drivers, our files.
LEAKS = (
    "Traceback",
    'File "',
    "SELECT ",
    "INSERT ",
    "UPDATE ",
    "sqlalchemy",
    "sqlite3",
    "aiosqlite",
    "asyncpg",
    "psycopg",
    "OperationalError",
    "IntegrityError",
    "DataError",
    "ProgrammingError",
    "site-packages",
    "/work/",
    ".py",
)
MASKED = "Unexpected error."
MIN_INT, MAX_INT = -(2**31), 2**31 - 1

# Sized so that the module runs in about 25 s on two cores, both databases included.
QUERY_EXAMPLES = 300
MUTATION_EXAMPLES = 200
INVALID_EXAMPLES = 50
CURSOR_EXAMPLES = 150


def fuzz_settings(max_examples: int, *, shrink: bool = True) -> settings:
    phases = [Phase.explicit, Phase.reuse, Phase.generate, *([Phase.shrink] if shrink else [])]
    return settings(
        max_examples=max_examples,
        phases=phases,
        deadline=None,
        derandomize=IN_CI,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        # One bug shrunk, not each one found: a failing run stays minutes shorter.
        report_multiple_bugs=False,
    )


# -- the app, driven one example at a time ------------------------------------------------------


class Client:
    """A blocking client of the app: Hypothesis runs examples one by one, outside any loop."""

    def __init__(self, runner: asyncio.Runner, http: httpx.AsyncClient) -> None:
        self.runner = runner
        self.http = http

    def send(self, request: Request) -> httpx.Response:
        headers = {"Accept": request.accept}
        if request.method == "GET":
            params = {"query": request.document}
            if request.variables:
                params["variables"] = json.dumps(request.variables)
            return self.runner.run(self.http.get("/graphql", params=params, headers=headers))
        body: dict[str, Any] = {"query": request.document}
        if request.variables:
            body["variables"] = request.variables
        return self.runner.run(self.http.post("/graphql", json=body, headers=headers))

    def data(self, document: str) -> dict[str, Any]:
        body: dict[str, Any] = self.send(Request(document)).json()
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data


@contextmanager
def serve(url: str, *, token: str | None = None) -> Iterator[Client]:
    """The app over `url`, started once; every example runs on the same event loop."""
    # Hundreds of requests from one address, shrinking included: no rate limit.
    app = create_app(Settings(database_url=url, rate_limit_enabled=False))
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    with asyncio.Runner() as runner:
        stack = AsyncExitStack()
        runner.run(stack.enter_async_context(app.router.lifespan_context(app)))
        try:
            transport = httpx.ASGITransport(app=app)
            http = httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers)
            runner.run(stack.enter_async_context(http))
            yield Client(runner, http)
        finally:
            runner.run(stack.aclose())


async def write_token(url: str) -> str:
    engine = create_engine(url)
    try:
        return await add_token(engine)
    finally:
        await engine.dispose()


# -- requests ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Request:
    """One request to /graphql, printed the way a failing example should read."""

    document: str
    variables: dict[str, Any] | None = None
    method: str = "POST"
    accept: str = "application/json"

    def __repr__(self) -> str:
        variables = json.dumps(self.variables, ensure_ascii=False)
        return f"{self.method} accept={self.accept} variables={variables}\n{self.document}"


def lifted(document: graphql.DocumentNode) -> tuple[str, dict[str, Any]]:
    """The operation with every argument value sent as a variable instead of written inline."""
    type_info = graphql.TypeInfo(SCHEMA)
    definitions: list[graphql.VariableDefinitionNode] = []
    values: dict[str, Any] = {}

    class Lift(graphql.Visitor):
        def enter_argument(self, node: graphql.ArgumentNode, *_args: Any) -> Any:
            argument = type_info.get_argument()
            assert argument is not None
            name = f"v{len(values)}"
            values[name] = graphql.value_from_ast_untyped(node.value)
            variable = graphql.VariableNode(name=graphql.NameNode(value=name))
            definitions.append(
                graphql.VariableDefinitionNode(
                    variable=variable, type=graphql.parse_type(str(argument.type))
                )
            )
            return graphql.ArgumentNode(name=node.name, value=variable)

    changed = graphql.visit(document, graphql.TypeInfoVisitor(type_info, Lift()))
    [operation] = changed.definitions
    operation = dataclasses.replace(operation, variable_definitions=tuple(definitions))
    return print_ast(graphql.DocumentNode(definitions=(operation,))), values


@st.composite
def requests(
    draw: st.DrawFn, documents: st.SearchStrategy[graphql.DocumentNode], *, get: bool = False
) -> Request:
    """A generated operation, its arguments inline or as variables; queries by POST or GET."""
    document = draw(documents)
    text, variables = lifted(document) if draw(st.booleans()) else (print_ast(document), None)
    method = "GET" if get and draw(st.booleans()) else "POST"
    return Request(text, variables, method=method, accept=draw(ACCEPTS))


# -- argument values --------------------------------------------------------------------------


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def unb64(text: str) -> str:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()


ODD_INTS = st.one_of(
    st.integers(),
    st.integers(min_value=2**31 - 2, max_value=2**64 + 2),
    st.integers(max_value=0),
    st.sampled_from([0, -1, MIN_INT - 1, 2**31, 2**63 - 1, 2**63, 2**64, 10**400]),
)
ODD_FLOATS = st.floats() | st.sampled_from([float("nan"), float("inf"), 1e308])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | ODD_INTS | ODD_FLOATS | st.text(max_size=12) | st.dates().map(str),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)


# NUL refuses the whole request (schema.input_text), so only the rough operations carry it.
TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"))


def ids(known: list[str]) -> st.SearchStrategy[str]:
    """Real IDs half the time; else well-formed IDs of rows that cannot exist, or no ID at all."""
    kinds = st.sampled_from(["Researcher", "Paper", "Institution", "Category", ""])
    broken = st.one_of(
        st.builds(lambda kind, n: b64(f"{kind}:{n}"), kinds, ODD_INTS),
        st.builds(lambda kind, text: b64(f"{kind}:{text}"), kinds, TEXT),
        TEXT.map(b64),
        TEXT,
    )
    return st.sampled_from(known) | broken


def cursors(known: list[str]) -> st.SearchStrategy[str]:
    """Real cursors half the time; else cursors of the same orderings with other keys or shapes."""
    orderings = sorted({json.loads(unb64(cursor))[0] for cursor in known})
    other_keys = st.builds(
        lambda name, keys: [name, *keys],
        st.sampled_from(orderings),
        st.lists(JSON_VALUES, max_size=4),
    )
    # The right shape with one key the column cannot hold: the likeliest way past the checks.
    one_key_off = st.builds(_replaced, st.sampled_from(known), st.integers(1, 3), JSON_VALUES)
    nested = st.integers(min_value=1, max_value=3000).map(lambda n: "[" * n + "]" * n)
    broken = st.one_of(
        one_key_off.map(json.dumps).map(b64),
        other_keys.map(json.dumps).map(b64),
        JSON_VALUES.map(json.dumps).map(b64),
        nested.map(b64),
    )
    return st.sampled_from(known) | broken


def _replaced(cursor: str, index: int, value: Any) -> list[Any]:
    keys: list[Any] = json.loads(unb64(cursor))
    keys[min(index, len(keys) - 1)] = value
    return keys


def custom_scalars(
    known: dict[str, list[str]], *, rough: bool
) -> dict[str, st.SearchStrategy[graphql.ValueNode]]:
    """Values for the scalars: random ones and ones from the data; `rough` adds values that
    refuse the whole request (NUL characters, dates that are not dates)."""
    strings = st.one_of(
        TEXT,
        st.sampled_from(known["strings"]),
        *([cursors(known["cursors"])] if known["cursors"] else []),
    )
    if rough:
        strings |= strings.map(lambda text: f"{text}\x00")
    ints = st.one_of(
        st.integers(min_value=MIN_INT, max_value=MAX_INT),
        st.sampled_from([0, -1, 1, 10, 100, 101, 1899, 1900, 2009, 2026, 2027, MIN_INT, MAX_INT]),
    )
    dates = st.one_of(
        st.dates().map(str),
        st.sampled_from(["0001-01-01", "9999-12-31"]),
        *([TEXT] if rough else []),
    )
    return {
        "String": strings.map(gql_nodes.String),
        "ID": ids(known["ids"]).map(gql_nodes.String),
        "Int": ints.map(gql_nodes.Int),
        "Date": dates.map(gql_nodes.String),
    }


def operations(
    make: Callable[..., st.SearchStrategy[graphql.DocumentNode]],
    root: graphql.GraphQLObjectType,
    known: dict[str, list[str]],
    **options: Any,
) -> st.SearchStrategy[graphql.DocumentNode]:
    """Operations from `make` (queries or mutations), each with one field of `root`.

    One field, because a field error that nulls the whole `data` (a non-null root field)
    also drops the errors of its siblings: a fault beside it would go unseen. About one
    operation in five is rough.
    """
    scalars = {rough: custom_scalars(known, rough=rough) for rough in (False, True)}
    kinds = {
        (field, rough): make(
            SCHEMA, fields=[field], custom_scalars=scalars[rough], print_ast=keep, **options
        )
        for field in root.fields
        for rough in (False, True)
    }
    return st.tuples(st.sampled_from(sorted(root.fields)), st.sampled_from(range(5))).flatmap(
        lambda kind: kinds[kind[0], kind[1] == 0]
    )


def keep(document: graphql.DocumentNode) -> graphql.DocumentNode:
    return document


# -- what every answer must be ----------------------------------------------------------------


def check_answer(request: Request, response: httpx.Response) -> None:
    status, text = response.status_code, response.text
    sent = repr(request)
    # 400 is a request error, and only for clients that take the graphql-response media type.
    allowed = {200, 400} if request.accept == GRAPHQL_RESPONSE else {200}
    assert status in allowed, f"{status} for {request!r}\n{text[:3000]}"
    leaks = [leak for leak in LEAKS if leak in text and leak not in sent]
    assert not leaks, f"{leaks} in the answer to {request!r}\n{text[:3000]}"
    body = json.loads(text)
    assert isinstance(body, dict), text
    assert "data" in body or "errors" in body, text
    if status == 400:
        assert "data" not in body, text
        assert body["errors"], text
    for error in body.get("errors") or ():
        masked = error["message"] == MASKED or (error.get("extensions") or {}).get("code") == (
            "INTERNAL_SERVER_ERROR"
        )
        assert not masked, f"masked error for {request!r}\n{text[:3000]}"


# -- the runs ---------------------------------------------------------------------------------

KNOWN_VALUES = """{
  researcher(slug: "david-bau") {
    id slug orcid
    papers(first: 3) { edges { cursor node { id arxivId doi } } }
    byCitations: papers(first: 2, orderBy: {field: CITATION_COUNT, direction: DESC}) {
      edges { cursor } }
    byTitle: papers(last: 2, orderBy: {field: TITLE, direction: ASC}) { edges { cursor } }
    coauthors(first: 3) { edges { cursor node { id slug } } }
  }
  researchers(first: 2) { edges { cursor } }
  byHIndex: researchers(first: 2, orderBy: {field: H_INDEX, direction: DESC}) {
    edges { cursor } }
  search: papers(first: 2, query: "interpret") { edges { cursor } }
  corpus { categories { category { code } } }
  institution(slug: "mit") { id slug papers(first: 1) { edges { cursor } }
    researchers(first: 1) { edges { cursor } } }
}"""


# Every connection under each of its orderings. Random documents seldom send a cursor to the
# connection whose ordering it names, which is where its keys get read: these always do.
PAGED = {
    "researchers": "researchers(ARGS) PAGE",
    "researchers by h-index": "researchers(orderBy: {field: H_INDEX, direction: DESC}, ARGS) PAGE",
    "researchers by citations": (
        "researchers(orderBy: {field: CITATION_COUNT, direction: ASC}, ARGS) PAGE"
    ),
    "papers": "papers(ARGS) PAGE",
    "papers by relevance": 'papers(query: "interpret", ARGS) PAGE',
    "papers by title": "papers(orderBy: {field: TITLE, direction: ASC}, ARGS) PAGE",
    "papers by citations": "papers(orderBy: {field: CITATION_COUNT, direction: DESC}, ARGS) PAGE",
    "a researcher's papers": 'researcher(slug: "david-bau") { papers(ARGS) PAGE }',
    "a researcher's coauthors": 'researcher(slug: "david-bau") { coauthors(ARGS) PAGE }',
    "an institution's papers": 'institution(slug: "mit") { papers(ARGS) PAGE }',
    "an institution's researchers": 'institution(slug: "mit") { researchers(ARGS) PAGE }',
}


def paged(name: str, args: str) -> str:
    field = PAGED[name].replace("ARGS", args).replace("PAGE", "{ totalCount edges { cursor } }")
    variables = "($cursor: String)" if "$cursor" in args else ""
    return f"query{variables} {{ {field} }}"


VALID_INPUT_TEXT = (
    "Ada Lovelace",
    "cs.CL",
    "mit",
    "2210.07229",
    "10.1145/3442188.3445922",
    "0000-0002-1825-0097",
    "A5023888391",
    "12345",
    "https://example.org/ada",
)


def known_values(http: Client, document: str = KNOWN_VALUES) -> dict[str, list[str]]:
    """IDs, cursors and other text from the seeded database, to build arguments from."""
    found: dict[str, set[str]] = {"ids": set(), "cursors": set(), "strings": set()}

    def walk(value: Any, key: str | None) -> None:
        if isinstance(value, dict):
            for name, item in value.items():
                walk(item, name)
        elif isinstance(value, list):
            for item in value:
                walk(item, key)
        elif isinstance(value, str):
            found[{"id": "ids", "cursor": "cursors"}.get(key or "", "strings")].add(value)

    walk(http.data(document), None)
    return {kind: sorted(values) for kind, values in found.items()}


def test_generated_queries_get_answers_not_faults(seeded_url: str) -> None:
    with serve(seeded_url) as http:
        documents = operations(queries, SCHEMA.query_type, known_values(http))

        @fuzz_settings(QUERY_EXAMPLES)
        @given(request=requests(documents, get=True))
        def run(request: Request) -> None:
            check_answer(request, http.send(request))

        run()


def real_cursors(http: Client) -> dict[str, list[str]]:
    """A few cursors of each connection in PAGED."""
    real = {name: known_values(http, paged(name, "first: 3"))["cursors"] for name in PAGED}
    # The seed gives no researcher an affiliation; that list pages by name, as this one does.
    real["an institution's researchers"] = real["researchers"]
    return real


def test_broken_cursors_get_errors_not_faults(seeded_url: str) -> None:
    with serve(seeded_url) as http:
        real = real_cursors(http)
        cases = st.sampled_from(sorted(PAGED)).flatmap(
            lambda name: st.tuples(st.just(name), cursors(real[name]))
        )

        @fuzz_settings(CURSOR_EXAMPLES)
        @given(case=cases, backwards=st.booleans())
        def run(case: tuple[str, str], backwards: bool) -> None:
            name, cursor = case
            args = "last: 2, before: $cursor" if backwards else "first: 2, after: $cursor"
            request = Request(paged(name, args), {"cursor": cursor})
            check_answer(request, http.send(request))

        run()


# Keys no cursor of ours holds: past 32 and 64 bits, past a float, not finite, NUL, no date.
KEY_EDGES = (
    2**31,
    MIN_INT - 1,
    2**63,
    -(2**63) - 1,
    10**400,
    float("nan"),
    float("-inf"),
    "",
    "a\x00",
    "2026-02-30",
    None,
    True,
    [],
    {},
)


def test_every_key_of_every_cursor_with_edge_values(seeded_url: str) -> None:
    """Not a sample: each edge value in each key of each connection's cursor (about 360)."""
    with serve(seeded_url) as http:
        for name, [cursor, *_] in real_cursors(http).items():
            keys = json.loads(unb64(cursor))
            for position in range(1, len(keys)):
                for value in KEY_EDGES:
                    edged = [*keys[:position], value, *keys[position + 1 :]]
                    cursor = b64(json.dumps(edged))
                    request = Request(paged(name, "first: 2, after: $cursor"), {"cursor": cursor})
                    check_answer(request, http.send(request))


def test_invalid_queries_get_request_errors(seeded_url: str) -> None:
    with serve(seeded_url) as http:
        # Nothing runs, so nothing hides: whole operations, violations anywhere.
        scalars = custom_scalars(known_values(http), rough=False)
        documents = queries(SCHEMA, custom_scalars=scalars, print_ast=keep, mode=Mode.NEGATIVE)

        @fuzz_settings(INVALID_EXAMPLES)
        @given(document=documents, accept=ACCEPTS)
        def run(document: graphql.DocumentNode, accept: str) -> None:
            request = Request(print_ast(document), accept=accept)
            response = http.send(request)
            check_answer(request, response)
            assert "data" not in response.json(), f"{request!r} ran: {response.text}"

        run()


def test_generated_mutations_get_payloads_not_faults(database_url: str) -> None:
    """Writes on a database of the test's own; rows the examples create stay for the next."""
    with serve(database_url, token=asyncio.run(write_token(database_url))) as http:
        known = {
            # IDs of the first rows the examples create (importProfile makes several at once).
            "ids": [b64(f"{kind}:{n}") for kind in ("Researcher", "Paper") for n in (1, 2, 3)],
            "cursors": [],
            # Values some field takes, so that more writes get past validation to the database.
            "strings": [*VALID_INPUT_TEXT, SMALL_PROFILE_TEXT],
        }
        documents = operations(mutations, SCHEMA.mutation_type, known)

        # No shrinking: an example depends on the rows the ones before it wrote, so a smaller
        # one replayed later fails differently or not at all, for minutes on end.
        @fuzz_settings(MUTATION_EXAMPLES, shrink=False)
        @given(request=requests(documents))
        def run(request: Request) -> None:
            check_answer(request, http.send(request))

        run()
