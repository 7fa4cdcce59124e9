"""The README's recipes, run as written: the TypeScript client, and a write with a token made on
the command line. What the TypeScript recipe leaves behind is git-ignored; no npm tree the two
commands install asks for a newer Node than the one running."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from api.app import create_app
from api.settings import Settings
from tests.api.live import serve
from tests.api.test_typed_clients import CLIENTS, NODE_MODULES, REPO, explain, run, run_ok
from tests.support import skip_or_fail

README = REPO / "README.md"
NPM_TREES = [
    "api/graphiql",
    "api/profile_page",
    "tests/clients",
    "tests/http_audit",
    "tests/schema_lint",
]


def typescript_recipe() -> list[str]:
    """The commands of the README's TypeScript recipe, comments dropped."""
    text = README.read_text(encoding="utf-8")
    start = text.index("- **TypeScript**")
    block = re.search(r"```sh\n(.*?)```", text[start:], re.DOTALL)
    assert block, "the TypeScript recipe has no sh block"
    lines = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line]


def test_the_recipe_is_what_the_test_runs() -> None:
    assert typescript_recipe() == [
        "cd tests/clients",
        "npm ci",
        "npx graphql-codegen --config codegen.ts",
        "npx tsc -p tsconfig.json",
        "node dist/report.js read http://127.0.0.1:8000/graphql",
    ]


def copy_of_the_repository(folder: Path) -> Path:
    """schema.graphql and tests/clients as a clone has them (no generated files), npm ci done."""
    shutil.copy(REPO / "schema.graphql", folder)
    clients = folder / "tests" / "clients"
    shutil.copytree(
        CLIENTS, clients, ignore=shutil.ignore_patterns("node_modules", "generated", "dist")
    )
    (clients / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)
    return folder


def test_the_typescript_recipe_runs_as_written(seeded_url: str, tmp_path: Path) -> None:
    if shutil.which("node") is None or not (NODE_MODULES / ".bin" / "tsc").exists():
        skip_or_fail("node or the npm packages of tests/clients are missing (make test installs)")
    root = copy_of_the_repository(tmp_path)
    cwd = root
    with serve(create_app(Settings(database_url=seeded_url))) as base:
        for command in typescript_recipe():
            words = shlex.split(command.replace("http://127.0.0.1:8000", base))
            if words[0] == "cd":
                cwd = cwd / words[1]
            elif words[:2] == ["npm", "ci"]:
                continue  # node_modules is the suite's own install, linked in
            elif words[0] == "node":
                done = run(words, cwd=cwd)
            else:
                run_ok(words, cwd=cwd)
    assert done.returncode == 0, explain(done)
    report = json.loads(done.stdout)
    assert report["profile"]["name"] == "David Bau"
    assert report["page"]["reported"] == [55, 14869, 71]
    assert (cwd / "typescript" / "generated" / "graphql.ts").is_file()


@pytest.mark.parametrize(
    "path",
    [
        "tests/clients/typescript/generated/graphql.ts",
        "tests/clients/dist/report.js",
        "api/profile_page/dist/index.html",
        "api/profile_page/src/generated/graphql.ts",
        "api/profile_page/node_modules/.package-lock.json",
        "build/clients/scholargraph_client/__init__.py",
    ],
)
def test_generated_files_are_git_ignored(path: str) -> None:
    done = subprocess.run(
        ["git", "check-ignore", "--no-index", "--quiet", path], cwd=REPO, check=False
    )
    assert done.returncode == 0, f"{path} is not git-ignored"


@pytest.mark.parametrize("tree", NPM_TREES)
def test_no_locked_package_wants_a_newer_node(tree: str) -> None:
    """What `npm ci` checks before it warns EBADENGINE, with npm's own semver."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        skip_or_fail("node and npm are not installed")
    semver = Path(run_ok([npm, "root", "-g"], cwd=REPO).strip()) / "npm" / "node_modules" / "semver"
    script = """
      const semver = require(process.argv[1]);
      const lock = require(process.argv[2]);
      const refused = Object.entries(lock.packages)
        .filter(([path, p]) => path && p.engines && typeof p.engines.node === "string")
        .filter(([, p]) => !semver.satisfies(process.version, p.engines.node))
        .map(([path, p]) => `${path} wants node ${p.engines.node}`);
      console.log(JSON.stringify(refused));
    """
    lock = REPO / tree / "package-lock.json"
    refused = json.loads(run_ok([node, "-e", script, str(semver), str(lock)], cwd=REPO))
    assert refused == []


def write_example() -> str:
    """The README's example of a write: make a token, keep its secret, send it with curl."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Writing") :]
    return re.findall(r"```sh\n(.*?)```", section, re.DOTALL)[1]


def test_the_readme_write_example_runs_as_written(database_url: str) -> None:
    script = write_example()
    assert script.startswith("export SCHOLARGRAPH_TOKEN=$(.venv/bin/scholargraph token create ")
    with serve(create_app(Settings(database_url=database_url))) as base:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script.replace("http://127.0.0.1:8000", base)],
            cwd=REPO,
            env={**os.environ, "SCHOLARGRAPH_DATABASE_URL": database_url},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)["data"]["createResearcher"]
    assert payload["userErrors"] == []
    assert payload["researcher"]["slug"] == "marie-curie"
    # token create's notes went to standard error, not into the variable
    assert "this secret is shown once" in done.stderr
