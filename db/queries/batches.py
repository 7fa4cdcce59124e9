"""Batched reads with one statement text whatever the number of ids.

`column.in_(ids)` renders one placeholder per id: every batch size is a new
SQL text, so SQLAlchemy renders it again on every execution and PostgreSQL
prepares it again. Here the ids are ONE bound value, a PostgreSQL array
(`= ANY($1)`) or, on SQLite, a JSON array read by `json_each`, so that a
statement can be built once per dialect (`prepared`) and executed with
parameters: no statement building, no cache-key walk and no re-rendering per
request, and one prepared statement on the server.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import ARRAY, ColumnElement, Integer, String, any_, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable

from db.tables import AnyRow

S = TypeVar("S", bound=Executable)


def id_in(column: ColumnElement[Any], dialect: str, name: str = "ids") -> ColumnElement[bool]:
    """`column` is one of the ids bound as `name` (see `id_values`)."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(Integer)))
    values = func.json_each(bindparam(name, type_=String)).table_valued("value")
    return column.in_(select(values.c.value))


def id_values(dialect: str, ids: Sequence[int]) -> Any:
    """The bound value of an `id_in` list on this dialect."""
    if dialect == "postgresql":
        return list(ids)
    return json.dumps(list(ids))


def prepared(build: Callable[[str], S]) -> Callable[[str], S]:
    """`build(dialect)` made once per dialect: the statement object is reused, its cache key
    and compiled form with it."""
    return cache(build)


async def rows_for_ids(
    connection: AsyncConnection,
    statement: Callable[[str], Executable],
    ids: Sequence[int],
    **parameters: Any,
) -> list[AnyRow]:
    """The rows of a prepared statement whose `ids` list is bound to these ids."""
    dialect = connection.dialect.name
    bound = {"ids": id_values(dialect, ids), **parameters}
    return list((await connection.execute(statement(dialect), bound)).all())
