"""OpenAlex's merged ids: which work or author id now lives on under which other.

OpenAlex folds a duplicate into another record and keeps the old id only as a
pointer (data/merged_ids/<entity>/<date>.csv.gz, `merge_date,id,merge_into_id`).
Here each old id leads to the id it ends at (a chain A -> B, B -> C gives
A -> C). A byline naming an old author id lands on the author it was merged
into. A record whose own id was merged away is a stale copy of a record
OpenAlex deleted ("all you need to do is delete" it, its documentation
says): its target's record stands for it, and it is left out. Relabelled
instead, it would carry the other DOI of the duplicate and, matching
nothing, come back as a paper of its own.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from seeds.jsonrecords import UnreadableFileError
from seeds.openalex import short_id
from seeds.openalex_snapshot.layout import Part
from seeds.records import AuthorRef, WorkRecord

HEADER = ("merge_date", "id", "merge_into_id")


@dataclass(slots=True)
class MergedIds:
    """Old id -> the id it ends at, per entity ("works", "authors")."""

    into: dict[str, dict[str, str]] = field(default_factory=lambda: {"works": {}, "authors": {}})

    def add(self, entity: str, pairs: Iterable[tuple[str, str]]) -> None:
        self.into.setdefault(entity, {}).update(pairs)

    def resolved(self, entity: str, old: str) -> str:
        """Where `old` ends after every merge (itself when it was never merged away)."""
        into, seen, current = self.into.get(entity, {}), {old}, old
        while (following := into.get(current)) is not None and following not in seen:
            seen.add(following)
            current = following
        return current

    def __len__(self) -> int:
        return sum(len(pairs) for pairs in self.into.values())

    def merged_away(self, entity: str, record_id: str | None) -> bool:
        return record_id is not None and record_id in self.into.get(entity, {})

    def work(self, record: WorkRecord) -> WorkRecord:
        """The record with its bylines' author ids taken to where they now live."""
        authors = self.into.get("authors", {})
        if any(ref.openalex_id in authors for ref in record.authors):
            return replace(record, authors=tuple(self._bylines(record.authors)))
        return record

    def _bylines(self, refs: tuple[AuthorRef, ...]) -> Iterator[AuthorRef]:
        """Each ref with its author's current id; a second ref to the same author is dropped."""
        seen: set[str] = set()
        for ref in refs:
            if ref.openalex_id is not None:
                current = self.resolved("authors", ref.openalex_id)
                if current in seen:
                    continue
                seen.add(current)
                if current != ref.openalex_id:
                    ref = replace(ref, openalex_id=current)
            yield ref


def read_merged_file(part: Part) -> list[tuple[str, str]]:
    """The (old id, new id) pairs of one merged-ids file, gzip or plain CSV."""
    try:
        raw = part.path.read_bytes()
        text = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        rows = list(csv.reader(io.StringIO(text.decode("utf-8"))))
    except (OSError, EOFError, ValueError) as error:  # gzip, zlib and decoding errors
        raise UnreadableFileError(
            part.name, 0, f"not a readable merged-ids file ({error})"
        ) from error
    if not rows or tuple(cell.strip() for cell in rows[0]) != HEADER:
        raise UnreadableFileError(part.name, 1, f"the header is not {','.join(HEADER)}")
    pairs = []
    for number, row in enumerate(rows[1:], 2):
        old, new = (short_id(row[1]), short_id(row[2])) if len(row) == 3 else (None, None)
        if not old or not new:
            raise UnreadableFileError(part.name, number, "a line without an id and a merge_into_id")
        if old != new:
            pairs.append((old, new))
    return pairs
