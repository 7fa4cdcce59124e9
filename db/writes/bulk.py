"""Statements for writing many rows at once: the importers' prefetches, inserts and updates.

An import writes thousands of rows per transaction. Each helper here is one
statement (or one executemany) for the whole batch, whatever its size, so a
batch costs a handful of round trips rather than a few per row.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import (
    Float,
    Numeric,
    String,
    Table,
    any_,
    bindparam,
    delete,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    union,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, REGCLASS
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from db.tables import (
    AnyRow,
    authorship,
    authorship_institution,
    citation_year,
    institution,
    paper,
    paper_institution,
    researcher,
    researcher_alias,
    unlinked_author,
)
from db.writes import references

PAPER_KEYS = ("id", "openalex_id", "semantic_scholar_id", "arxiv_id", "doi", "title_key", "year")
PAPER_FILLED = ("abstract", "published_on", "citation_count")
PAPER_COLUMNS = (*PAPER_KEYS, *PAPER_FILLED)  # of papers_matching's rows, in order
PERSON_COLUMNS = ("id", "name_key", "openalex_id", "semantic_scholar_id", "orcid", "homepage")
INSTITUTION_COLUMNS = ("id", "name", "slug", "name_key", "openalex_id", "ror")


def values_in(
    connection: AsyncConnection, column: ColumnElement[Any], values: Iterable[Any]
) -> ColumnElement[bool]:
    """column IN (values) as ONE parameter: the statement's text never changes with the count.

    A list rendered as one placeholder per value makes a new statement for
    every length, and each is prepared and kept: SQLite's statement cache grew
    by half a megabyte per thousand works imported that way. SQLite reads the
    values from a JSON array (json_each), PostgreSQL from an array (= ANY);
    both look each value up in the column's index.
    """
    listed = sorted(set(values))
    if connection.dialect.name == "postgresql":
        return column == any_(literal(listed, ARRAY(column.type)))
    return column.in_(
        select(literal_column("value")).select_from(func.json_each(orjson.dumps(listed).decode()))
    )


async def driver_of(connection: AsyncConnection) -> Any:
    """The driver's own connection, for a statement it runs faster than SQLAlchemy would,
    inside the caller's transaction.

    SQLAlchemy's asyncpg adapter begins its transaction at its first statement:
    one the driver runs before any would run outside it, committed at once (an
    advisory lock let go as soon as taken). So that first statement is made
    here when none was. (SQLite's write transactions begin with the BEGIN the
    import or the write engine sends itself.)
    """
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    if (
        connection.dialect.name == "postgresql"
        and connection.in_transaction()
        and not driver.is_in_transaction()
    ):
        await connection.exec_driver_sql("SELECT 1")
    return driver


async def _rows_matching(
    connection: AsyncConnection,
    columns: Sequence[ColumnElement[Any]],
    pairs: Iterable[tuple[ColumnElement[Any], Iterable[Any]]],
) -> list[tuple[Any, ...]]:
    """The rows whose `column` holds one of its values, for any (column, values) pair, by id:
    the values of `columns` in order (tuples, or the driver's rows, which index as they do),
    the first column being the id.

    SQLite: column IN (...) OR column IN (...), each looked up in its index.
    PostgreSQL: a UNION of joins to unnest(array): each list is one parameter,
    so the statement is prepared once, and the planner drives the lookups from
    the short list whatever it believes of a table still being filled.

    The statement is made and compiled once for each shape (_matching) and run
    by the driver: an import reads thousands of rows a batch this way (the
    researchers of its authors), and SQLAlchemy's rows cost 2 us each beside the
    driver's 0.85 (3,500 researchers on PostgreSQL: 15 ms a statement, 6 so).
    """
    wanted = [(column, ordered) for column, values in pairs if (ordered := sorted(set(values)))]
    if not wanted:
        return []
    postgres = connection.dialect.name == "postgresql"
    sql, processors = _matching(
        connection.dialect, tuple(columns), tuple(column for column, _ in wanted)
    )
    driver = await driver_of(connection)
    if postgres:
        fetched = await driver.fetch(sql, *(values for _, values in wanted))
    else:
        cursor = await driver.execute(sql, [orjson.dumps(values).decode() for _, values in wanted])
        fetched = await cursor.fetchall()
        await cursor.close()
    if processors:
        rows = [
            tuple(
                v if p is None or v is None else p(v) for p, v in zip(processors, row, strict=True)
            )
            for row in fetched
        ]
    else:
        rows = list(fetched)  # the driver's rows as they are: asyncpg's Records index as tuples
    rows.sort(key=itemgetter(0))
    return rows


@lru_cache(maxsize=64)
def _matching(
    dialect: Dialect,
    columns: tuple[ColumnElement[Any], ...],
    keyed: tuple[ColumnElement[Any], ...],
) -> tuple[str, list[Callable[[Any], Any] | None] | None]:
    """The SQL of _rows_matching for these columns, looked up by these, as the dialect
    writes it (one parameter a keyed column, in order), and the columns' result processors
    (None when none has one: the driver's values are the values)."""
    if dialect.name == "postgresql":
        selects = []
        for index, column in enumerate(keyed):
            values = bindparam(f"k{index}", type_=ARRAY(column.type))
            given = func.unnest(values).table_valued("value").render_derived()
            selects.append(select(*columns).join_from(column.table, given, column == given.c.value))
        statement: Any = union(*selects)
    else:
        listed: list[Any] = [
            select(literal_column("value")).select_from(
                func.json_each(bindparam(f"k{index}", type_=String))
            )
            for index in range(len(keyed))
        ]
        statement = select(*columns).where(
            or_(*(column.in_(values) for column, values in zip(keyed, listed, strict=True)))
        )
    compiled = statement.compile(dialect=dialect)
    order = compiled.positiontup or []
    assert order == [f"k{index}" for index in range(len(keyed))], order
    processors: list[Callable[[Any], Any] | None] = [
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
    ]
    return compiled.string, processors if any(processors) else None


async def papers_matching(
    connection: AsyncConnection,
    *,
    openalex_ids: Iterable[str],
    semantic_scholar_ids: Iterable[str],
    arxiv_ids: Iterable[str],
    dois: Iterable[str],
    title_keys: Iterable[str],
) -> list[tuple[Any, ...]]:
    """Every paper that holds one of these ids or titles, in one statement: PAPER_COLUMNS."""
    return await _rows_matching(
        connection,
        [paper.c[name] for name in PAPER_COLUMNS],
        (
            (paper.c.openalex_id, openalex_ids),
            (paper.c.semantic_scholar_id, semantic_scholar_ids),
            (paper.c.arxiv_id, arxiv_ids),
            (paper.c.doi, dois),
            (paper.c.title_key, title_keys),
        ),
    )


async def researchers_matching(
    connection: AsyncConnection,
    *,
    openalex_ids: Iterable[str],
    semantic_scholar_ids: Iterable[str],
    orcids: Iterable[str],
    name_keys: Iterable[str],
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Researchers holding these ids or name keys (by name or alias), oldest first, as
    PERSON_COLUMNS; and the aliases of those keys, as (researcher_id, alias_key)."""
    keys = sorted(set(name_keys))
    aliases = await _rows_matching(
        connection,
        [researcher_alias.c.researcher_id, researcher_alias.c.alias_key],
        [(researcher_alias.c.alias_key, keys)],
    )
    people = await _rows_matching(
        connection,
        [researcher.c[name] for name in PERSON_COLUMNS],
        (
            (researcher.c.openalex_id, openalex_ids),
            (researcher.c.semantic_scholar_id, semantic_scholar_ids),
            (researcher.c.orcid, orcids),
            (researcher.c.name_key, keys),
            (researcher.c.id, [researcher_id for researcher_id, _ in aliases]),
        ),
    )
    return people, aliases


async def institutions_matching(
    connection: AsyncConnection,
    *,
    openalex_ids: Iterable[str],
    rors: Iterable[str],
    name_keys: Iterable[str],
    slugs: Iterable[str],
) -> list[tuple[Any, ...]]:
    """Institutions holding these ids, name keys or slugs, as INSTITUTION_COLUMNS."""
    return await _rows_matching(
        connection,
        [institution.c[name] for name in INSTITUTION_COLUMNS],
        (
            (institution.c.openalex_id, openalex_ids),
            (institution.c.ror, rors),
            (institution.c.name_key, name_keys),
            (institution.c.slug, slugs),
        ),
    )


async def free_slugs(
    connection: AsyncConnection,
    table: Table,
    bases: Sequence[str],
    hints: dict[str, int] | None = None,
) -> list[str]:
    """A slug per base, in order, none taken in `table` nor given twice: base, base-2, base-3 ...

    `hints` (kept by the caller across batches) holds, per base, the highest
    suffix known taken (1: the base itself), so that the hundredth "Wei Zhang"
    of an import probes a few slugs after the last one given, not the hundred
    before. Each round asks for all bases at once, in one statement.
    """
    hints = {} if hints is None else hints
    wanted: dict[str, int] = {}
    for base in bases:
        wanted[base] = wanted.get(base, 0) + 1
    found: dict[str, list[str]] = {base: [] for base in wanted}
    next_suffix = {base: hints.get(base, 0) + 1 for base in wanted}
    size = {base: max(8, 2 * count) for base, count in wanted.items()}
    while pending := [base for base in wanted if len(found[base]) < wanted[base]]:
        candidates = {
            base: [
                (n, base if n == 1 else f"{base}-{n}")
                for n in range(next_suffix[base], next_suffix[base] + size[base])
            ]
            for base in pending
        }
        every = [slug for listed in candidates.values() for _, slug in listed]
        taken = {
            slug
            for (slug,) in await _rows_matching(connection, [table.c.slug], [(table.c.slug, every)])
        }
        for base, listed in candidates.items():
            for n, slug in listed:
                if slug in taken:
                    hints[base] = max(hints.get(base, 0), n)
                elif len(found[base]) < wanted[base]:
                    found[base].append(slug)
                    hints[base] = max(hints.get(base, 0), n)
            next_suffix[base] += size[base]
            size[base] *= 2
    return [found[base].pop(0) for base in bases]


async def insert_returning_ids(
    connection: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> list[int]:
    """Insert the rows; their ids, in row order.

    The ids are taken first (from the sequence on PostgreSQL; after the
    largest on SQLite, whose writer holds the database) and written with the
    rows: INSERT ... RETURNING in parameter order costs SQLite a round trip
    per row, and ids known up front let PostgreSQL take the rows by COPY.
    """
    if not rows:
        return []
    ids = await _new_ids(connection, table, len(rows))
    await insert_rows(
        connection, table, [{**row, "id": new_id} for row, new_id in zip(rows, ids, strict=True)]
    )
    return ids


async def insert_rows(
    connection: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert rows that all set the same columns, by the fastest way the database has.

    PostgreSQL: COPY, several times faster than multi-row INSERTs for a batch.
    SQLite: one INSERT ... SELECT from the rows as one JSON array (json_each),
    bound as one parameter. The driver's thread then holds the GIL once for
    the statement, not once per row as an executemany binds, so the import's
    Python goes on meanwhile instead of each row waiting for the GIL; and
    SQLite reads the array faster than the driver binds tuples (350,000
    bylines: 23.5 us a row against 25.8-29.2). SQLite (3.40) parses a row's
    JSON again for each item it takes out, so a value every row shares (a
    batch's timestamps, the defaults) is bound once beside the array instead:
    100,000 papers inserted in batches of 4,000, 4.35-4.39 -> 3.73-3.83 s on
    their own; in an import of 100,000 works the papers' statements took
    2.1 s of the driver's thread instead of 3.2-3.6, though the import's CPU
    moved less (26.3-28.1 -> 25.9-27.8 s: the thread had been waiting for
    the GIL part of that time). Rows JSON cannot carry exactly (bytes, a
    NaN, an integer past 64 bits) go by executemany.
    Either way the values are those SQLAlchemy would send: the columns'
    Python defaults filled in, each value through its column type's bind
    processing (done once per distinct value for the types that need it:
    dates and timestamps).
    """
    if not rows:
        return
    references.note(connection, table, rows, inserted=True)
    names = list(rows[0])
    defaults = {
        column.name: column.default.arg  # type: ignore[attr-defined]
        for column in table.columns
        if column.name not in rows[0] and column.default is not None and column.default.is_scalar
    }
    columns = [*names, *defaults]
    fixed = tuple(defaults.values())
    if connection.dialect.name == "postgresql":
        driver = await driver_of(connection)
        await driver.copy_records_to_table(
            table.name, records=_tuples(rows, names, fixed), columns=columns
        )
        return
    values = [[row[name] for row in rows] for name in names]
    values += [[value] * len(rows) for value in fixed]
    for index, name in enumerate(columns):
        process = _memoised(table.c[name].type.bind_processor(connection.dialect))
        if process is not None:
            values[index] = [None if v is None else process(v) for v in values[index]]
    quoted = ", ".join(f'"{name}"' for name in columns)
    exact = not any(
        type(value) is float and not math.isfinite(value)  # orjson writes NaN as null
        for name, column in zip(columns, values, strict=True)
        if isinstance(table.c[name].type, Float | Numeric)
        for value in column
    )
    if exact and len(rows) > 1:
        # A value every row shares (its timestamps, the defaults) is bound once.
        shared = {i for i, column in enumerate(values) if _all_alike(column)}
        varying = [column for i, column in enumerate(values) if i not in shared]
        array = _json_array(list(zip(*varying, strict=True))) if varying else "[]"
        if array is not None and varying:
            items = iter(range(len(varying)))
            extracted = ", ".join(
                "?" if i in shared else _JSON_ITEM.format(next(items)) for i in range(len(columns))
            )
            statement = (
                f'INSERT INTO "{table.name}" ({quoted}) SELECT {extracted} FROM json_each(?)'
            )
            bound = (*(values[i][0] for i in sorted(shared)), array)
            await connection.exec_driver_sql(statement, bound)
            return
    placeholders = ", ".join("?" for _ in columns)
    await connection.exec_driver_sql(
        f'INSERT INTO "{table.name}" ({quoted}) VALUES ({placeholders})',
        list(zip(*values, strict=True)),
    )


def _all_alike(column: list[Any]) -> bool:
    """Whether every value is the first, of its type too (True is not 1 here, nor 1.0)."""
    first = column[0]
    kind = type(first)
    return column.count(first) == len(column) and all(type(value) is kind for value in column)


def _tuples(
    rows: Sequence[Mapping[str, Any]], names: list[str], fixed: tuple[Any, ...]
) -> list[tuple[Any, ...]]:
    """Each row's values in the order of `names`, then the `fixed` ones.

    By itemgetter: a generator per row, unpacked into a tuple, was a third of
    the time a batch's COPYs took in this process (0.65 of 1.9 s at 20,000 works).
    """
    if len(names) == 1:
        (name,) = names
        return [(row[name], *fixed) for row in rows]
    values = itemgetter(*names)
    if not fixed:
        return [values(row) for row in rows]
    return [values(row) + fixed for row in rows]


# Item i of a row array, as SQL: text, integer, real or NULL, as the value was bound.
_JSON_ITEM = (
    "value ->> {}" if sqlite3.sqlite_version_info >= (3, 38) else "json_extract(value, '$[{}]')"
)


def _json_array(records: list[tuple[Any, ...]]) -> str | None:
    """The rows as one JSON array of arrays; None when JSON cannot carry a value."""
    try:
        return orjson.dumps(records).decode()
    except orjson.JSONEncodeError:  # bytes, an integer past 64 bits, ...
        return None


def _memoised(process: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """The bind processor, remembering its answers: a batch repeats its dates and timestamps."""
    if process is None:
        return None
    answers: dict[Any, Any] = {}

    def remembered(value: Any) -> Any:
        try:
            return answers[value]
        except KeyError:
            answers[value] = answer = process(value)
            return answer
        except TypeError:  # unhashable
            return process(value)

    return remembered


async def _new_ids(connection: AsyncConnection, table: Table, count: int) -> list[int]:
    if connection.dialect.name == "postgresql":
        sequence = await _id_sequence(connection, table)
        statement = select(func.nextval(literal(sequence, REGCLASS))).select_from(
            func.generate_series(1, count)
        )
        return list((await connection.execute(statement)).scalars())
    largest = (await connection.execute(select(func.max(table.c.id)))).scalar() or 0
    return list(range(largest + 1, largest + 1 + count))


async def _id_sequence(connection: AsyncConnection, table: Table) -> str:
    """The sequence of the table's ids, asked for once per connection and table.

    pg_get_serial_sequence in the statement that takes the ids ran once per
    id, about 5 us a work imported: a catalogue lookup whose answer never
    changes while the schema does not.
    """
    known: dict[str, str] = connection.info.setdefault("id_sequences", {})
    if table.name not in known:
        statement = select(func.pg_get_serial_sequence(table.name, "id"))
        known[table.name] = (await connection.execute(statement)).scalar_one()
    return known[table.name]


async def insert_papers(
    connection: AsyncConnection, rows: Sequence[Mapping[str, Any]]
) -> list[int]:
    """Insert papers; their ids in row order. Their full-text entries follow in one statement.

    On SQLite the trigger that indexes each new paper (migration 0002) costs
    about 150 us a row, twenty times what one INSERT ... SELECT into the index
    costs for the whole batch. So the trigger is dropped and made again from
    its own text inside the caller's transaction: other connections never see
    the table without it, and a rollback restores it.
    """
    if connection.dialect.name != "sqlite" or not rows:
        return await insert_returning_ids(connection, paper, rows)
    trigger = (await connection.execute(_SEARCH_TRIGGER)).scalar_one_or_none()
    if trigger is None:
        return await insert_returning_ids(connection, paper, rows)
    await connection.execute(text("DROP TRIGGER paper_search_insert"))
    ids = await insert_returning_ids(connection, paper, rows)
    await connection.execute(_SEARCH_INSERT, {"ids": orjson.dumps(ids).decode()})
    await connection.execute(text(trigger))
    return ids


_SEARCH_TRIGGER = text(
    "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'paper_search_insert'"
)
# The body of the trigger, for many rows at once.
_SEARCH_INSERT = text(
    "INSERT INTO paper_search(rowid, title, abstract)"
    " SELECT id, title, abstract FROM paper WHERE id IN (SELECT value FROM json_each(:ids))"
)


_READ_BY_INDEX = (
    "SELECT set_config('enable_seqscan', 'off', true),"
    " set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)"
)
_BY_INDEX = _READ_BY_INDEX + ", set_config('synchronous_commit', 'off', true)"


async def read_by_index(connection: AsyncConnection) -> None:
    """PostgreSQL: this transaction's statements look rows up by index, never by a whole scan.

    For statements that read a few keys' rows of tables an import is filling,
    whose statistics lag far behind (begin_writing): the leaderboard refresh of
    an import reads the papers of a thousand researchers a statement.
    """
    if connection.dialect.name == "postgresql":
        await connection.exec_driver_sql(_READ_BY_INDEX)


async def analyze_filled(connection: AsyncConnection) -> None:
    """PostgreSQL: statistics for the tables an import fills, before a statement that reads
    them whole (an import's refresh of everyone's figures): autovacuum's lag behind (see
    begin_writing) would have the planner loop over tables it believes small."""
    if connection.dialect.name == "postgresql":
        await connection.exec_driver_sql("ANALYZE paper, authorship, researcher")


async def make_durable(connection: AsyncConnection) -> None:
    """Make this transaction's commit wait for the WAL to reach disk, and every commit before it.

    On PostgreSQL the batches commit without waiting (begin_writing); a
    transaction that writes nothing commits without a record to wait for,
    so this one takes a transaction id: its commit then waits for the WAL
    up to its own record, every batch's included.
    """
    if connection.dialect.name == "postgresql":
        await connection.exec_driver_sql("SELECT txid_current()")


# SQLite's page cache on a connection that imports: 16 MB, not the default 2 MB. Each batch
# inserts bylines at random places of the researcher-keyed indexes of authorship, and with the
# default cache most of those pages were read again from the file and written out early: the
# authorship inserts of 100,000 works took 9-12 s with 2 MB, 5 s with 32 MB. 32 MB took a
# million works to a peak of 210 MB, 16 MB to 188 MB (the goal: 200). Set once per connection:
# each statement costs a wait for the GIL while the next batch is read.
_IMPORT_CACHE = "PRAGMA cache_size = -16384"


async def begin_writing(connection: AsyncConnection) -> None:
    """Begin an import batch's transaction: IMMEDIATE on SQLite, by index on PostgreSQL.

    On SQLite the caller's transaction begins IMMEDIATE, unless one is open already.

    The sqlite3 driver begins a transaction only at the first INSERT, UPDATE
    or DELETE: a batch's prefetch would read outside it, and another writer
    could add a paper or a researcher between the read and the write (a
    duplicate, or an id taken twice: ids are taken after the largest). A DDL
    statement (insert_papers drops the search trigger) would even commit at
    once, and a paper another connection inserted before the trigger was
    made again would never be indexed. BEGIN IMMEDIATE takes the write lock
    first: other writers wait (busy_timeout) until the batch commits, and
    readers see the schema and rows as they were until then.

    On PostgreSQL, the transaction's look-ups go by index, never by a scan of
    the whole table: while an import fills a table its statistics lag far
    behind (autovacuum analyses it now and then), and the planner, believing
    paper holds a tenth of its rows, hashed the whole table for each batch's
    2,000 DOIs: a cost that grows with the table (110 ms a batch at 100,000
    papers, against 7 ms by index). Every statement of a batch looks rows up
    by key, so the settings hold for the transaction (SET LOCAL).

    Nor does a batch's commit wait for its WAL to reach the disk
    (synchronous_commit off, for the transaction): a server crash may lose
    the last batches committed, never part of one, and the import ends with
    a commit that waits (make_durable), which flushes every batch before it.
    """
    if connection.dialect.name == "postgresql":
        await connection.exec_driver_sql(_BY_INDEX)
        return
    if connection.dialect.name != "sqlite":
        return
    raw = await connection.get_raw_connection()
    if not connection.info.get("import_cache"):  # kept by the pooled connection
        await connection.exec_driver_sql(_IMPORT_CACHE)
        connection.info["import_cache"] = True
    if not raw.driver_connection.in_transaction:  # type: ignore[union-attr]
        await connection.exec_driver_sql("BEGIN IMMEDIATE")


async def update_by_id(
    connection: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Each row's values onto the row with its "id"; rows that set the same columns go together."""
    references.note(connection, table, rows, inserted=False)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        columns = tuple(sorted(name for name in row if name != "id"))
        groups.setdefault(columns, []).append({f"new_{k}": v for k, v in row.items()})
    for columns, params in groups.items():
        statement = (
            update(table)
            .where(table.c.id == bindparam("new_id"))
            .values({name: bindparam(f"new_{name}") for name in columns})
        )
        await connection.execute(statement, params)


async def details_of_papers(connection: AsyncConnection, paper_ids: Sequence[int]) -> PaperDetails:
    """What hangs off these papers, as an import compares it: five statements."""
    ids = sorted(set(paper_ids))
    details = PaperDetails()
    if not ids:
        return details
    details.authorships = (
        await connection.execute(
            select(
                authorship.c.id,
                authorship.c.paper_id,
                authorship.c.researcher_id,
                authorship.c.position,
                authorship.c.display_name,
            ).where(values_in(connection, authorship.c.paper_id, ids))
        )
    ).all()
    details.citation_years = (
        await connection.execute(
            select(citation_year.c.paper_id, citation_year.c.year, citation_year.c.count)
            .where(values_in(connection, citation_year.c.paper_id, ids))
            .order_by(citation_year.c.paper_id, citation_year.c.year)
        )
    ).all()
    details.unlinked = (
        await connection.execute(
            select(
                unlinked_author.c.paper_id,
                unlinked_author.c.position,
                unlinked_author.c.display_name,
            )
            .where(values_in(connection, unlinked_author.c.paper_id, ids))
            .order_by(unlinked_author.c.paper_id, unlinked_author.c.position)
        )
    ).all()
    details.paper_institutions = (
        await connection.execute(
            select(paper_institution.c.paper_id, paper_institution.c.institution_id).where(
                values_in(connection, paper_institution.c.paper_id, ids)
            )
        )
    ).all()
    details.authorship_institutions = (
        await connection.execute(
            select(authorship_institution.c.authorship_id, authorship_institution.c.institution_id)
            .join(authorship, authorship.c.id == authorship_institution.c.authorship_id)
            .where(values_in(connection, authorship.c.paper_id, ids))
        )
    ).all()
    return details


class PaperDetails:
    """Rows hanging off a set of papers."""

    def __init__(self) -> None:
        self.authorships: Sequence[AnyRow] = ()
        self.citation_years: Sequence[AnyRow] = ()
        self.unlinked: Sequence[AnyRow] = ()
        self.paper_institutions: Sequence[AnyRow] = ()
        self.authorship_institutions: Sequence[AnyRow] = ()


async def delete_of_papers(
    connection: AsyncConnection, table: Table, paper_ids: Iterable[int]
) -> None:
    """Delete the rows of `table` (citation_year, unlinked_author) that belong to these papers."""
    references.refuse_delete(connection, table)
    ids = sorted(set(paper_ids))
    if ids:
        await connection.execute(delete(table).where(values_in(connection, table.c.paper_id, ids)))
