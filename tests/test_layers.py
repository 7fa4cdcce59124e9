"""The arrows between layers point one way: api → schema → resolvers → db, and seeds → db."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"api", "schema", "resolvers", "db", "seeds"}
ALLOWED = {
    "api": OURS,
    "schema": {"schema", "resolvers", "db"},
    # importProfile runs the same loader as the command line.
    "resolvers": {"resolvers", "db", "seeds"},
    "seeds": {"seeds", "db"},
    "db": {"db"},
}
STANDALONE = ["resolvers/metrics.py", "seeds/profile_text.py"]


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & OURS


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_no_layer_imports_a_layer_above_it(layer: str) -> None:
    upward = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) - ALLOWED[layer])
        for path in (ROOT / layer).rglob("*.py")
        if "node_modules" not in path.parts
    }
    assert {module: found for module, found in upward.items() if found} == {}


@pytest.mark.parametrize("module", STANDALONE)
def test_pure_modules_import_nothing_of_ours(module: str) -> None:
    assert imported_packages(ROOT / module) == set()
