"""Reading record files: text no database stores, and files that cannot be read to the end."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from seeds.jsonrecords import Line, UnreadableFileError, read_records


def write_lines(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_nul_or_an_unpaired_surrogate_makes_a_bad_line(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "works.jsonl",
        json.dumps({"id": "W1", "title": "ok"}),
        json.dumps({"id": "W2", "title": "a\u0000b"}),
        '{"id": "W3", "abstract_inverted_index": {"x\\uDBFF": [0]}}',
        '{"id": "W4", "concepts": [{"name": "ok"}, {"name": "\\udfff"}]}',
    )
    assert [(line.line, line.error) for line in read_records(path)] == [
        (1, None),
        (2, "a NUL character (\\u0000) in title: databases cannot store it"),
        (
            3,
            "an unpaired surrogate (\\udbff) in a key of abstract_inverted_index:"
            " databases cannot store it",
        ),
        (4, "an unpaired surrogate (\\udfff) in concepts[1].name: databases cannot store it"),
    ]


def test_escapes_that_only_look_like_nul_are_text(tmp_path: Path) -> None:
    # An escaped backslash then "u0000": six characters of text. A paired surrogate: one emoji.
    path = write_lines(
        tmp_path / "works.jsonl",
        '{"id": "W1", "title": "C:\\\\u0000 and \\\\\\\\u0000"}',
        '{"id": "W2", "title": "\\ud83d\\ude00"}',
    )
    assert [line.record for line in read_records(path)] == [
        {"id": "W1", "title": "C:\\u0000 and \\\\u0000"},
        {"id": "W2", "title": "\U0001f600"},
    ]


def test_one_bad_item_of_a_saved_response_is_skipped_alone(tmp_path: Path) -> None:
    path = tmp_path / "response.json"
    path.write_text(
        json.dumps({"results": [{"id": "W1"}, {"id": "W2", "title": "\u0000"}, {"id": "W3"}]}),
        encoding="utf-8",
    )
    assert list(read_records(path)) == [
        Line("response.json", 1, record={"id": "W1"}),
        Line(
            "response.json",
            1,
            error="a NUL character (\\u0000) in title: databases cannot store it",
        ),
        Line("response.json", 1, record={"id": "W3"}),
    ]


def test_a_gzip_cut_short_raises_after_the_lines_before_the_cut(tmp_path: Path) -> None:
    whole = gzip.compress(b'{"id": "W1"}\n{"id": "W2"}\n')
    path = tmp_path / "works.jsonl.gz"
    path.write_bytes(whole + gzip.compress(b'{"id": "W3"}\n')[:12])
    read: list[Line] = []
    with pytest.raises(UnreadableFileError) as raised:
        read.extend(read_records(path))
    assert [line.record for line in read] == [{"id": "W1"}, {"id": "W2"}]
    assert str(raised.value) == (
        "works.jsonl.gz: the gzip data ends early: the file is cut short; read up to line 2"
    )


def test_corrupt_gzip_data_raises_with_what_is_wrong(tmp_path: Path) -> None:
    path = tmp_path / "works.jsonl.gz"
    data = bytearray(gzip.compress(b'{"id": "W1"}\n' * 50))
    data[12:20] = b"\xff" * 8
    path.write_bytes(bytes(data))
    with pytest.raises(
        UnreadableFileError, match=r"^works\.jsonl\.gz: the gzip data is corrupt \("
    ):
        list(read_records(path))
