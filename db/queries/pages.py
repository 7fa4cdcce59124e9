"""Keyset pagination: one mechanism for every connection.

A page is the rows strictly after a key (the cursor) in a total order, so
page 1,000 costs what page 1 costs and rows added between requests never
shift a page. Every ordering ends with the row's id, which makes it total.
All keys of an ordering run in one direction so that a row-value comparison
`(k1, k2, id) > (:k1, :k2, :id)` selects the rest; a key that should run the
other way is negated (coauthors: most shared first, then by name).

Pages of several parents (the papers of 20 researchers) come from one
statement: ROW_NUMBER() over each parent's rows, cut at the page size.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from db.tables import AnyRow

KeyParser = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Ordering:
    """A named total order: sort expressions (the row id last) and how to read them back."""

    name: str
    keys: tuple[ColumnElement[Any], ...]
    parsers: tuple[KeyParser, ...]
    descending: bool = False

    def reversed(self) -> Ordering:
        """The same keys the other way round, under a name of its own (cursors differ)."""
        return replace(self, name=f"{self.name}:REVERSED", descending=not self.descending)

    def parse(self, values: Sequence[Any]) -> tuple[Any, ...]:
        """Key values from a cursor, as the types the comparison binds; ValueError if not."""
        if len(values) != len(self.parsers):
            raise ValueError("cursor has the wrong number of keys")
        return tuple(parse(value) for parse, value in zip(self.parsers, values, strict=True))


@dataclass(frozen=True, slots=True)
class PageRequest:
    """`size` rows after `after` (forwards), or before it when `backwards`."""

    size: int
    after: tuple[Any, ...] | None = None
    backwards: bool = False


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[AnyRow]
    keys: list[tuple[Any, ...]]
    has_next_page: bool
    has_previous_page: bool


def parse_date(value: Any) -> date:
    return date.fromisoformat(str(value))


def parse_int(value: Any) -> int:
    # Integer keys bind as 32-bit INTEGER; PostgreSQL refuses a larger number, SQLite past 64 bits.
    if not isinstance(value, int) or isinstance(value, bool) or not -(2**31) <= value < 2**31:
        raise ValueError("expected an integer key")
    return value


def parse_float(value: Any) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError("expected a number key")
    try:
        number = float(value)
    except OverflowError as error:
        raise ValueError("expected a number key") from error
    if not math.isfinite(number):
        raise ValueError("expected a finite number key")
    return number


def parse_str(value: Any) -> str:
    if not isinstance(value, str) or "\x00" in value:  # PostgreSQL's text cannot hold NUL
        raise ValueError("expected a text key")
    return value


def _scan_descending(ordering: Ordering, request: PageRequest) -> bool:
    return ordering.descending != request.backwards


def _key_labels(ordering: Ordering) -> list[str]:
    return [f"sort_key_{i}" for i in range(len(ordering.keys))]


def _restricted(statement: Select[Any], ordering: Ordering, request: PageRequest) -> Select[Any]:
    """The statement with the sort keys as columns, and only rows past the cursor."""
    labelled = [
        key.label(label) for key, label in zip(ordering.keys, _key_labels(ordering), strict=True)
    ]
    statement = statement.add_columns(*labelled)
    if request.after is None:
        return statement
    bound = [
        literal(value, key.type) for key, value in zip(ordering.keys, request.after, strict=True)
    ]
    past = (
        tuple_(*ordering.keys) < tuple_(*bound)
        if _scan_descending(ordering, request)
        else (tuple_(*ordering.keys) > tuple_(*bound))
    )
    return statement.where(past)


def _sort(ordering: Ordering, request: PageRequest) -> list[ColumnElement[Any]]:
    descending = _scan_descending(ordering, request)
    return [key.desc() if descending else key.asc() for key in ordering.keys]


def page_statement(statement: Select[Any], ordering: Ordering, request: PageRequest) -> Select[Any]:
    """One page (plus one row, to know whether there is more) of a single list.

    The LIMIT is written into the statement's text when it runs (`literal_execute`),
    not sent as a parameter: PostgreSQL plans a prepared `LIMIT $1` again at every
    execution (its generic plan looks costlier than one made for the value), about
    0.3 ms a page; with the number in the text it plans once per connection and size.
    """
    restricted = _restricted(statement, ordering, request)
    size = literal(request.size + 1, Integer, literal_execute=True)
    return restricted.order_by(*_sort(ordering, request)).limit(size)


async def fetch_page(
    connection: AsyncConnection, statement: Select[Any], ordering: Ordering, request: PageRequest
) -> list[AnyRow]:
    """The rows of `page_statement`, in scan order, for `cut_page`."""
    return list((await connection.execute(page_statement(statement, ordering, request))).all())


async def count_rows(connection: AsyncConnection, statement: Select[Any]) -> int:
    """How many rows the statement selects: the totalCount of a whole list."""
    counted = select(func.count()).select_from(statement.subquery())
    return int((await connection.execute(counted)).scalar_one())


def partitioned_page_statement(
    statement: Select[Any],
    ordering: Ordering,
    request: PageRequest,
    *,
    parent: ColumnElement[Any],
) -> Select[Any]:
    """The same page of many parents' lists at once; rows carry `page_parent` and come in order."""
    restricted = _restricted(statement, ordering, request).add_columns(
        parent.label("page_parent"),
        func.row_number()
        .over(partition_by=parent, order_by=_sort(ordering, request))
        .label("page_row"),
    )
    ranked = restricted.subquery("ranked")
    return (
        select(ranked)
        .where(ranked.c.page_row <= request.size + 1)
        .order_by(ranked.c.page_parent, ranked.c.page_row)
    )


def cut_page(rows: Sequence[AnyRow], ordering: Ordering, request: PageRequest) -> Page:
    """Turn the fetched rows (at most size + 1, in scan order) into a page in sort order."""
    more = len(rows) > request.size
    kept = list(rows[: request.size])
    if request.backwards:
        kept.reverse()
    labels = _key_labels(ordering)
    # Positions found once: Row._mapping builds a new mapping at every access.
    positions = [kept[0]._fields.index(label) for label in labels] if kept else []
    keys = [tuple(row[position] for position in positions) for row in kept]
    continued = request.after is not None
    if request.backwards:
        return Page(kept, keys, has_next_page=continued, has_previous_page=more)
    return Page(kept, keys, has_next_page=more, has_previous_page=continued)
