"""Writing bibliographic records (OpenAlex, Semantic Scholar) in batched transactions.

Records stream in; each batch is matched and written in one transaction
(seeds.bulk), so memory stays flat and a crash loses at most a batch, which
the same command writes again on the next run: each record is matched
before it is written and compared before it is changed, so importing a
file twice changes nothing and reports every record unchanged. (On
PostgreSQL a batch's commit does not wait for the disk; a server crash may
lose the last few batches, and the import's last commit waits for them all:
db.writes.bulk.begin_writing.) The next batch is read while one is written;
on PostgreSQL two transactions are written at once (_Writer).

On PostgreSQL a batch holds an advisory lock per key it may create or
change (DOIs, title keys, the ids and name keys of authors not stored yet
...), and the server's lock table is shared by every connection
(max_locks_per_transaction x max_connections, 6,400 by default); so a batch
is cut into transactions of at most LOCK_BUDGET keys, two of which may run
at once (5,000 of the 6,400).

Leaderboard figures (researcher_indicators) of the researchers an import
touches are recomputed once, at its end: each refresh reads every paper of
each researcher it recomputes, so a researcher on works all over a file
would be recomputed over all their papers once per refresh, a cost growing
with the square of the file. The researchers touched are kept as a bitmap of
their ids (_Touched: an eighth of a byte per researcher stored), not a set
(50-70 bytes an id), so no refresh is needed on the way to bound memory:
at a million generated works a refresh every 100,000 researchers touched
made three full ones. When the import touched at least half of the
researchers stored (a first import, say), everyone's figures are recomputed
in one statement, joining and sorting the tables once (after ANALYZE on
PostgreSQL: db.writes.indicators.refresh_all_indicators), rather than
looking up each researcher's papers by index: at 100,000 works on
PostgreSQL the refresh took 1.1-1.3 s instead of 1.9-2.6; at a million on
SQLite 19.7 s instead of 24.5 (at 100,000, 1.9 s either way). An import
that crashes may leave figures stale for the works it wrote;
`scholargraph db refresh-indicators` recomputes them all.

An import that writes more works than it found stored (a first import, a
snapshot's first parts) leaves the indexes db.writes.indexes names to its
end, dropped once it has written DEFER_INDEXES_AFTER works and built again
before the figures are refreshed (_Deferring).

A record that does not have its source's shape is reported and skipped; with
`strict`, the first one ends the import and nothing of its batch is written.
"""

from __future__ import annotations

import asyncio
import gc
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from db.reads import ChangeSet, announce
from db.tables import paper, researcher
from db.writes import indexes
from db.writes.bulk import analyze_filled, make_durable, read_by_index
from db.writes.indicators import refresh_all_indicators, refresh_indicators
from seeds.bulk import (
    TURN_EVERY,
    Order,
    Outcome,
    Record,
    StoredPeople,
    checkpoint,
    keys_by_namespace,
    lock_keys,
    stored_people,
    write_batch,
)
from seeds.jsonrecords import Line
from seeds.parse_worker import Mapper, parsed
from seeds.records import AuthorRecord, WorkRecord

__all__ = [
    "DEFAULT_BATCH",
    "ImportSummary",
    "Mapper",
    "Outcome",
    "StrictImportError",
    "import_records",
    "parsed",
]

# Records a batch (a transaction on SQLite; on PostgreSQL the lock budget cuts it further).
# Larger batches insert into the random pages of the researcher-keyed indexes fewer times
# and checkpoint less: at 100,000 works on SQLite (load ~1) 2,000 gave 8,800 works/s,
# 4,000 11,300 at 152 MB peak, 5,000 11,700 at 161 MB, 10,000 12,200 at 206 MB; at a
# million works 5,000 peaked at 196 MB, too near the 200 MB asked for. PostgreSQL is
# unchanged (5,891 and 5,935 works/s).
DEFAULT_BATCH = 4000
LOCK_BUDGET = 2500
AT_ONCE = 2  # transactions written at a time on PostgreSQL (_Writer)
# Records whose authors are looked for among the stored researchers before a transaction
# (_Writer.write): more than a transaction holds (at 3 keys a work, 830 works).
STORED_AHEAD = 1250
# Works an import writes before it leaves the indexes of db.writes.indexes to its end (and
# more than the papers stored when it began): building them then costs less than the upkeep.
DEFER_INDEXES_AFTER = 10_000
REFRESH_CHUNK = 100_000  # researchers recomputed a call of refresh_indicators (_refresh)
READ_SLICE = 2  # records read between two turns of a batch being written (_ReadingTurns)


@dataclass(slots=True)
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    problems: list[str] = field(default_factory=list)
    # Whether the import left the indexes of db.writes.indexes to its end (_Deferring).
    indexes_deferred: bool = False
    # Slug suffixes seen taken, by table and base, so later batches probe past them.
    slug_hints: dict[str, dict[str, int]] = field(default_factory=dict, repr=False)

    def count(self, outcome: Outcome) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)


class StrictImportError(ValueError):
    """A bad record under --strict: the import stopped and its batch was not written."""


async def import_records(
    sessions: async_sessionmaker[AsyncSession],
    records: Iterable[tuple[Line, WorkRecord | AuthorRecord | str]],
    *,
    strict: bool = False,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
    defer_indexes_after: int | None = DEFER_INDEXES_AFTER,
) -> ImportSummary:
    """Write the records, `batch_size` at a time; returns what happened to them.

    Once `defer_indexes_after` works are written, and more than were stored, the
    indexes db.writes.indexes names are dropped until the import ends (None: never).
    """
    with _fewer_collections():
        return await _import(sessions, records, strict, batch_size, progress, defer_indexes_after)


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
    defer_after: int | None,
) -> ImportSummary:
    """Write the batches in order, reading the next while they are written.

    The file is read on while batches are written (_ReadingTurns): the
    reading takes the time the database leaves this process idle (the
    server's on PostgreSQL; on SQLite, the time the driver's thread runs a
    statement with the GIL released: each table's rows are one statement,
    db.writes.bulk.insert_rows, so that thread does not wait for the GIL row
    by row while the reader holds it). On SQLite at 100,000 works,
    alternated: 4,429 and 3,741 works/s reading ahead, 4,059 and 3,452 not
    (load ~2.8). When the reading fails (a bad record under strict, a file
    cut short), the transactions being written are finished first, as they
    would have been had they been written before the reading went on.
    """
    summary = ImportSummary()
    postgres = sessions.kw["bind"].dialect.name == "postgresql"
    writer = _Writer(sessions, summary, progress, AT_ONCE if postgres else 1)
    deferring = _Deferring(sessions, summary, defer_after)
    try:
        await deferring.begin()
        async for batch in _batches(records, batch_size, summary, strict, writer.turns.take):
            if deferring.due():
                await writer.drain()  # the indexes go between two transactions
                await deferring.drop()
            await writer.write(batch)
        await writer.drain()
    except BaseException as error:
        await writer.stop(cancel=isinstance(error, asyncio.CancelledError))
        raise
    finally:
        # What was written stays written: its indexes are built and its figures brought up
        # to date either way.
        await _finish(sessions, deferring, writer.touched)
    return summary


async def _finish(
    sessions: async_sessionmaker[AsyncSession], deferring: _Deferring, touched: _Touched
) -> None:
    """Build the deferred indexes, bring the figures up to date and make every batch durable.

    On PostgreSQL, when everyone's figures are recomputed (a statement that
    reads the tables whole, using none of the deferred indexes) each index is
    built on a connection of its own while the figures are, after the tables
    are analysed (ANALYZE and CREATE INDEX exclude each other): the server's
    cores work together, where one statement after another kept one busy.
    At 100,000 generated works the end took 2.0 s one after another, 1.1 s so.
    """
    postgres = sessions.kw["bind"].dialect.name == "postgresql"
    if not (postgres and deferring.summary.indexes_deferred and touched):
        await deferring.end()
        await _refresh(sessions, touched, last=True)
        return
    async with sessions() as session, session.begin():
        connection = await session.connection()
        everyone = await _most_researchers(connection, touched)
        if everyone:
            await analyze_filled(connection)
    if not everyone:
        await deferring.end()
        await _refresh(sessions, touched, last=True, everyone=False)
        return
    await _all_of(
        deferring.end(concurrently=True), _refresh(sessions, touched, last=True, everyone=True)
    )


async def _all_of(*steps: Awaitable[object]) -> None:
    """Run the steps at once and wait for every one to end; then raise the first failure."""
    for outcome in await asyncio.gather(*steps, return_exceptions=True):
        if isinstance(outcome, BaseException):
            raise outcome


class _Deferring:
    """When an import drops the indexes it leaves to its end (db.writes.indexes), and
    builds them again.

    Once it has written `after` works, and more than the papers it found stored,
    building them anew from all the rows costs less than keeping them up batch
    by batch: it costs at most what upkeep of the rows written meanwhile
    would. An import that begins finds them as a crashed one may have left
    them, and builds the missing ones first. Generated works on SQLite
    (tests/benchmarks/bench_import.py): at a million, 2,350 -> 3,294 works/s
    (425 -> 304 s; peak 155 -> 167 MB, the building's sort); at 100,000,
    4,069-4,232 -> 4,255-4,401 (alternated; dropped after 50,000 then). On
    PostgreSQL at a million, 2,464 -> 2,629 works/s, the server's CPU 318 ->
    260 s.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        summary: ImportSummary,
        after: int | None,
    ) -> None:
        self.sessions = sessions
        self.summary = summary
        self.after = after
        self.stored = 0

    async def begin(self) -> None:
        async with self.sessions() as session, session.begin():
            connection = await session.connection()
            await indexes.restore(connection)
            self.stored = (await connection.execute(select(func.max(paper.c.id)))).scalar() or 0

    def due(self) -> bool:
        summary = self.summary
        if self.after is None or summary.indexes_deferred:
            return False
        written = summary.created + summary.updated + summary.unchanged
        return written >= max(self.after, self.stored)

    async def drop(self) -> None:
        async with self.sessions() as session, session.begin():
            connection = await session.connection()
            await indexes.drop(connection)
        self.summary.indexes_deferred = True

    async def end(self, *, concurrently: bool = False) -> None:
        """Build the indexes again: in one transaction, or `concurrently` each in its own."""
        if not self.summary.indexes_deferred:
            return
        if not concurrently:
            async with self.sessions() as session, session.begin():
                await indexes.restore(await session.connection())
            return

        async def build(name: str) -> None:
            async with self.sessions() as session, session.begin():
                await indexes.build(await session.connection(), name)

        async with self.sessions() as session:
            absent = await indexes.missing(await session.connection())
        await _all_of(*(build(name) for name in absent))


class _Writer:
    """An import's transactions, in order, `at_once` of them running at a time.

    On SQLite one at a time: each batch is written once the one before has
    committed (it may match what that one created). On PostgreSQL two: while
    the server writes one, this process matches the next and builds its rows
    (at 100,000 works each side took 70-80 us a work, one waiting for the
    other). The second takes its locks once the first holds its own, and
    where they would write the same keys it waits for the first to commit
    (seeds.bulk.Order): what it reads, matches and writes is what it would
    be had it begun after. Its lock keys leave out the authors already
    stored (seeds.bulk.StoredPeople), so that works by the same authors do
    not queue.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        summary: ImportSummary,
        progress: Callable[[int], None] | None,
        at_once: int,
    ) -> None:
        self.sessions = sessions
        self.summary = summary
        self.progress = progress
        self.at_once = at_once
        self.postgres = sessions.kw["bind"].dialect.name == "postgresql"
        self.turns = _ReadingTurns(eager=at_once > 1)
        self.touched = _Touched()
        self._running: deque[asyncio.Task[set[int]]] = deque()
        self._locked = _happened()  # of the last transaction begun
        self._ended = _happened()

    async def write(self, batch: list[Record]) -> None:
        """Begin writing the batch: its transactions (a few on PostgreSQL) in order.

        Each transaction's authors are looked for among the stored researchers
        (StoredPeople) when it is about to begin, not once for the batch: by
        then the one before the last has committed, and the authors it created
        need no lock (at 100,000 works, 6 s of 46 were spent waiting for such
        locks while new authors were still being created).
        """
        budget = LOCK_BUDGET if self.postgres else None
        start = 0
        while start < len(batch):
            while len(self._running) >= self.at_once:
                await self._collect()
            if start == 0:
                gc.collect(0)  # the written batches' cycles (_fewer_collections)
            stored = None
            if self.postgres:
                async with self.sessions() as session:
                    ahead = batch[start : start + STORED_AHEAD]
                    stored = await stored_people(await session.connection(), ahead)
            end, keys = await _transaction_at(batch, start, budget, stored)
            self._begin(batch[start:end], keys, stored)
            start = end

    def _begin(
        self, part: list[Record], keys: dict[str, set[str]] | None, stored: StoredPeople | None
    ) -> None:
        order = Order(before_locked=self._locked, before_ended=self._ended)
        ended = asyncio.Event()
        task = asyncio.create_task(self._transaction(part, keys, stored, order, ended))
        self._locked, self._ended = order.locked, ended
        self._running.append(task)
        self.turns.writing(task)

    async def drain(self) -> None:
        """Wait for every transaction begun."""
        while self._running:
            await self._collect()

    async def stop(self, *, cancel: bool) -> None:
        """Finish (or `cancel`) the transactions running; what they wrote counts as touched."""
        running, self._running = list(self._running), deque()
        if cancel:
            for task in running:
                task.cancel()
        for result in await asyncio.gather(*running, return_exceptions=True):
            if isinstance(result, set):
                self.touched.add_all(result)

    async def _collect(self) -> None:
        """Wait for the oldest transaction; when it failed, the later ones are cancelled."""
        try:
            self.touched.add_all(await self._running[0])
        except BaseException:
            self._running.popleft()
            await self.stop(cancel=True)
            raise
        self._running.popleft()

    async def _transaction(
        self,
        part: list[Record],
        keys: dict[str, set[str]] | None,
        stored: StoredPeople | None,
        order: Order,
        ended: asyncio.Event,
    ) -> set[int]:
        try:
            async with self.sessions() as session, session.begin():
                connection = await session.connection()
                result = await write_batch(
                    connection,
                    part,
                    keys,
                    self.summary.slug_hints,
                    self.turns.inserting,
                    stored,
                    order,
                )
        finally:
            order.locked.set()  # had it failed before, the next must not wait for ever
            ended.set()
        await announce(ChangeSet.all())  # cached answers that could show the batch go
        for outcome in result.outcomes:
            self.summary.count(outcome)
        if self.progress is not None:
            self.progress(len(part))
        return result.touched


def _happened() -> asyncio.Event:
    event = asyncio.Event()
    event.set()
    return event


class _ReadingTurns:
    """When the file is read on while batches are written.

    The reader and the batches share the main thread; the database works in
    another (SQLite's driver thread, PostgreSQL's server). With one batch
    written at a time, reading is free only while the database works and the
    batch waits for it: in the long inserts. Read in the batch's first steps
    (its prefetch: short statements, then matching in Python), it only
    delays them: each statement is a few round trips to the driver's thread,
    and each waited for the reader to give the event loop a turn. So the
    reader waits while a batch decides (write_batch says when it turns to
    inserting), and gives a turn every READ_SLICE (2) records while it
    inserts. At 20,000 works on SQLite (load ~0.5) the two threads had
    overlapped for 0 of 1.64 s (32-record slices, reading whenever a batch
    waited): 0.09-0.11 s, and 11,900 -> 12,900 works/s; 2-record slices
    without waiting for the inserts: 10,900. On PostgreSQL 6,910-6,924 ->
    7,216-7,428 works/s. With two transactions running at once (`eager`,
    PostgreSQL) one decides while the other waits for the server: the reader
    then only gives a turn every READ_SLICE records.
    """

    def __init__(self, *, eager: bool) -> None:
        self._eager = eager
        self._writing = 0
        self._inserting = asyncio.Event()

    def writing(self, task: asyncio.Task[set[int]]) -> None:
        """A transaction began to be written, by `task`."""
        self._writing += 1
        self._inserting.clear()
        task.add_done_callback(self._written)

    def _written(self, _task: asyncio.Task[set[int]]) -> None:
        self._writing -= 1
        self._inserting.set()

    def inserting(self, inserting: bool) -> None:
        """The batch turns to inserting its rows (True), or to deciding them (False)."""
        if inserting:
            self._inserting.set()
        else:
            self._inserting.clear()

    async def take(self) -> None:
        """Wait for the reader's turn; at once while no batch is being written."""
        if not self._writing:
            return
        if self._eager or self._inserting.is_set():
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
    sessions: async_sessionmaker[AsyncSession],
    touched: _Touched,
    *,
    last: bool = False,
    everyone: bool | None = None,
) -> None:
    """Recompute the touched researchers' figures; at the `last`, make every batch durable
    and, on SQLite, copy the write-ahead log back (seeds.bulk checkpoints less often).
    `everyone`: whether the caller found it touched most researchers (and then analysed
    the tables); None: find out here."""
    if touched or last:
        async with sessions() as session, session.begin():
            connection = await session.connection()
            if everyone:
                await refresh_all_indicators(connection)
            elif touched and everyone is None and await _most_researchers(connection, touched):
                await analyze_filled(connection)
                await refresh_all_indicators(connection)
            elif touched:
                await read_by_index(connection)
                for ids in touched.chunks(REFRESH_CHUNK):
                    await refresh_indicators(connection, ids)
            if last:
                await make_durable(connection)
    if last:
        async with sessions() as session:
            await checkpoint(await session.connection())


async def _most_researchers(connection: AsyncConnection, touched: _Touched) -> bool:
    """Whether the import touched at least half of the researchers stored: then everyone's
    figures are recomputed in one statement (refresh_all_indicators), which joins and sorts
    the tables once, rather than looking up each researcher's papers by index."""
    stored = (await connection.execute(select(func.count()).select_from(researcher))).scalar_one()
    return 2 * len(touched) >= stored


class _Touched:
    """Researcher ids, as a bitmap: an eighth of a byte for each id up to the largest."""

    def __init__(self) -> None:
        self._bits = bytearray()

    def add_all(self, ids: Iterable[int]) -> None:
        bits = self._bits
        for researcher_id in ids:
            byte = researcher_id >> 3
            if byte >= len(bits):
                bits.extend(bytes(max(byte + 1 - len(bits), len(bits))))  # doubled, at least
            bits[byte] |= 1 << (researcher_id & 7)

    def __bool__(self) -> bool:
        return any(self._bits)

    def __len__(self) -> int:
        return int.from_bytes(self._bits, "little").bit_count()

    def chunks(self, size: int) -> Iterator[list[int]]:
        """The ids in increasing order, `size` at a time."""
        chunk: list[int] = []
        for byte, value in enumerate(self._bits):
            if value:
                chunk += [(byte << 3) | bit for bit in range(8) if value >> bit & 1]
                if len(chunk) >= size:
                    yield chunk
                    chunk = []
        if chunk:
            yield chunk


async def _transaction_at(
    batch: list[Record], start: int, budget: int | None, stored: StoredPeople | None = None
) -> tuple[int, dict[str, set[str]] | None]:
    """Where the run of the batch's records from `start` ends whose lock keys (given the
    researchers `stored`) stay within the budget (at least one record), and its keys.

    Without a budget (SQLite takes no locks) the run is the rest of the batch.
    """
    if budget is None:
        return len(batch), None
    held: set[tuple[str, str]] = set()
    end = start
    while end < len(batch):
        fresh = lock_keys(batch[end], stored) - held
        if end > start and len(held) + len(fresh) > budget:
            break
        held |= fresh
        end += 1
        if (end - start) % TURN_EVERY == 0:
            await asyncio.sleep(0)  # the transactions being written go on
    return end, keys_by_namespace(held)
