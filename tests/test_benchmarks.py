"""Every benchmark under tests/benchmarks loads and parses its arguments.

Benchmarks are not run by `make test` (they print figures and take minutes),
so nothing else notices when a change breaks one: a name they import moved, a
helper they share with another benchmark renamed. Each is started here with
`--help`, as `python -m tests.benchmarks.NAME --help` would.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import pytest

import tests.benchmarks

BENCHMARKS = sorted(
    module.name
    for module in pkgutil.iter_modules(tests.benchmarks.__path__)
    if module.name.startswith("bench_")
)


def test_the_benchmarks_are_found() -> None:
    assert {"bench_api", "bench_cost", "bench_attacks", "bench_import"} <= set(BENCHMARKS)


@pytest.mark.parametrize("name", BENCHMARKS)
def test_benchmark_starts(
    name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    module = importlib.import_module(f"tests.benchmarks.{name}")
    monkeypatch.setattr(sys, "argv", [name, "--help"])
    with pytest.raises(SystemExit) as exit_:
        module.main()
    assert exit_.value.code == 0
    assert "usage:" in capsys.readouterr().out
