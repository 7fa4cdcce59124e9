"""Reading saved API records: JSON lines or whole responses, plain or gzip, one at a time.

Snapshot files hold one JSON object per line and can be any size, so they
are read line by line and memory stays flat. A saved API response is one
JSON document (`{"results": [...]}`, `{"data": [...]}`, a list, or one
object); those are a page of an API and are read whole. Each record comes
with its file and line, so a bad one can be reported and skipped.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

GZIP_MAGIC = b"\x1f\x8b"
LIST_KEYS = ("results", "data")  # OpenAlex list responses; Semantic Scholar batches


@dataclass(frozen=True, slots=True)
class Line:
    """One record, or why the text at this place is not one."""

    file: str
    line: int
    record: dict[str, Any] | None = None
    error: str | None = None


def _open(path: Path) -> BinaryIO:
    """The file's bytes, decompressed when it is gzip (known by its magic, not its name)."""
    with path.open("rb") as probe:
        zipped = probe.read(2) == GZIP_MAGIC
    return gzip.open(path, "rb") if zipped else path.open("rb")  # type: ignore[return-value]


def read_records(path: Path) -> Iterator[Line]:
    """Every record of a file, in order, each with its line number."""
    with _open(path) as stream:
        lines = enumerate(stream, 1)
        for number, raw in lines:
            if not raw.strip():
                continue
            try:
                json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                if _opens_a_document(raw):
                    # Not a line of JSON lines: a pretty-printed response, read whole.
                    yield from _whole_document(path.name, number, raw + stream.read())
                    return
            yield from _line(path.name, number, raw)
            break
        for number, raw in lines:
            if raw.strip():
                yield from _line(path.name, number, raw)


def _opens_a_document(raw: bytes) -> bool:
    """A first line that leaves a structure open begins a pretty-printed document.

    A broken JSON line (cut short, say) ends mid-value instead; it is reported
    and skipped like any other bad line.
    """
    stripped = raw.strip()
    return stripped[:1] in (b"{", b"[") and stripped[-1:] in (b"{", b"[", b",")


def _line(name: str, number: int, raw: bytes) -> Iterator[Line]:
    try:
        parsed = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        yield Line(name, number, error=f"not UTF-8: byte {error.start + 1} of the line")
        return
    except json.JSONDecodeError as error:
        yield Line(name, number, error=f"not JSON: {error.msg} at character {error.pos + 1}")
        return
    yield from _expanded(name, number, parsed)


def _whole_document(name: str, first_line: int, content: bytes) -> Iterator[Line]:
    try:
        parsed = json.loads(content.decode("utf-8"))
    except UnicodeDecodeError as error:
        yield Line(name, first_line, error=f"not UTF-8: byte {error.start + 1}")
        return
    except json.JSONDecodeError as error:
        yield Line(name, first_line + error.lineno - 1, error=f"not JSON: {error.msg}")
        return
    yield from _expanded(name, first_line, parsed)


def _expanded(name: str, number: int, parsed: Any) -> Iterator[Line]:
    """The records a parsed value holds: itself, or the items of a list response."""
    if isinstance(parsed, dict):
        for key in LIST_KEYS:
            if isinstance(parsed.get(key), list):
                yield from _expanded(name, number, parsed[key])
                return
        yield Line(name, number, record=parsed)
    elif isinstance(parsed, list):
        for item in parsed:
            if isinstance(item, dict):
                yield Line(name, number, record=item)
            else:
                yield Line(name, number, error="a list item that is not an object")
    else:
        yield Line(name, number, error="not a JSON object")
