"""schema.graphql passes graphql-schema-linter with every rule in tests/schema_lint on."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from api.cli import SCHEMA_PATH
from tests.support import skip_or_fail

LINT = Path(__file__).resolve().parents[1] / "schema_lint"
PACKAGE = LINT / "node_modules" / "graphql-schema-linter"
CONFIG = LINT / "graphql-schema-linter.config.js"
FINDING = re.compile(r"^(?P<place>\S+:\d+:\d+) (?P<message>.*) \((?P<rule>[a-z-]+)\)$")

# One breach of every built-in rule, the same SDL also valid GraphQL, so each rule has
# something to find: a type without a description, a connection without pageInfo, ...
BAD_SDL = '''
type Query {
  things(filter: ThingFilter): ThingConnection!
  """A paper's id, in a way this rule dislikes."""
  paper_id: ID
  """the lowercase description."""
  old: String @deprecated
  """Where the interface is used."""
  named: Named
}

"""A page of things without pageInfo."""
type ThingConnection {
  """The things."""
  edges: [Thing!]!
}

type Thing {
  """Its name, listed after its kind."""
  name: String
  """Its kind."""
  kind: Kind
}

"""A type nothing refers to, lower case."""
type unused {
  """Nothing."""
  nothing: String
}

"""Something with a name."""
interface Named {
  """Listed before a."""
  b: String
  """Listed after b."""
  a: String
}

"""Which things."""
input ThingFilter {
  zed: String
  """Listed after zed, snake case."""
  min_count: Int
}

"""Kinds of things."""
enum Kind {
  """Listed before ALPHA."""
  BETA
  """Listed after BETA."""
  ALPHA
  gamma
}
'''


def run_linter(schema: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None:
        skip_or_fail("node is not installed")
    if not (PACKAGE / "package.json").is_file():
        skip_or_fail(f"graphql-schema-linter is not installed: run `npm ci` in {LINT}")
    bin_path = json.loads((PACKAGE / "package.json").read_text())["bin"]["graphql-schema-linter"]
    command = [node, str(PACKAGE / bin_path), "--config-directory", str(LINT)]
    return subprocess.run(
        [*command, "--format", "compact", str(schema)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def findings(result: subprocess.CompletedProcess[str]) -> list[dict[str, str]]:
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    matches = [FINDING.match(line) for line in lines]
    assert all(matches), result.stdout
    return [match.groupdict() for match in matches if match]


def configured_rules() -> list[str]:
    node = shutil.which("node")
    if node is None:
        skip_or_fail("node is not installed")
    script = "process.stdout.write(JSON.stringify(require(process.argv[1]).rules))"
    output = subprocess.run(
        [node, "-e", script, str(CONFIG)], capture_output=True, text=True, check=True
    )
    rules: list[str] = json.loads(output.stdout)
    return rules


def test_schema_graphql_passes_the_linter() -> None:
    result = run_linter(SCHEMA_PATH)
    report = result.stdout + result.stderr
    assert result.returncode == 0, f"graphql-schema-linter found problems:\n{report}"
    assert findings(result) == []
    assert result.stderr == "", report  # e.g. "The following rule(s) are invalid"


def test_every_built_in_rule_is_on() -> None:
    if not PACKAGE.is_dir():
        skip_or_fail(f"graphql-schema-linter is not installed: run `npm ci` in {LINT}")
    built_in = sorted(path.stem.replace("_", "-") for path in (PACKAGE / "lib/rules").glob("*.js"))
    assert len(built_in) == 19
    assert sorted(configured_rules()) == built_in


def test_a_schema_that_breaks_the_rules_fails_naming_each_rule(tmp_path: Path) -> None:
    bad = tmp_path / "bad.graphql"
    bad.write_text(BAD_SDL, encoding="utf-8")

    result = run_linter(bad)

    assert result.returncode == 1, result.stdout + result.stderr
    found = findings(result)
    assert {finding["rule"] for finding in found} == set(configured_rules())
    messages = {(finding["rule"], finding["message"]) for finding in found}
    assert ("types-have-descriptions", "The object type `Thing` is missing a description.") in (
        messages
    )
    assert (
        "relay-connection-types-spec",
        "Connection `ThingConnection` is missing the following field: pageInfo.",
    ) in messages
