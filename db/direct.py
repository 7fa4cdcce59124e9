"""Statements run on the driver itself: compiled once, their rows read as named tuples.

A statement that SQLAlchemy executes costs, besides the database's own work,
an execution context, a result object, a type processor call per value and
(on aiosqlite) four or five hops to the driver's thread. For the few
statements a profile page runs per request that was most of its CPU. A
`Direct` is a Core select compiled once for a dialect; `ReadSnapshot.fetch`
runs it with one driver call (asyncpg's `fetch`, aiosqlite's
`execute_fetchall`) inside the request's snapshot and applies SQLAlchemy's
own result processors only to the columns that have one (SQLite's dates and
booleans), so the values are the ones SQLAlchemy would have returned.

`narrowed` keeps only the columns a caller reads: a byline needs its
researchers' names, not every column of `researcher`.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Integer, Select, literal_column
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.visitors import ExternallyTraversible, replacement_traverse

# The dialects statements are compiled for, as the engines' URLs name them.
DIALECTS: dict[str, Dialect] = {
    "postgresql": PGDialect_asyncpg(),  # type: ignore[no-untyped-call]
    "sqlite": SQLiteDialect_aiosqlite(),
}


_MISSING = object()
NO_OPTIONS: dict[str, Any] = {}


@dataclass(frozen=True, slots=True)
class Direct:
    """A select compiled for one dialect: its text, its parameters' order, how rows are read."""

    sql: str
    parameter_names: tuple[str, ...]
    # Per parameter: the value bound in the statement itself (a LIMIT, a literal), already
    # processed for the driver, or _MISSING when the caller gives it; and its bind processor.
    defaults: tuple[Any, ...]
    bind_processors: tuple[Callable[[Any], Any] | None, ...]
    row_type: type[tuple[Any, ...]]
    # Per column, SQLAlchemy's result processor for this dialect, or None.
    processors: tuple[Callable[[Any], Any] | None, ...]

    def parameters(self, values: dict[str, Any]) -> list[Any]:
        """The driver's positional parameters: the given values, then the statement's own."""
        bound = []
        for name, default, process in zip(
            self.parameter_names, self.defaults, self.bind_processors, strict=True
        ):
            if default is not _MISSING:
                bound.append(default)
                continue
            value = values[name]
            bound.append(value if process is None else process(value))
        return bound

    def rows(self, fetched: Iterable[Sequence[Any]]) -> list[Any]:
        # tuple.__new__ rather than the named tuple's _make: no Python frame per row.
        new, row_type, processors = tuple.__new__, self.row_type, self.processors
        if not any(processors):
            return [new(row_type, values) for values in fetched]
        return [
            new(
                row_type,
                [
                    value if process is None or value is None else process(value)
                    for process, value in zip(processors, values, strict=True)
                ],
            )
            for values in fetched
        ]


def direct(statement: Select[Any], dialect: str) -> Direct:
    """`statement` compiled for `dialect` ("postgresql" or "sqlite")."""
    engine_dialect = DIALECTS[dialect]
    inlined = replacement_traverse(statement, NO_OPTIONS, _fixed_integer_inline)
    assert isinstance(inlined, Select)
    compiled = inlined.compile(dialect=engine_dialect)
    names = tuple(compiled.positiontup or ())
    binds = [compiled.binds[name] for name in names]
    bind_processors = tuple(
        bind.type.dialect_impl(engine_dialect).bind_processor(engine_dialect) for bind in binds
    )
    defaults = tuple(
        _MISSING if bind.value is None and bind.callable is None else _processed(bind, process)
        for bind, process in zip(binds, bind_processors, strict=True)
    )
    keys = [str(column.key) for column in statement.selected_columns]
    processors = tuple(
        column.type.dialect_impl(engine_dialect).result_processor(engine_dialect, None)
        for column in statement.selected_columns
    )
    row_type = namedtuple("Row", keys)  # type: ignore[misc]  # one class per statement
    return Direct(compiled.string, names, defaults, bind_processors, row_type, processors)


def _fixed_integer_inline(
    element: ExternallyTraversible, **_options: Any
) -> ExternallyTraversible | None:
    """A whole number fixed in the statement (a page's LIMIT) written into its text.

    PostgreSQL plans a prepared statement afresh at every execution while a
    parameter such as LIMIT $1 makes its generic plan look costlier than a
    custom one (about 0.3 ms a leaderboard); with the number in the text the
    plan is made once per connection. Only integers: they cannot change the
    statement's meaning written out, and a caller's values stay parameters.
    """
    if (
        isinstance(element, BindParameter)
        and element.callable is None
        and isinstance(element.type, Integer)
        and type(element.value) is int
    ):
        return literal_column(str(element.value), type_=element.type)
    return None


def _processed(bind: Any, process: Callable[[Any], Any] | None) -> Any:
    value = bind.effective_value
    return value if process is None else process(value)


def narrowed(statement: Select[Any], keep: Iterable[str]) -> Select[Any]:
    """The same select with only the columns whose keys are in `keep`, in the same order."""
    wanted = set(keep)
    columns = [c for c in statement.selected_columns if c.key in wanted]
    return statement.with_only_columns(*columns, maintain_column_froms=True)


@cache
def narrowed_direct(
    build: Callable[[str], Select[Any]], dialect: str, columns: frozenset[str]
) -> Direct:
    """`build(dialect)` (a statement made once per dialect) with only `columns`, compiled once."""
    return direct(narrowed(build(dialect), columns), dialect)
