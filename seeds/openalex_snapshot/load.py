"""Importing an OpenAlex snapshot folder: merges first, then authors and works in order of date.

1. The layout is read and checked before anything is written: every part
   still to import must be on disk with the size its manifest gives.
2. Merged-ids files are read whole into one map. Those not applied before
   are applied to the stored rows (seeds.openalex_snapshot.folding), in
   order of date, a thousand merges per transaction; a file is recorded
   applied in the transaction of its last merges.
3. Parts are imported in order: authors, then works (institutions are not
   read: an institution is stored when an author or work names it, and the
   importer keeps nothing of its record that those references lack), each
   entity's partitions in order of date. Every record goes through the
   merge map first: a byline naming a merged-away author lands on its
   target, and a record whose own id was merged away is left out (its
   target's record stands for it; seeds.openalex_snapshot.merged_ids).

Resume: a part is written in the importer's batches (seeds.importer, a
transaction each), and recorded finished in a transaction of its own once
its last batch is committed. A run stopped anywhere in a part (a crash, a
corrupt file, a record count that differs from the manifest's) leaves the
part unrecorded, and the next run imports it again from its first line:
the importer matches each record before writing it, so what the stopped run
wrote is found and left as it is, and the rows end as a clean run leaves
them. Parts recorded finished, with the same size, are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from seeds.importer import DEFAULT_BATCH, ImportSummary, Mapper, import_records, parsed
from seeds.jsonrecords import Line, UnreadableFileError, read_records
from seeds.openalex import author_from_openalex, short_id, work_from_openalex
from seeds.openalex_snapshot.finished import finished_parts, is_finished, record_finished
from seeds.openalex_snapshot.folding import fold_merged
from seeds.openalex_snapshot.layout import Part, SnapshotError, check_parts, read_snapshot
from seeds.openalex_snapshot.merged_ids import MergedIds, read_merged_file
from seeds.records import WorkRecord

IMPORTED = ("authors", "works")
MERGES_PER_TRANSACTION = 1000


class RecordCountError(SnapshotError):
    """A part holding another number of records than its manifest gives."""


@dataclass(slots=True)
class SnapshotSummary:
    parts_done_before: int = 0
    merges_done_before: int = 0
    imported: list[tuple[Part, ImportSummary]] = field(default_factory=list)
    not_imported: list[Part] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)
    folded: dict[str, int] = field(default_factory=dict)
    renamed: dict[str, int] = field(default_factory=dict)
    merge_files: int = 0
    merged_away: int = 0  # records left out: their id was merged into another's

    @property
    def nothing_to_do(self) -> bool:
        return not self.imported and not self.merge_files

    def total(self) -> ImportSummary:
        total = ImportSummary()
        for _, summary in self.imported:
            total.created += summary.created
            total.updated += summary.updated
            total.unchanged += summary.unchanged
            total.skipped += summary.skipped
        return total


async def import_snapshot(
    sessions: async_sessionmaker[AsyncSession],
    root: Path,
    *,
    strict: bool = False,
    batch_size: int = DEFAULT_BATCH,
    on_part: Callable[[Part, ImportSummary], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> SnapshotSummary:
    """Import what of the snapshot under `root` is not imported yet; what was done, by part."""
    snapshot = read_snapshot(root)
    async with sessions() as session:
        finished = await finished_parts(await session.connection())
    parts = [p for entity in IMPORTED for p in snapshot.parts.get(entity, [])]
    todo = [part for part in parts if not is_finished(part, finished)]
    merges_todo = [m for m in snapshot.merged if not is_finished(m, finished)]
    summary = SnapshotSummary(
        parts_done_before=len(parts) - len(todo),
        merges_done_before=len(snapshot.merged) - len(merges_todo),
        not_imported=[p for e, ps in snapshot.parts.items() if e not in IMPORTED for p in ps],
        unlisted=snapshot.unlisted,
    )
    if not todo and not merges_todo:
        return summary
    check_parts(todo)
    merged = MergedIds()
    pairs = {m.name: read_merged_file(m) for m in snapshot.merged}
    for merge_file in snapshot.merged:
        merged.add(merge_file.entity, pairs[merge_file.name])
    for merge_file in merges_todo:
        await _apply(sessions, merge_file, pairs[merge_file.name], merged, summary)
    for part in todo:
        result = await import_records(
            sessions,
            parsed(
                _current(part, _counted(part, read_records(part.path)), merged, summary),
                _mapper(part.entity, merged),
            ),
            strict=strict,
            batch_size=batch_size,
            progress=progress,
        )
        async with sessions() as session, session.begin():
            await record_finished(await session.connection(), part, part.record_count or 0)
        summary.imported.append((part, result))
        if on_part is not None:
            on_part(part, result)
    return summary


async def _apply(
    sessions: async_sessionmaker[AsyncSession],
    merge_file: Part,
    pairs: list[tuple[str, str]],
    merged: MergedIds,
    summary: SnapshotSummary,
) -> None:
    """Fold the file's merges into the stored rows; record it with its last transaction."""
    entity = merge_file.entity
    resolved = [(old, merged.resolved(entity, old)) for old, _ in pairs]
    chunks = [
        resolved[start : start + MERGES_PER_TRANSACTION]
        for start in range(0, len(resolved), MERGES_PER_TRANSACTION)
    ] or [[]]
    for number, chunk in enumerate(chunks, 1):
        async with sessions() as session, session.begin():
            connection = await session.connection()
            done = await fold_merged(connection, entity, chunk)
            if number == len(chunks):
                await record_finished(connection, merge_file, len(pairs))
        summary.folded[entity] = summary.folded.get(entity, 0) + done.folded
        summary.renamed[entity] = summary.renamed.get(entity, 0) + done.renamed
    summary.merge_files += 1


def _mapper(entity: str, merged: MergedIds) -> Mapper:
    if entity == "authors":
        return author_from_openalex

    def work(record: dict[str, Any]) -> WorkRecord:
        return merged.work(work_from_openalex(record))

    return work


def _current(
    part: Part, lines: Iterable[Line], merged: MergedIds, summary: SnapshotSummary
) -> Iterator[Line]:
    """The lines but those of records whose id was merged away (counted in the summary)."""
    for line in lines:
        record = line.record
        if record is not None and merged.merged_away(part.entity, short_id(record.get("id"))):
            summary.merged_away += 1
            continue
        yield line


def _counted(part: Part, lines: Iterable[Line]) -> Iterator[Line]:
    """The part's lines, named by the part's place (every part is part_NNN.gz); at its end,
    RecordCountError if they are not as many as its manifest gives."""
    count = 0
    try:
        for line in lines:
            count += 1
            yield Line(part.name, line.line, line.record, line.error)
    except UnreadableFileError as error:
        raise UnreadableFileError(part.name, error.line, error.reason) from error
    if part.record_count is not None and count != part.record_count:
        raise RecordCountError(
            [
                f"{part.name}: the manifest gives {part.record_count:,} records,"
                f" the file holds {count:,}"
            ]
        )
