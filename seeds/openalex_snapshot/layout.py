"""An OpenAlex snapshot folder as OpenAlex publishes it, read into the list of its files.

    data/works/manifest
    data/works/updated_date=2024-01-01/part_000.gz      gzip JSON lines, one work a line
    data/authors/..., data/institutions/...             alike
    data/merged_ids/works/2024-01-02.csv.gz             merge_date,id,merge_into_id

Each entity's `manifest` (Redshift manifest format) lists its parts:
`{"entries": [{"url": "s3://openalex/data/works/updated_date=.../part_000.gz",
"meta": {"content_length": bytes, "record_count": lines}}], "meta": {...}}`.
OpenAlex deletes an entity's manifest while it writes a new partition, so a
folder without one is a copy taken mid-write. A part is found on disk by the
part of its url below its entity's folder. Parts on disk that the manifest
does not list are not read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENTITIES = ("authors", "works", "institutions")
MERGED_ENTITIES = ("authors", "works")
_DATE = re.compile(r"updated_date=(\d{4}-\d{2}-\d{2})")
_MERGE_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.csv(\.gz)?$")


class SnapshotError(Exception):
    """A snapshot folder that is not whole or not in the published layout; one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Part:
    """One file of the snapshot: where it is, and what its manifest says it holds."""

    entity: str
    name: str  # below the data folder: works/updated_date=2024-01-01/part_000.gz
    path: Path
    date: str
    content_length: int
    record_count: int | None  # merged-ids files have no manifest


@dataclass(frozen=True, slots=True)
class Snapshot:
    data: Path
    parts: dict[str, list[Part]]  # by entity, in order of date, then name
    merged: list[Part]  # merged-ids files, in order of date
    unlisted: list[str]  # parts on disk that no manifest lists


def read_snapshot(root: Path) -> Snapshot:
    """The snapshot under `root` (the folder holding `data`, or `data` itself)."""
    data = root / "data" if (root / "data").is_dir() else root
    present = [entity for entity in ENTITIES if (data / entity).is_dir()]
    if not present:
        raise SnapshotError(
            [f"{root}: no OpenAlex snapshot here (expected data/works/manifest and its parts)"]
        )
    problems: list[str] = []
    parts = {entity: _listed_parts(data, entity, problems) for entity in present}
    if problems:
        raise SnapshotError(problems)
    listed = {part.path for entity_parts in parts.values() for part in entity_parts}
    unlisted = sorted(
        str(path.relative_to(data))
        for entity in present
        for path in (data / entity).glob("updated_date=*/*")
        if path.is_file() and path not in listed
    )
    return Snapshot(data, parts, _merged_files(data), unlisted)


def check_parts(parts: list[Part]) -> None:
    """Every part is on disk with the size its manifest gives; else all that are not."""
    problems = []
    for part in parts:
        try:
            size = part.path.stat().st_size
        except FileNotFoundError:
            problems.append(
                f"{part.name}: listed in the manifest ({part.record_count:,} records) but not found"
            )
            continue
        if size != part.content_length:
            problems.append(
                f"{part.name}: the manifest gives {part.content_length:,} bytes, the file has"
                f" {size:,} (a download cut short or from another snapshot?)"
            )
    if problems:
        raise SnapshotError(problems)


def _listed_parts(data: Path, entity: str, problems: list[str]) -> list[Part]:
    manifest = data / entity / "manifest"
    if not manifest.is_file():
        problems.append(
            f"{entity}/manifest: not found (OpenAlex removes it while it writes a partition;"
            " copy the folder again once the manifest is back)"
        )
        return []
    try:
        entries = json.loads(manifest.read_bytes())["entries"]
        parts = [_part(data, entity, entry) for entry in entries]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        problems.append(f"{entity}/manifest: not an OpenAlex manifest ({_reason(error)})")
        return []
    return sorted(parts, key=lambda part: (part.date, part.name))


def _part(data: Path, entity: str, entry: dict[str, Any]) -> Part:
    url, meta = entry["url"], entry["meta"]
    below = (
        url.rsplit(f"/{entity}/", 1)[-1] if f"/{entity}/" in url else "/".join(url.split("/")[-2:])
    )
    if ".." in below.split("/") or not below:
        raise ValueError(f"a url outside its entity's folder: {url}")
    count, length = meta["record_count"], meta["content_length"]
    if not isinstance(count, int) or not isinstance(length, int):
        raise ValueError(f"record_count and content_length of {url} are not numbers")
    date = match.group(1) if (match := _DATE.search(below)) else ""
    return Part(entity, f"{entity}/{below}", data / entity / below, date, length, count)


def _merged_files(data: Path) -> list[Part]:
    files = []
    for entity in MERGED_ENTITIES:
        folder = data / "merged_ids" / entity
        for path in sorted(folder.glob("*")) if folder.is_dir() else []:
            if match := _MERGE_FILE.match(path.name):
                name = f"merged_ids/{entity}/{path.name}"
                size = path.stat().st_size
                files.append(Part(entity, name, path, match.group(1), size, None))
    return sorted(files, key=lambda part: (part.date, part.entity))


def _reason(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"no {error.args[0]!r} field"
    return str(error).splitlines()[0][:120]
