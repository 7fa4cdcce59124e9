"""Records read by a child process come out as reading them in-process gives them."""

from __future__ import annotations

import gzip
import json
import os
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seeds import parse_worker
from seeds.jsonrecords import UnreadableFileError, read_records
from seeds.openalex import author_from_openalex, work_from_openalex
from seeds.openalex_fixture import works
from seeds.parse_worker import Mapper, Parsed, parsed, parsed_aside
from seeds.records import AuthorRef, InstitutionRef, WorkRecord
from seeds.semanticscholar import record_from_s2

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def outcomes(results: Iterable[Parsed]) -> list[tuple[str, int, object]]:
    return [(line.file, line.line, outcome) for line, outcome in results]


@pytest.mark.parametrize(
    ("name", "mapper"),
    [
        ("openalex/works.jsonl", work_from_openalex),
        ("openalex/works.jsonl.gz", work_from_openalex),
        ("openalex/response.json", work_from_openalex),
        ("openalex/broken.jsonl", work_from_openalex),
        ("openalex/authors.jsonl", author_from_openalex),
        ("s2/batch.json", record_from_s2),
        ("s2/author.json", record_from_s2),
    ],
)
def test_a_file_read_aside_gives_what_reading_it_here_gives(name: str, mapper: Mapper) -> None:
    path = FIXTURES / name
    here = outcomes(parsed(read_records(path), mapper))
    aside = outcomes(parsed_aside(path, mapper, aside_from=0))
    assert aside == here
    assert any(not isinstance(outcome, str) for _, _, outcome in here)


texts = st.text(max_size=20)
ids = st.none() | st.text(min_size=1, max_size=12)
institutions = st.builds(InstitutionRef, texts, ids, ids)
authors = st.builds(
    AuthorRef,
    texts,
    texts,
    st.none() | st.integers(1, 500),
    ids,
    ids,
    ids,
    st.lists(institutions, max_size=2).map(tuple),
)
works_ = st.builds(
    WorkRecord,
    texts,
    st.none() | st.integers(0, 3000),
    st.none() | st.dates(date(1000, 1, 1)),
    st.none() | texts,
    ids,
    ids,
    ids,
    ids,
    st.none() | st.integers(0, 2**40),
    st.lists(st.tuples(st.integers(1900, 2100), st.integers(1, 10**6)), max_size=3).map(tuple),
    st.lists(authors, max_size=3).map(tuple),
)


@given(works_)
def test_every_field_of_a_work_survives_the_trip(work: WorkRecord) -> None:
    assert parse_worker._work(parse_worker._work_fields(work)) == work


def generated(path: Path, count: int, *, broken_at: int | None = None) -> None:
    """`count` generated works as JSON lines (more than a megabyte at 2,000); line
    `broken_at` is not JSON."""
    lines = [json.dumps(work) for work in works(count, seed=3)]
    if broken_at is not None:
        lines[broken_at - 1] = lines[broken_at - 1][:40]
    path.write_text("\n".join(lines) + "\n")


def test_a_large_file_is_read_by_a_child_and_a_small_one_here(tmp_path: Path) -> None:
    large = tmp_path / "large.jsonl"
    generated(large, 2_000)
    assert large.stat().st_size >= parse_worker.ASIDE_FROM
    aside = list(parsed_aside(large, work_from_openalex))
    here = list(parsed(read_records(large), work_from_openalex))
    assert [outcome for _, outcome in aside] == [outcome for _, outcome in here]
    # A line read here keeps its JSON; one sent by the child does not need to.
    assert all(line.record is None for line, _ in aside)
    small = FIXTURES / "openalex" / "works.jsonl"
    assert all(line.record is not None for line, _ in parsed_aside(small, work_from_openalex))


def test_a_mapper_the_child_cannot_import_is_run_here(tmp_path: Path) -> None:
    large = tmp_path / "large.jsonl"
    generated(large, 2_000)
    read = list(parsed_aside(large, lambda record: work_from_openalex(record)))
    assert len(read) == 2_000
    assert all(line.record is not None for line, _ in read)


def test_a_file_cut_short_ends_aside_as_it_does_here(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl.gz"
    whole = "".join(json.dumps(work) + "\n" for work in works(300, seed=4)).encode()
    rest = "".join(json.dumps(work) + "\n" for work in works(10, seed=5)).encode()
    path.write_bytes(gzip.compress(whole) + gzip.compress(rest)[:30])

    def read(results: Iterable[Parsed]) -> tuple[list[tuple[str, int, object]], str]:
        seen: list[tuple[str, int, object]] = []
        try:
            for line, outcome in results:
                seen.append((line.file, line.line, outcome))
        except UnreadableFileError as error:
            return seen, str(error)
        raise AssertionError("read to its end")

    here = read(parsed(read_records(path), work_from_openalex))
    aside = read(parsed_aside(path, work_from_openalex, aside_from=0))
    assert aside == here
    assert len(here[0]) == 300
    assert "cut short" in here[1]


def readers() -> list[int]:
    """The child processes of this one that read a file aside."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == os.getpid() and b"seeds.parse_worker" in command and stat[0] != "Z":
            found.append(int(entry.name))
    return found


def test_an_import_that_stops_early_ends_the_child(tmp_path: Path) -> None:
    path = tmp_path / "large.jsonl"
    generated(path, 6_000)  # more than the pipe holds: the child is still reading
    results: Iterator[Parsed] = parsed_aside(path, work_from_openalex, aside_from=0)
    next(results)
    assert len(readers()) == 1
    results.close()  # type: ignore[attr-defined]  # a generator, typed as the iterator it is
    assert readers() == []


def test_a_child_that_dies_is_an_error_not_a_short_file(tmp_path: Path) -> None:
    path = tmp_path / "large.jsonl"
    generated(path, 6_000)
    results = parsed_aside(path, work_from_openalex, aside_from=0)
    next(results)
    [child] = readers()
    os.kill(child, signal.SIGKILL)
    with pytest.raises(RuntimeError, match=r"large.jsonl: the process reading it ended early"):
        list(results)


def test_a_child_stopped_and_continued_sends_every_record_whole(tmp_path: Path) -> None:
    """Job control (Ctrl-Z, fg) or a profiler stops the child mid-write; what it sends still
    arrives whole and in order."""
    path = tmp_path / "large.jsonl"
    generated(path, 30_000)
    here = outcomes(parsed(read_records(path), work_from_openalex))
    results = parsed_aside(path, work_from_openalex, aside_from=0)
    first = next(iter(results))
    [child] = readers()
    done = threading.Event()

    def stop_and_continue() -> None:
        try:
            while not done.is_set():
                os.kill(child, signal.SIGSTOP)
                time.sleep(0.0005)
                os.kill(child, signal.SIGCONT)
                time.sleep(0.001)
        except ProcessLookupError:
            pass  # it has sent everything

    storm = threading.Thread(target=stop_and_continue)
    storm.start()
    try:
        aside = [first]
        for result in results:
            aside.append(result)
            if len(aside) % 5_000 == 0:
                time.sleep(0.2)  # the pipe fills: the child blocks in a write, and is stopped
    finally:
        done.set()
        storm.join()
    assert outcomes(aside) == here
