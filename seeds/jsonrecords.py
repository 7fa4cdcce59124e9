"""Reading saved API records: JSON lines or whole responses, plain or gzip, one at a time.

Snapshot files hold one JSON object per line and can be any size, so they
are read line by line and memory stays flat. A saved API response is one
JSON document (`{"results": [...]}`, `{"data": [...]}`, a list, or one
object); those are a page of an API and are read whole. Each record comes
with its file and line, so a bad one can be reported and skipped.

A record holding text no database can store is a bad record here, so that
both databases treat it alike: NUL (PostgreSQL refuses it, SQLite would keep
it) and unpaired surrogates (neither can encode them). JSON can only spell
them as escapes, so lines are searched for those escapes first and only a
line that has one is walked value by value.

Lines are parsed with orjson (several times faster than json); a line orjson
refuses is parsed again with json, whose answer (a record, or the reason
for refusing it) is the one given: the two differ only in what json accepts
beyond strict JSON (NaN, integers past 64 bits) and in their messages.

A file that cannot be read to its end (gzip data cut short or corrupt, a
read error) raises UnreadableFileError, which names the file and the line
reached: what came before it was read, what came after it never will be.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson

GZIP_MAGIC = b"\x1f\x8b"
LIST_KEYS = ("results", "data")  # OpenAlex list responses; Semantic Scholar batches
# \u0000 and \ud800-\udfff as JSON escapes (an odd run of backslashes before the u);
# a false hit only costs a walk over the record.
_UNSTORABLE_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class UnreadableFileError(Exception):
    """A file that could not be read to its end; names it, the line reached and why."""

    def __init__(self, file: str, line: int, reason: str) -> None:
        reached = f"read up to line {line:,}" if line else "nothing of it was read"
        super().__init__(f"{file}: {reason}; {reached}")
        self.file = file
        self.line = line
        self.reason = reason


@dataclass(slots=True)
class Line:
    """One record, or why the text at this place is not one.

    Not frozen: a frozen dataclass sets each field through object.__setattr__,
    and one is made per record read. Nothing changes a Line once made.
    """

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
    """Every record of a file, in order, each with its line number.

    Raises UnreadableFileError when the file cannot be read to its end.
    """
    reached = 0
    try:
        with _open(path) as stream:
            for line in _records(path.name, stream):
                reached = line.line
                yield line
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as error:
        raise UnreadableFileError(path.name, reached, _unreadable(error)) from error


def _unreadable(error: BaseException) -> str:
    if isinstance(error, EOFError):
        return "the gzip data ends early: the file is cut short"
    if isinstance(error, gzip.BadGzipFile | zlib.error):
        return f"the gzip data is corrupt ({error})"
    return f"the file could not be read ({error})"


def _records(name: str, stream: BinaryIO) -> Iterator[Line]:
    lines = enumerate(stream, 1)
    for number, raw in lines:
        if not raw.strip():
            continue
        try:
            json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            if _opens_a_document(raw):
                # Not a line of JSON lines: a pretty-printed response, read whole.
                yield from _whole_document(name, number, raw + stream.read())
                return
        yield from _line(name, number, raw)
        break
    loads = orjson.loads
    for number, raw in lines:
        # The common case inline: one object per line, nothing in it to refuse.
        try:
            parsed = loads(raw)
        except orjson.JSONDecodeError:
            if raw.strip():
                yield from _line(name, number, raw)
            continue
        if (
            type(parsed) is dict
            and not (("results" in parsed or "data" in parsed) and _is_list_response(parsed))
            and not (b"\\u" in raw and _UNSTORABLE_ESCAPE.search(raw))
        ):
            yield Line(name, number, parsed)
        else:
            yield from _checked(_expanded(name, number, parsed), suspect=_may_hold_unstorable(raw))


def _is_list_response(parsed: dict[str, Any]) -> bool:
    return any(isinstance(parsed.get(key), list) for key in LIST_KEYS)


def _opens_a_document(raw: bytes) -> bool:
    """A first line that leaves a structure open begins a pretty-printed document.

    A broken JSON line (cut short, say) ends mid-value instead; it is reported
    and skipped like any other bad line.
    """
    stripped = raw.strip()
    return stripped[:1] in (b"{", b"[") and stripped[-1:] in (b"{", b"[", b",")


def _line(name: str, number: int, raw: bytes) -> Iterator[Line]:
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        yield from _line_by_json(name, number, raw)
        return
    yield from _checked(_expanded(name, number, parsed), suspect=_may_hold_unstorable(raw))


def _line_by_json(name: str, number: int, raw: bytes) -> Iterator[Line]:
    """The line as json reads it: what orjson refused, json may take, or say why not."""
    yield from _parsed_by_json(name, number, raw, whole=False)


def _whole_document(name: str, first_line: int, content: bytes) -> Iterator[Line]:
    yield from _parsed_by_json(name, first_line, content, whole=True)


def _parsed_by_json(name: str, first_line: int, content: bytes, *, whole: bool) -> Iterator[Line]:
    """The records json reads from a line, or from a whole document beginning at first_line."""
    try:
        parsed = json.loads(content.decode("utf-8"))
    except UnicodeDecodeError as error:
        where = "" if whole else " of the line"
        yield Line(name, first_line, error=f"not UTF-8: byte {error.start + 1}{where}")
        return
    except json.JSONDecodeError as error:
        if whole:
            yield Line(name, first_line + error.lineno - 1, error=f"not JSON: {error.msg}")
        else:
            problem = f"not JSON: {error.msg} at character {error.pos + 1}"
            yield Line(name, first_line, error=problem)
        return
    yield from _checked(_expanded(name, first_line, parsed), suspect=_may_hold_unstorable(content))


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


def _may_hold_unstorable(raw: bytes) -> bool:
    return b"\\u" in raw and _UNSTORABLE_ESCAPE.search(raw) is not None


def _checked(lines: Iterator[Line], *, suspect: bool) -> Iterator[Line]:
    """The lines, each record holding text no database stores turned into a bad line."""
    if not suspect:
        yield from lines
        return
    for line in lines:
        problem = None if line.record is None else _unstorable_text(line.record, "")
        yield line if problem is None else Line(line.file, line.line, error=problem)


def _unstorable_text(value: Any, path: str) -> str | None:
    """Where the first text no database stores is in a parsed value, and what it is."""
    if isinstance(value, str):
        found = _UNSTORABLE.search(value)
        if found is None:
            return None
        what = "a NUL character" if found[0] == "\x00" else "an unpaired surrogate"
        where = f" in {path}" if path else ""
        return f"{what} (\\u{ord(found[0]):04x}){where}: databases cannot store it"
    if isinstance(value, dict):
        for key, item in value.items():
            # A bad key is not quoted: the message would carry the text it refuses.
            problem = _unstorable_text(key, f"a key of {path}" if path else "a key")
            problem = problem or _unstorable_text(item, f"{path}.{key}" if path else key)
            if problem:
                return problem
    if isinstance(value, list):
        for index, item in enumerate(value):
            problem = _unstorable_text(item, f"{path}[{index}]")
            if problem:
                return problem
    return None
