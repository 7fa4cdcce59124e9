"""A small OpenAlex snapshot folder in the published layout, written by a test.

    root/data/works/manifest
    root/data/works/updated_date=2024-01-01/part_000.gz
    root/data/merged_ids/authors/2024-02-01.csv.gz

Parts are gzip JSON lines; each entity's manifest lists its parts in the
Redshift manifest shape OpenAlex publishes (entries[].url, entries[].meta
.content_length and .record_count, and a total `meta`), newest first, so a
reader that trusts the manifest's order reads them out of date order.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path
from typing import Any


class SnapshotFolder:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.parts: dict[str, list[Path]] = {}

    def add_part(self, entity: str, date: str, records: list[dict[str, Any]]) -> Path:
        """The next part_NNN.gz of the entity's partition of `date`; the manifest is rewritten."""
        folder = self.data / entity / f"updated_date={date}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"part_{len(list(folder.glob('part_*.gz'))):03d}.gz"
        with gzip.open(path, "wt", encoding="utf-8") as out:
            out.writelines(json.dumps(record) + "\n" for record in records)
        self.parts.setdefault(entity, []).append(path)
        self.write_manifest(entity)
        return path

    def add_merges(self, entity: str, date: str, pairs: list[tuple[str, str]]) -> Path:
        """merged_ids/<entity>/<date>.csv.gz with these (merged-away id, merged-into id) pairs."""
        folder = self.data / "merged_ids" / entity
        folder.mkdir(parents=True, exist_ok=True)
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(["merge_date", "id", "merge_into_id"])
        writer.writerows([date, old, new] for old, new in pairs)
        path = folder / f"{date}.csv.gz"
        path.write_bytes(gzip.compress(text.getvalue().encode()))
        return path

    def write_manifest(self, entity: str, **overrides: dict[str, Any]) -> None:
        """The entity's manifest; `overrides` replace the meta of parts named by their path."""
        entries = []
        for path in sorted(self.parts.get(entity, []), reverse=True):
            below = path.relative_to(self.data).as_posix()
            with gzip.open(path, "rt", encoding="utf-8") as lines:
                count = sum(1 for line in lines if line.strip())
            meta = {"content_length": path.stat().st_size, "record_count": count}
            entries.append({"url": f"s3://openalex/data/{below}", "meta": meta})
        for entry in entries:
            entry["meta"].update(overrides.get(entry["url"].split("/data/", 1)[1], {}))
        total = {
            "content_length": sum(e["meta"]["content_length"] for e in entries),
            "record_count": sum(e["meta"]["record_count"] for e in entries),
        }
        manifest = self.data / entity / "manifest"
        manifest.write_text(json.dumps({"entries": entries, "meta": total}, indent=2))


def corrupt(path: Path) -> bytes:
    """Spoil the gzip checksum at the end of the file, keeping its size; the original bytes.

    Every line still reads; the reader finds the damage at the end, as it would
    a disk error late in a download, after batches of the part are written."""
    original = path.read_bytes()
    spoiled = bytearray(original)
    for offset in range(len(spoiled) - 8, len(spoiled) - 4):  # CRC-32 of the member
        spoiled[offset] ^= 0x5A
    path.write_bytes(bytes(spoiled))
    return original
