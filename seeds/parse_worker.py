"""A file's records read and mapped in a process of their own, handed on ready-made.

An import's own process is its bottleneck (on SQLite beside the driver's
thread, on PostgreSQL beside the server), and a third of its work was
reading: decompressing, parsing the JSON and mapping it to a record cost
about 30 us a work here, against 4 us to unpack one sent by another
process. So `parsed_aside(path, mapper)` gives what `parsed(read_records(path),
mapper)` gives, in the same order, with the same errors, while a child
process (`python -m seeds.parse_worker MAPPER PATH`) does the reading on
the machine's other core.

The child writes frames to its stdout: a length (4 bytes) and a value
packed with marshal, the stdlib's fastest serialiser for plain values. A
frame of records is a flat list, line number then value for each: a work
as a tuple of its fields (dates as ordinals, authors and their institutions
as nested tuples: `_work_fields`), a line's problem as its text, any other
record (an author's, rare and small) pickled. Pickling the works themselves
cost 12 us a work to unpack against 4. The last frame says how the reading
ended: a tuple `("end",)`, or the error to raise, which the parent raises
after the records read before it, as reading in-process would. The pipe
holds about a megabyte (a few thousand works), so the child reads ahead of
the import but no further: memory stays flat. Both ends write and read the
pipe's descriptor themselves (os.write, os.readv), each frame to its last
byte: through Python's buffered files, a child stopped mid-write (Ctrl-Z
and fg, a profiler) lost bytes of a frame.

A small file is read in-process (`aside_from`, 1 MB): starting the child
costs ~0.1 s, a few thousand works' worth.
"""

from __future__ import annotations

import fcntl
import gc
import importlib
import marshal
import os
import pickle
import struct
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import IO, Any

from seeds.jsonrecords import Line, UnreadableFileError, read_records
from seeds.records import AuthorRecord, AuthorRef, InstitutionRef, RecordError, WorkRecord

Mapper = Callable[[dict[str, Any]], WorkRecord | AuthorRecord]
Parsed = tuple[Line, WorkRecord | AuthorRecord | str]

ASIDE_FROM = 1 << 20  # bytes of a file read in a child process; smaller ones in-process
FRAME_RECORDS = 256  # records a frame (about 75 KB of generated works)
PIPE_BYTES = 1 << 20  # what the child may write ahead of the parent (Linux's default limit)
_LENGTH = struct.Struct("<I")
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)


def parsed(lines: Iterator[Line], mapper: Mapper) -> Iterator[Parsed]:
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


def parsed_aside(path: Path, mapper: Mapper, *, aside_from: int | None = None) -> Iterator[Parsed]:
    """What `parsed(read_records(path), mapper)` gives, read by a child process when the file
    holds at least `aside_from` bytes (ASIDE_FROM) and the mapper is a module's function the
    child can import; else in this one."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0  # read_records says why it cannot be read
    name = _importable_name(mapper)
    if size < (ASIDE_FROM if aside_from is None else aside_from) or name is None:
        return parsed(read_records(path), mapper)
    return _from_child(path, name)


def _importable_name(mapper: Mapper) -> str | None:
    """module:function, when that names this very mapper (not a closure, not a lambda)."""
    name = f"{mapper.__module__}:{mapper.__qualname__}"
    try:
        found = _resolved(name)
    except (ImportError, AttributeError, ValueError):
        return None
    return name if found is mapper else None


def _resolved(name: str) -> Mapper:
    module, _, function = name.partition(":")
    found: Mapper = getattr(importlib.import_module(module), function)
    return found


def _from_child(path: Path, mapper: str) -> Iterator[Parsed]:
    environment = dict(os.environ)
    search = environment.get("PYTHONPATH")
    environment["PYTHONPATH"] = os.pathsep.join([_PACKAGE_ROOT, *([search] if search else [])])
    child = subprocess.Popen(
        [sys.executable, "-m", "seeds.parse_worker", mapper, str(path)],
        stdout=subprocess.PIPE,
        bufsize=0,  # read by os.readv in _frames: nothing read ahead into a buffer
        env=environment,
    )
    assert child.stdout is not None
    try:
        fcntl.fcntl(child.stdout.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except OSError:
        pass  # a smaller pipe only lets the child read less far ahead
    try:
        yield from _frames(child.stdout, path.name, child)
    finally:
        child.kill()  # at once when the import stopped early; a no-op when it has exited
        child.wait()
        child.stdout.close()


def _frames(stream: IO[bytes], file: str, child: subprocess.Popen[bytes]) -> Iterator[Parsed]:
    loads, work = marshal.loads, _work

    descriptor = stream.fileno()

    def exactly(size: int) -> bytearray:
        """The next `size` bytes the child wrote; an error when it ends first. A read from a
        pipe gives what is there, so it reads on."""
        data = bytearray(size)
        view, got = memoryview(data), 0
        while got < size:
            count = os.readv(descriptor, [view[got:]])
            if count == 0:
                code = child.wait()
                raise RuntimeError(f"{file}: the process reading it ended early (exit code {code})")
            got += count
        return data

    while True:
        frame = loads(exactly(_LENGTH.unpack(exactly(4))[0]))
        if type(frame) is tuple:
            _ended(frame)
            return
        for index in range(0, len(frame), 2):
            value = frame[index + 1]
            line = Line(file, frame[index])
            if type(value) is tuple:
                yield line, work(value)
            elif type(value) is str:
                yield line, value
            else:
                yield line, pickle.loads(value)


def _ended(frame: tuple[Any, ...]) -> None:
    """Raise the error the child's reading ended with, if it did."""
    if frame[0] == "unreadable":
        raise UnreadableFileError(*frame[1:])
    if frame[0] == "failed":
        raise RuntimeError(f"reading failed in the child process:\n{frame[1]}")


def _work_fields(record: WorkRecord) -> tuple[Any, ...]:
    """A work as plain values marshal packs: the fields in order, the date as its ordinal."""
    published_on = record.published_on
    return (
        record.title,
        record.year,
        None if published_on is None else published_on.toordinal(),
        record.abstract,
        record.doi,
        record.arxiv_id,
        record.openalex_id,
        record.semantic_scholar_id,
        record.citation_count,
        record.counts_by_year,
        tuple(
            (
                author.name,
                author.printed_name,
                author.position,
                author.openalex_id,
                author.semantic_scholar_id,
                author.orcid,
                tuple((place.name, place.openalex_id, place.ror) for place in author.institutions),
            )
            for author in record.authors
        ),
    )


def _work(fields: tuple[Any, ...]) -> WorkRecord:
    """The work `_work_fields` packed."""
    day = fields[2]
    return WorkRecord(
        fields[0],
        fields[1],
        None if day is None else date.fromordinal(day),
        fields[3],
        fields[4],
        fields[5],
        fields[6],
        fields[7],
        fields[8],
        fields[9],
        tuple(
            [
                AuthorRef(
                    a[0], a[1], a[2], a[3], a[4], a[5], tuple([InstitutionRef(*i) for i in a[6]])
                )
                for a in fields[10]
            ]
        ),
    )


def _packed(record: WorkRecord | AuthorRecord | str) -> Any:
    if type(record) is WorkRecord:
        return _work_fields(record)
    if type(record) is str:
        return record
    return pickle.dumps(record, pickle.HIGHEST_PROTOCOL)


def serve(mapper: Mapper, path: Path, out: int) -> None:
    """The child's side: the file's records, packed in frames, then how the reading ended,
    written to the descriptor `out`."""

    def send(value: Any) -> None:
        payload = marshal.dumps(value)
        _write_all(out, _LENGTH.pack(len(payload)) + payload)

    frame: list[Any] = []
    try:
        for line, record in parsed(read_records(path), mapper):
            frame += (line.line, _packed(record))
            if len(frame) >= 2 * FRAME_RECORDS:
                send(frame)
                frame = []
        ended: tuple[Any, ...] = ("end",)
    except UnreadableFileError as error:
        ended = ("unreadable", error.file, error.line, error.reason)
    except Exception:
        ended = ("failed", traceback.format_exc())
    if frame:
        send(frame)
    send(ended)


def _write_all(descriptor: int, data: bytes) -> None:
    """All of `data`: a write to a pipe may take only part of it."""
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def main() -> None:
    gc.disable()  # the records hold no cycles: each is freed once sent
    mapper_name, path = sys.argv[1:3]
    try:
        serve(_resolved(mapper_name), Path(path), sys.stdout.fileno())
    except BrokenPipeError:
        os._exit(1)  # the parent stopped reading: nothing is waiting for the rest


if __name__ == "__main__":
    main()
