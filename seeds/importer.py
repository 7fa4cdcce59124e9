"""Writing bibliographic records (OpenAlex, Semantic Scholar) in batched transactions.

Records stream in; each batch is matched and written in one transaction
(seeds.bulk), so memory stays flat and a crash loses at most a batch, which
the same command writes again on the next run: each record is matched
before it is written and compared before it is changed, so importing a
file twice changes nothing and reports every record unchanged. (On
PostgreSQL a batch's commit does not wait for the disk; a server crash may
lose the last few batches, and the import's last commit waits for them all:
db.writes.bulk.begin_writing.) The next batch is read while one is written.

On PostgreSQL a batch holds an advisory lock per key it may create (DOIs,
author ids, name keys ...), and the server's lock table is shared by every
connection (max_locks_per_transaction x max_connections, 6,400 by default);
so a batch is cut into transactions of at most LOCK_BUDGET keys.

Leaderboard figures (researcher_indicators) of the researchers an import
touches are recomputed when REFRESH_TOUCHED of them have gathered, and at
the end: not after every batch nor every so many records, because each
refresh reads every paper of each researcher it recomputes. A researcher on
works all over a file would be recomputed over all their papers once per
refresh, a cost growing with the square of the file. (At a million
generated works on SQLite the change from a refresh every 100,000 records
was lost in the noise of a loaded machine: 429 s of CPU before, 468 s
after; it is the snapshot's hundreds of millions that it is for.) The set
of ids gathered is what bounds memory. An import that crashes may leave
figures stale for the works written since the last refresh; `scholargraph
db refresh-indicators` recomputes them all.

A record that does not have its source's shape is reported and skipped; with
`strict`, the first one ends the import and nothing of its batch is written.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from db.reads import ChangeSet, announce
from db.writes.bulk import make_durable
from db.writes.indicators import refresh_indicators
from seeds.bulk import Outcome, Record, checkpoint, keys_by_namespace, lock_keys, write_batch
from seeds.jsonrecords import Line
from seeds.records import AuthorRecord, RecordError, WorkRecord

__all__ = ["DEFAULT_BATCH", "ImportSummary", "Outcome", "StrictImportError", "import_records"]

# Records a batch (a transaction on SQLite; on PostgreSQL the lock budget cuts it further).
# Larger batches insert into the random pages of the researcher-keyed indexes fewer times
# and checkpoint less: at 100,000 works on SQLite (load ~1) 2,000 gave 8,800 works/s,
# 4,000 11,300 at 152 MB peak, 5,000 11,700 at 161 MB, 10,000 12,200 at 206 MB; at a
# million works 5,000 peaked at 196 MB, too near the 200 MB asked for. PostgreSQL is
# unchanged (5,891 and 5,935 works/s).
DEFAULT_BATCH = 4000
LOCK_BUDGET = 2500
REFRESH_TOUCHED = 100_000  # researchers gathered before their figures are recomputed
READ_SLICE = 2  # records read between two turns of a batch being written (_ReadingTurns)


@dataclass(slots=True)
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    problems: list[str] = field(default_factory=list)
    # Slug suffixes seen taken, by table and base, so later batches probe past them.
    slug_hints: dict[str, dict[str, int]] = field(default_factory=dict, repr=False)

    def count(self, outcome: Outcome) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)


class StrictImportError(ValueError):
    """A bad record under --strict: the import stopped and its batch was not written."""


Mapper = Callable[[dict[str, Any]], WorkRecord | AuthorRecord]


def parsed(
    lines: Iterable[Line], mapper: Mapper
) -> Iterator[tuple[Line, WorkRecord | AuthorRecord | str]]:
    """Each line with its record, or with the reason it is not one."""
    for line in lines:
        if line.record is None:
            yield line, line.error or "not a record"
            continue
        try:
            yield line, mapper(line.record)
        except (RecordError, AttributeError, TypeError, ValueError) as error:
            reason = str(error) if isinstance(error, RecordError) else f"unexpected shape: {error}"
            yield line, reason


async def import_records(
    sessions: async_sessionmaker[AsyncSession],
    records: Iterable[tuple[Line, WorkRecord | AuthorRecord | str]],
    *,
    strict: bool = False,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Write the records, `batch_size` at a time; returns what happened to them."""
    with _fewer_collections():
        return await _import(sessions, records, strict, batch_size, progress)


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """The cyclic collector run only when a million objects have gathered while the import lasts.

    An import allocates a hundred-odd objects per work and keeps few: by
    default a young collection runs every 700 allocations, and each older one
    walks the batch's records and the name caches again, a quarter of the
    import's time, with the database thread waiting for the GIL meanwhile.
    The young generation counts allocations less deallocations, so a batch's
    objects, freed when it is written, give their count back: with a
    threshold above what two batches hold (the one written, the one read
    ahead) a collection runs only as long-lived objects (the name caches)
    gather. At 70,000 one ran every other batch, walking the whole batch
    (about 5% of the import's CPU at 20,000 works). What an import makes
    cyclic still needs collecting: the statements of a batch's prefetch
    (SQLAlchemy's expressions refer to each other) and, through them, the
    batch's lists of ids and keys. Their count grows by a few thousand a
    batch, so at a million the threshold was not reached in a million works
    and PostgreSQL peaked at 763 MB. So a young collection runs after each
    batch is written, when the batch's objects are freed: it walks only the
    batch read ahead: 3-5 ms a batch of 4,000 (20,000 works, gc callbacks).
    """
    before = gc.get_threshold()
    gc.set_threshold(1_000_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


async def _import(
    sessions: async_sessionmaker[AsyncSession],
    records: Iterable[tuple[Line, WorkRecord | AuthorRecord | str]],
    strict: bool,
    batch_size: int,
    progress: Callable[[int], None] | None,
) -> ImportSummary:
    """Write the batches one after another, reading the next while one is written.

    Each batch is written once the one before has committed (it may match
    what that one created). It is written in a task of its own while the
    file is read on: the reading takes the time the database leaves this
    process idle (the server's on PostgreSQL; on SQLite, the time the
    driver's thread runs a statement with the GIL released: each table's
    rows are one statement, db.writes.bulk.insert_rows, so that thread
    does not wait for the GIL row by row while the reader holds it), and
    only while the batch inserts its rows (_ReadingTurns). On SQLite at
    100,000 works, alternated: 4,429 and 3,741 works/s reading ahead, 4,059
    and 3,452 not (load ~2.8). When the reading fails (a bad
    record under strict, a file cut short), the batch being written is
    finished first, as it would have been had it been written before the
    reading went on.
    """
    summary = ImportSummary()
    touched: set[int] = set()
    writing: asyncio.Task[set[int]] | None = None
    turns = _ReadingTurns()
    try:
        async for batch in _batches(records, batch_size, summary, strict, turns.take):
            if writing is not None:
                touched |= await writing
                writing = None
                gc.collect(0)  # the written batch's cycles (_fewer_collections)
            if len(touched) >= REFRESH_TOUCHED:
                await _refresh(sessions, touched)
                touched = set()
            writing = asyncio.create_task(
                _write(sessions, batch, summary, progress, turns.inserting)
            )
            turns.writing(writing)
        if writing is not None:
            touched |= await writing
            writing = None
    except BaseException as error:
        if writing is not None:
            if isinstance(error, asyncio.CancelledError):
                writing.cancel()
            (written,) = await asyncio.gather(writing, return_exceptions=True)
            if isinstance(written, set):
                touched |= written
        raise
    finally:
        # What was written stays written: its figures are brought up to date either way.
        await _refresh(sessions, touched, last=True)
    return summary


class _ReadingTurns:
    """When the file is read on while a batch is written: while the batch inserts its rows.

    The reader and the batch share the main thread; the database works in
    another (SQLite's driver thread, PostgreSQL's server). Reading is free
    only while the database works and the batch waits for it: in the long
    inserts. Read in the batch's first steps (its prefetch: short statements,
    then matching in Python), it only delays them: each statement is a few
    round trips to the driver's thread, and each waited for the reader to
    give the event loop a turn. So the reader waits while a batch decides
    (write_batch says when it turns to inserting), and gives a turn every
    READ_SLICE (2) records while it inserts. At 20,000 works on SQLite (load
    ~0.5) the two threads had overlapped for 0 of 1.64 s (32-record slices,
    reading whenever a batch waited): 0.09-0.11 s, and 11,900 -> 12,900
    works/s; 2-record slices without waiting for the inserts: 10,900. On
    PostgreSQL 6,910-6,924 -> 7,216-7,428 works/s.
    """

    def __init__(self) -> None:
        self._busy = False
        self._inserting = asyncio.Event()

    def writing(self, task: asyncio.Task[set[int]]) -> None:
        """A batch began to be written, by `task`."""
        self._busy = True
        self._inserting.clear()
        task.add_done_callback(self._written)

    def _written(self, _task: asyncio.Task[set[int]]) -> None:
        self._busy = False
        self._inserting.set()

    def inserting(self, inserting: bool) -> None:
        """The batch turns to inserting its rows (True), or to deciding them (False)."""
        if inserting:
            self._inserting.set()
        else:
            self._inserting.clear()

    async def take(self) -> None:
        """Wait for the reader's turn; at once while no batch is being written."""
        if not self._busy:
            return
        if self._inserting.is_set():
            await asyncio.sleep(0)  # what the batch awaited may be done: it goes on first
        else:
            await self._inserting.wait()


async def _batches(
    records: Iterable[tuple[Line, WorkRecord | AuthorRecord | str]],
    size: int,
    summary: ImportSummary,
    strict: bool,
    turn: Callable[[], Awaitable[None]],
) -> AsyncIterator[list[Record]]:
    """The records in batches; the skipped ones counted. Every READ_SLICE records the
    reader waits for its `turn`, so that a batch being written goes on."""
    batch: list[Record] = []
    count = 0
    for line, record in records:
        if isinstance(record, str):
            summary.skipped += 1
            summary.problems.append(f"{line.file}:{line.line}: {record}")
            if strict:
                raise StrictImportError(summary.problems[-1])
        else:
            batch.append(record)
            if len(batch) >= size:
                yield batch
                batch = []
        count += 1
        if count % READ_SLICE == 0:
            await turn()
    if batch:
        yield batch


async def _refresh(
    sessions: async_sessionmaker[AsyncSession], touched: set[int], *, last: bool = False
) -> None:
    """Recompute the touched researchers' figures; at the `last`, make every batch durable
    and, on SQLite, copy the write-ahead log back (seeds.bulk checkpoints less often)."""
    if touched or last:
        async with sessions() as session, session.begin():
            connection = await session.connection()
            if touched:
                await refresh_indicators(connection, touched)
            if last:
                await make_durable(connection)
    if last:
        async with sessions() as session:
            await checkpoint(await session.connection())


async def _write(
    sessions: async_sessionmaker[AsyncSession],
    batch: list[Record],
    summary: ImportSummary,
    progress: Callable[[int], None] | None,
    inserting: Callable[[bool], None] | None = None,
) -> set[int]:
    """Write the batch (in one transaction, or a few on PostgreSQL); the researchers touched."""
    touched: set[int] = set()
    postgres = sessions.kw["bind"].dialect.name == "postgresql"
    slug_hints = summary.slug_hints
    for part, keys in _transactions(batch, LOCK_BUDGET if postgres else None):
        async with sessions() as session, session.begin():
            connection = await session.connection()
            result = await write_batch(connection, part, keys, slug_hints, inserting)
        await announce(ChangeSet.all())  # cached answers that could show the batch go
        for outcome in result.outcomes:
            summary.count(outcome)
        touched |= result.touched
        if progress is not None:
            progress(len(part))
    return touched


def _transactions(
    batch: list[Record], budget: int | None
) -> Iterator[tuple[list[Record], dict[str, set[str]] | None]]:
    """The batch in runs whose lock keys stay within the budget, with their keys.

    Without a budget (SQLite takes no locks) the batch is one run.
    """
    if budget is None:
        yield batch, None
        return
    part: list[Record] = []
    held: set[tuple[str, str]] = set()
    for record in batch:
        keys = lock_keys(record)
        fresh = keys - held
        if part and len(held) + len(fresh) > budget:
            yield part, keys_by_namespace(held)
            part, held, fresh = [], set(), keys
        part.append(record)
        held |= fresh
    if part:
        yield part, keys_by_namespace(held)
