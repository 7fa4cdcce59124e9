"""Typed clients generated from schema.graphql, run against the live server.

The operations in tests/clients/operations/ (a profile page, the reference profile page's own
query with its "load more" by cursor, a search ordered by enums, a mutation with an input type)
go through two generators:

- ariadne-codegen writes a Python client: pydantic models and one method per operation. It
  needs graphql-core below 3.3 and the project 3.3, so it and the client it writes run in a
  virtualenv of their own, .venv-codegen (`make test` makes it from tests/clients/requirements.txt).
- graphql-codegen writes TypeScript types for the same operations; tsc compiles the program
  that uses them (tests/clients/typescript/report.ts) and node runs it.

The Python client runs in tests/clients/python/report.py. Both programs print the same report
of what their typed results hold, which must equal what plain requests with the same documents
read. Each type checker (mypy for the Python, tsc for the TypeScript) must also reject a misspelt
field, a field the operation does not select, an unknown enum value and a missing variable, so a
check that passes is not passing because it checks nothing. The generated code goes to
temporary folders and is never committed.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.settings import Settings
from db.engine import create_engine
from tests.api.live import serve
from tests.api.writes import add_token
from tests.support import skip_or_fail

REPO = Path(__file__).resolve().parents[2]
CLIENTS = REPO / "tests" / "clients"
OPERATIONS = CLIENTS / "operations"
CODEGEN_VENV = REPO / ".venv-codegen"
NODE_MODULES = CLIENTS / "node_modules"

SEARCH_VARIABLES = {
    "query": "editing",
    "first": 5,
    "orderBy": {"field": "TITLE", "direction": "ASC"},
}
EXPECTED_WRITE_REPORT = {
    "created": {
        "slug": "renee-j-miller",
        "name": "Renée J. Miller",
        "orcid": "0000-0002-1825-0097",
    },
    "readBack": {
        "name": "Renée J. Miller",
        "hIndex": 0,
        "paperCount": 0,
        "reportedHIndex": None,
        "totalCount": 0,
        "hasNextPage": False,
        "papers": [],
        "coauthors": [],
    },
    "refused": {
        "researcher": None,
        "userErrors": [
            {
                "field": ["input", "orcid"],
                "code": "INVALID",
                "message": (
                    "'0000-0002-1825-0098' is not an ORCID iD: its check digit (the last"
                    " character) does not match the other 15 digits, so one of them is"
                    " probably mistyped."
                ),
            }
        ],
    },
    "wrongToken": {"message": "The bearer token is unknown or revoked.", "code": "UNAUTHENTICATED"},
}

TYPESCRIPT_MISTAKES = """\
import type { ResearcherProfileQuery as Profile } from "./generated/graphql.js";
import type { SearchPapersQueryVariables as Search } from "./generated/graphql.js";

export const misspelt = (data: Profile) => data.researcher?.metrics.hindex;
export const unselected = (data: Profile) => data.researcher?.papers.edges[0]?.node.abstract;
export const unknownEnum: Search["orderBy"] = { field: "YEAR", direction: "ASC" };
export const missingVariable: Search = { query: "x" };
"""
PYTHON_MISTAKES = """\
from scholargraph_client import OrderDirection, PaperOrder, ResearcherProfile, ScholargraphClient

def misspelt(result: ResearcherProfile) -> int | None:
    return result.researcher.metrics.hindex if result.researcher else None

def unselected(result: ResearcherProfile) -> str | None:
    return result.researcher.papers.edges[0].node.abstract if result.researcher else None

def unknown_enum(client: ScholargraphClient) -> int:
    order = PaperOrder(field="YEAR", direction=OrderDirection.DESC)
    return client.search_papers(query="x", first=5, order_by=order).papers.total_count

def missing_variable(client: ScholargraphClient) -> int:
    return client.search_papers(query="x").papers.total_count
"""


def run(
    command: list[str | Path], *, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=None if env is None else {**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def explain(done: subprocess.CompletedProcess[str]) -> str:
    command = " ".join(done.args)
    return (
        f"{command} exited {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    )


def run_ok(command: list[str | Path], *, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = run(command, cwd=cwd, env=env)
    assert done.returncode == 0, explain(done)
    return done.stdout


def run_report(command: list[str | Path], *, cwd: Path, env: dict[str, str] | None = None) -> Any:
    done = run(command, cwd=cwd, env=env)
    assert done.returncode == 0, explain(done)
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"the report is not JSON\n{explain(done)}")


def to_toml(table: dict[str, Any], name: str = "") -> str:
    """TOML for nested tables of strings and booleans, all a codegen config holds."""
    lines = [
        f"{key} = {json.dumps(value)}"
        for key, value in table.items()
        if not isinstance(value, dict)
    ]
    for key, value in table.items():
        if isinstance(value, dict):
            inner = f"{name}.{key}" if name else key
            lines += [f"[{inner}]", to_toml(value, inner)]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def python_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the package ariadne-codegen generated, scholargraph_client."""
    if not (CODEGEN_VENV / "bin" / "ariadne-codegen").exists():
        skip_or_fail(f"ariadne-codegen is not installed in {CODEGEN_VENV} (make test installs it)")
    folder = tmp_path_factory.mktemp("python_client")
    config = tomllib.loads((CLIENTS / "ariadne-codegen.toml").read_text())
    settings = config["tool"]["ariadne-codegen"]
    settings["schema_path"] = str(REPO / settings["schema_path"])
    settings["queries_path"] = str(REPO / settings["queries_path"])
    settings["target_package_path"] = str(folder)
    (folder / "codegen.toml").write_text(to_toml(config) + "\n")
    run_ok([CODEGEN_VENV / "bin" / "ariadne-codegen", "--config", "codegen.toml"], cwd=folder)
    return folder


@pytest.fixture(scope="module")
def typescript_types(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The .ts file graphql-codegen generated."""
    if shutil.which("node") is None or not (NODE_MODULES / ".bin" / "tsc").exists():
        skip_or_fail(
            "node or the npm packages of tests/clients are missing (make test installs them)"
        )
    generated = tmp_path_factory.mktemp("typescript_types") / "graphql.ts"
    codegen = NODE_MODULES / ".bin" / "graphql-codegen"
    run_ok(
        [codegen, "--config", "codegen.ts"],
        cwd=CLIENTS,
        env={"SCHOLARGRAPH_CODEGEN_OUT": str(generated)},
    )
    return generated


def make_typescript_project(folder: Path, generated: Path, sources: dict[str, str]) -> Path:
    """tests/clients's TypeScript set-up in `folder`, with the generated types and `sources`."""
    (folder / "typescript" / "generated").mkdir(parents=True)
    shutil.copy(CLIENTS / "tsconfig.json", folder)
    shutil.copy(CLIENTS / "package.json", folder)
    (folder / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)
    shutil.copy(generated, folder / "typescript" / "generated" / "graphql.ts")
    for name, text in sources.items():
        (folder / "typescript" / name).write_text(text)
    return folder


@pytest.fixture(scope="module")
def typescript_program(tmp_path_factory: pytest.TempPathFactory, typescript_types: Path) -> Path:
    """The report program, type-checked and compiled by tsc into dist/report.js."""
    report = (CLIENTS / "typescript" / "report.ts").read_text()
    folder = tmp_path_factory.mktemp("typescript_program")
    make_typescript_project(folder, typescript_types, {"report.ts": report})
    output = run_ok(
        [NODE_MODULES / ".bin" / "tsc", "-p", "tsconfig.json", "--pretty", "false"], cwd=folder
    )
    assert output == ""
    assert (folder / "dist" / "report.js").is_file()
    return folder


def plain_request(base: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = httpx.post(
        f"{base}/graphql", json={"query": query, "variables": variables}, timeout=30
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


def operation(name: str) -> str:
    return (OPERATIONS / f"{name}.graphql").read_text()


def summarize_profile(data: dict[str, Any]) -> dict[str, Any] | None:
    """The report's view of a ResearcherProfile result, from plain JSON."""
    researcher = data["researcher"]
    if researcher is None:
        return None
    return {
        "name": researcher["name"],
        "hIndex": researcher["metrics"]["hIndex"],
        "paperCount": researcher["metrics"]["paperCount"],
        "reportedHIndex": (researcher["reportedMetrics"] or {}).get("hIndex"),
        "totalCount": researcher["papers"]["totalCount"],
        "hasNextPage": researcher["papers"]["pageInfo"]["hasNextPage"],
        "papers": [
            {
                "title": edge["node"]["title"],
                "year": edge["node"]["year"],
                "publishedOn": edge["node"]["publishedOn"],
                "authors": [author["displayName"] for author in edge["node"]["authors"]],
            }
            for edge in researcher["papers"]["edges"]
        ],
        "coauthors": [
            {"slug": edge["node"]["slug"], "sharedPaperCount": edge["sharedPaperCount"]}
            for edge in researcher["coauthors"]["edges"]
        ],
    }


def profile_page_plainly(base: str) -> dict[str, Any] | None:
    """The report's view of the profile page's query and its next page, from plain JSON."""
    document = operation("ProfilePage")
    variables = {"slug": "david-bau", "first": 3, "coauthors": 3}
    researcher = plain_request(base, document, variables)["researcher"]
    if researcher is None:
        return None
    after = researcher["papers"]["pageInfo"]["endCursor"]
    more = plain_request(base, document, {**variables, "after": after, "coauthors": 1})
    metrics, reported = researcher["metrics"], researcher["reportedMetrics"]
    figures = ("hIndex", "citationCount", "paperCount")
    return {
        "name": researcher["name"],
        "computed": [metrics[figure] for figure in figures],
        "reported": None if reported is None else [reported[figure] for figure in figures],
        "papersByYear": [[each["year"], each["count"]] for each in metrics["papersByYear"]],
        "citationsByYear": [[each["year"], each["count"]] for each in metrics["citationsByYear"]],
        "categories": [[each["category"]["code"], each["count"]] for each in metrics["categories"]],
        "titles": [edge["node"]["title"] for edge in researcher["papers"]["edges"]],
        "moreTitles": [edge["node"]["title"] for edge in more["researcher"]["papers"]["edges"]],
        "coauthors": [
            [edge["node"]["slug"], edge["sharedPaperCount"]]
            for edge in researcher["coauthors"]["edges"]
        ],
    }


def read_plainly(base: str) -> dict[str, Any]:
    """What the read report must say, from plain requests with the same documents."""
    profile = plain_request(base, operation("ResearcherProfile"), {"slug": "david-bau", "first": 5})
    unknown = plain_request(
        base, operation("ResearcherProfile"), {"slug": "no-such-researcher", "first": 5}
    )
    found = plain_request(base, operation("SearchPapers"), SEARCH_VARIABLES)["papers"]
    return {
        "profile": summarize_profile(profile),
        "unknown": summarize_profile(unknown),
        "search": {
            "totalCount": found["totalCount"],
            "titles": [paper["title"] for paper in found["nodes"]],
        },
        "page": profile_page_plainly(base),
    }


def assert_reads_david_bau(report: dict[str, Any], plainly: dict[str, Any]) -> None:
    assert report == plainly
    profile = report["profile"]
    assert profile["name"] == "David Bau"
    assert (profile["paperCount"], profile["totalCount"], profile["hasNextPage"]) == (50, 50, True)
    assert profile["reportedHIndex"] == 55
    papers = profile["papers"]
    assert len(papers) == 5
    assert all("David Bau" in paper["authors"] and paper["title"] for paper in papers)
    assert [paper["publishedOn"] for paper in papers] == sorted(
        (paper["publishedOn"] for paper in papers), reverse=True
    )
    assert len(profile["coauthors"]) == 3
    assert report["unknown"] is None
    titles = report["search"]["titles"]
    assert 0 < len(titles) <= 5
    assert [title[0].casefold() for title in titles] == sorted(
        title[0].casefold() for title in titles
    )
    page = report["page"]
    assert (page["name"], page["computed"], page["reported"]) == (
        "David Bau",
        [0, 0, 50],
        [55, 14869, 71],
    )
    # the page's first three papers are the profile's, and "load more" goes on from them
    assert page["titles"] == [paper["title"] for paper in papers[:3]]
    assert len(page["moreTitles"]) == 3
    assert not set(page["titles"]) & set(page["moreTitles"])
    assert sum(count for _, count in page["papersByYear"]) == 50
    assert page["citationsByYear"] == []
    assert page["coauthors"][0] == ["rohit-gandikota", 8]


def create_write_token(url: str) -> str:
    async def create() -> str:
        engine = create_engine(url)
        try:
            return await add_token(engine)
        finally:
            await engine.dispose()

    return asyncio.run(create())


def stored_researchers(base: str) -> Any:
    return plain_request(base, "{ researchers { totalCount nodes { slug } } }")["researchers"]


def run_python_report(python_client: Path, *args: str) -> Any:
    script = CLIENTS / "python" / "report.py"
    python = CODEGEN_VENV / "bin" / "python"
    return run_report([python, script, *args], cwd=REPO, env={"PYTHONPATH": str(python_client)})


def run_typescript_report(typescript_program: Path, *args: str) -> Any:
    node = shutil.which("node")
    assert node is not None
    return run_report([node, "dist/report.js", *args], cwd=typescript_program)


def test_the_python_client_reads_what_a_plain_request_reads(
    seeded_url: str, python_client: Path
) -> None:
    with serve(create_app(Settings(database_url=seeded_url))) as base:
        report = run_python_report(python_client, "read", f"{base}/graphql")
        plainly = read_plainly(base)
    # pydantic turned the JSON into the generated models and the Date scalar into a date
    assert report.pop("pythonTypes") == {"result": "ResearcherProfile", "publishedOn": "date"}
    assert_reads_david_bau(report, plainly)


def test_the_python_client_writes_with_a_token_and_sees_refusals(
    database_url: str, python_client: Path
) -> None:
    token = create_write_token(database_url)
    with serve(create_app(Settings(database_url=database_url))) as base:
        report = run_python_report(python_client, "write", f"{base}/graphql", token)
        stored = stored_researchers(base)
    assert report.pop("pythonTypes") == {"userErrorCode": ["UserErrorCode"]}
    assert report == EXPECTED_WRITE_REPORT
    # the refused writes wrote nothing
    assert stored == {"totalCount": 1, "nodes": [{"slug": "renee-j-miller"}]}


def mypy(python_client: Path, target: Path) -> subprocess.CompletedProcess[str]:
    """mypy --strict over `target`, with the generated package and the codegen venv's libraries."""
    config = python_client / "mypy.ini"
    config.write_text("[mypy]\nstrict = True\n")
    command: list[str | Path] = [
        sys.executable,
        "-m",
        "mypy",
        "--config-file",
        config,
        "--python-executable",
        CODEGEN_VENV / "bin" / "python",
        "--cache-dir",
        python_client / ".mypy_cache",
        "--no-pretty",
        "--no-error-summary",
        target,
    ]
    return run(command, cwd=target.parent, env={"MYPYPATH": str(python_client)})


def test_the_python_report_type_checks_against_the_generated_client(python_client: Path) -> None:
    done = mypy(python_client, CLIENTS / "python" / "report.py")
    assert (done.returncode, done.stdout) == (0, ""), explain(done)


def test_mypy_rejects_mistakes_in_using_the_generated_client(
    python_client: Path, tmp_path: Path
) -> None:
    mistakes = tmp_path / "mistakes.py"
    mistakes.write_text(PYTHON_MISTAKES)
    done = mypy(python_client, mistakes)
    errors = re.findall(r"^mistakes\.py:(\d+): error: (.*)  \[(.*)\]$", done.stdout, re.MULTILINE)
    assert done.returncode == 1, explain(done)
    assert [(line, code) for line, _, code in errors] == [
        ("4", "attr-defined"),
        ("7", "attr-defined"),
        ("10", "arg-type"),
        ("14", "call-arg"),
    ], explain(done)
    messages = [message for _, message, _ in errors]
    assert messages[0] == (
        '"ResearcherProfileResearcherMetrics" has no attribute "hindex"; maybe "h_index"?'
    )
    assert messages[1] == '"ResearcherProfileResearcherPapersEdgesNode" has no attribute "abstract"'
    assert messages[2].endswith('has incompatible type "str"; expected "PaperOrderField"')
    assert messages[3].startswith('Missing positional argument "first" in call to "search_papers"')


def test_the_typescript_program_reads_what_a_plain_request_reads(
    seeded_url: str, typescript_program: Path
) -> None:
    with serve(create_app(Settings(database_url=seeded_url))) as base:
        report = run_typescript_report(typescript_program, "read", f"{base}/graphql")
        plainly = read_plainly(base)
    assert_reads_david_bau(report, plainly)


def test_the_typescript_program_writes_with_a_token_and_sees_refusals(
    database_url: str, typescript_program: Path
) -> None:
    token = create_write_token(database_url)
    with serve(create_app(Settings(database_url=database_url))) as base:
        report = run_typescript_report(typescript_program, "write", f"{base}/graphql", token)
        stored = stored_researchers(base)
    assert report == EXPECTED_WRITE_REPORT
    assert stored == {"totalCount": 1, "nodes": [{"slug": "renee-j-miller"}]}


def test_tsc_rejects_mistakes_in_using_the_generated_types(
    typescript_types: Path, tmp_path: Path
) -> None:
    make_typescript_project(tmp_path, typescript_types, {"mistakes.ts": TYPESCRIPT_MISTAKES})
    tsc = NODE_MODULES / ".bin" / "tsc"
    done = run([tsc, "-p", "tsconfig.json", "--noEmit", "--pretty", "false"], cwd=tmp_path)
    errors = re.findall(
        r"^typescript/mistakes\.ts\((\d+),\d+\): error (TS\d+): (.*)$", done.stdout, re.MULTILINE
    )
    assert done.returncode != 0, explain(done)
    assert [(line, code) for line, code, _ in errors] == [
        ("4", "TS2551"),
        ("5", "TS2339"),
        ("6", "TS2322"),
        ("7", "TS2741"),
    ], explain(done)
    messages = [message for _, _, message in errors]
    assert messages[0].startswith("Property 'hindex' does not exist on type '{ hIndex: number;")
    assert messages[0].endswith("Did you mean 'hIndex'?")
    assert messages[1].startswith("Property 'abstract' does not exist on type '{ id: string;")
    assert messages[2] == "Type '\"YEAR\"' is not assignable to type 'PaperOrderField'."
    assert messages[3].startswith("Property 'first' is missing in type '{ query: string; }'")
