"""Read the text of a researcher's profile page into plain values.

The text is what a browser copies from the page, so labels and values are glued
together. A profile looks like this (blank lines separate the parts; any number of
them is accepted, and so are CRLF line endings and whitespace around a line)::

    David Bau                     the researcher's name
                                  (blank)
    CV                            a label, optional
    h-index55                     reported figures, each optional, any order:
    71papers                        h-index, paper count, citation count
    14,869citations                 (thousands may be grouped with commas),
    Novelty48%                      novelty as a percentage,
    AI Score60                      and an AI score
                                  (blank)
    71 Papers                     how many papers the page says it lists, optional

    CLOct 13, 2022                an entry's head line (see below)
    Mass-Editing Memory in a Transformer                          the title
    Kevin Meng, Arnab Sen Sharma, Alex Andonian et al. · mit      the byline
    Recent work has shown ... at https://memit.baulab.info.      the abstract, optional

A head line glues together an optional source score (``53.8``), an arXiv
category code without its archive (``CL`` is cs.CL), a date and an optional
``Code`` flag: ``CLOct 13, 2022``, ``CVAug 25, 2023Code``, ``53.8CLApr 23``.
The page leaves the year out for papers of the year it was captured in, so the
caller says which year that was.

A byline lists names separated by commas and ends in ``et al.`` when the page
cut it short; institution slugs may follow after a middle dot set off by
spaces (`` · mit, stanford``). A middle dot inside a name (``Marcel·lí``) is part
of the name.

Lines are numbered from 1 and split on "\\n" only, as editors and ``grep -n``
count them, so the numbers in errors can be looked up directly.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple, TypeVar

__all__ = [
    "Profile",
    "ProfileEntry",
    "ProfileFormatError",
    "ReportedFigures",
    "decode_profile",
    "parse_profile",
]


@dataclass(frozen=True, slots=True)
class ReportedFigures:
    """The figures the page reports about the researcher, as printed; None when absent."""

    h_index: int | None = None
    paper_count: int | None = None
    citation_count: int | None = None
    novelty: float | None = None  # a fraction: "Novelty48%" is 0.48
    ai_score: float | None = None


@dataclass(frozen=True, slots=True)
class ProfileEntry:
    """One paper as the page lists it."""

    line: int  # of the head line, from 1
    source_score: float | None
    category: str  # "cs.CL"
    published_on: datetime.date
    year_given: bool  # False when the page left the year out and the capture year was used
    has_code: bool
    title: str
    authors: tuple[str, ...]  # as printed, in byline order, without "et al."
    authors_truncated: bool  # the byline ended in "et al."
    institutions: tuple[str, ...]  # slugs after " · "
    abstract: str | None
    links: tuple[str, ...]  # http(s) addresses in the abstract, in order, each once


@dataclass(frozen=True, slots=True)
class Profile:
    """A whole profile page."""

    name: str
    reported: ReportedFigures
    listed_paper_count: int | None  # from "71 Papers"; the page may show fewer entries
    entries: tuple[ProfileEntry, ...]


class ProfileFormatError(ValueError):
    """A profile text that does not follow the format; names the line and what was expected.

    ``found`` is the offending text, or None for the end of the file.
    """

    line: int
    expected: str
    found: str | None

    def __init__(self, line: int, expected: str, found: str | None) -> None:
        super().__init__(f"line {line}: {_reason(expected, found)}")
        self.line = line
        self.expected = expected
        self.found = found

    @property
    def reason(self) -> str:
        """What was wrong, without the line: "expected ..., found ..."."""
        return _reason(self.expected, self.found)

    def __reduce__(self) -> tuple[type[ProfileFormatError], tuple[int, str, str | None]]:
        # The message is built from the fields, so rebuild from them when unpickling.
        return type(self), (self.line, self.expected, self.found)


def _reason(expected: str, found: str | None) -> str:
    return f"expected {expected}, found {_describe(found)}"


_FOUND_LIMIT = 60  # an abstract is a whole paragraph; the start is enough to find it


def _describe(found: str | None) -> str:
    if found is None:
        return "end of file"
    if len(found) > _FOUND_LIMIT:
        return repr(found[:_FOUND_LIMIT]) + "…"
    return repr(found)


# --- decoding ---------------------------------------------------------------------------

_BOM = b"\xef\xbb\xbf"


def decode_profile(data: bytes) -> str:
    """The text of a profile file: UTF-8, with or without a byte order mark."""
    body = data.removeprefix(_BOM)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        # The mark holds no newline, so line numbers in the body are the file's.
        raise _undecodable(body, error.start) from None


def _undecodable(body: bytes, offset: int) -> ProfileFormatError:
    line_start = body.rfind(b"\n", 0, offset) + 1
    line_end = body.find(b"\n", offset)
    text = body[line_start : len(body) if line_end < 0 else line_end]
    column = offset - line_start + 1
    return ProfileFormatError(
        body.count(b"\n", 0, offset) + 1,
        f"UTF-8 text (byte 0x{body[offset]:02x} at byte column {column} is not UTF-8)",
        text.decode("utf-8", errors="replace").strip(),
    )


# --- lines ------------------------------------------------------------------------------


class _Line(NamedTuple):
    number: int
    text: str


# NUL and unpaired surrogates: text no database stores (PostgreSQL refuses NUL, neither
# encodes a surrogate), refused here so that both databases see the same file fail.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_STORABLE_EXPECTED = "text without NUL characters or unpaired surrogates (no database stores them)"


@dataclass(slots=True)
class _Cursor:
    """The non-blank lines of a text, read front to back."""

    lines: list[_Line]
    end: int  # the line number just past the last line, where "end of file" is reported
    position: int = 0

    @classmethod
    def over(cls, text: str) -> _Cursor:
        text = text.removeprefix("\ufeff")
        raw = text.split("\n")
        lines = [_Line(n, s.strip()) for n, s in enumerate(raw, 1) if s.strip()]
        for line in lines:
            if _UNSTORABLE.search(line.text):
                raise ProfileFormatError(line.number, _STORABLE_EXPECTED, line.text)
        line_count = len(raw) - 1 if text.endswith("\n") else len(raw)
        return cls(lines, line_count + 1 if text else 1)

    def peek(self) -> _Line | None:
        return self.lines[self.position] if self.position < len(self.lines) else None

    def take(self) -> _Line | None:
        line = self.peek()
        if line is not None:
            self.position += 1
        return line

    def where(self) -> int:
        line = self.peek()
        return self.end if line is None else line.number


# --- header -----------------------------------------------------------------------------

_LABELS = frozenset({"CV"})
_COUNT = r"(\d{1,3}(?:,\d{3})+|\d+)"
_NUMBER = r"(\d+(?:\.\d+)?)"
_FIGURES: dict[str, re.Pattern[str]] = {
    "h_index": re.compile(r"h-index\s*(\d+)", re.ASCII),
    "paper_count": re.compile(_COUNT + r"\s*papers?", re.ASCII),
    "citation_count": re.compile(_COUNT + r"\s*citations?", re.ASCII),
    "novelty": re.compile(r"Novelty\s*" + _NUMBER + r"\s*%", re.ASCII),
    "ai_score": re.compile(r"AI Score\s*" + _NUMBER, re.ASCII),
}
_LISTED = re.compile(_COUNT + r"\s+Papers?", re.ASCII)
_FIGURE_EXPECTED = (
    "a header figure (h-index, papers, citations, Novelty, AI Score), "
    "the 'N Papers' line or an entry head line"
)


def _read_name(cursor: _Cursor) -> str:
    line = cursor.take()
    if line is None:
        raise ProfileFormatError(1, "the researcher's name", None)
    if _is_header_line(line.text) or _HEAD.fullmatch(line.text):
        raise ProfileFormatError(line.number, "the researcher's name", line.text)
    return line.text


def _is_header_line(text: str) -> bool:
    if text in _LABELS or _LISTED.fullmatch(text):
        return True
    return any(pattern.fullmatch(text) for pattern in _FIGURES.values())


def _read_header(cursor: _Cursor) -> tuple[ReportedFigures, int | None]:
    printed: dict[str, str] = {}
    while (line := cursor.peek()) is not None and not _HEAD.fullmatch(line.text):
        cursor.take()
        if listed := _LISTED.fullmatch(line.text):
            return _figures(printed), _count(listed[1])
        if line.text not in _LABELS:
            _record_figure(printed, line)
    return _figures(printed), None


def _record_figure(printed: dict[str, str], line: _Line) -> None:
    for field, pattern in _FIGURES.items():
        if match := pattern.fullmatch(line.text):
            if field in printed:
                raise ProfileFormatError(line.number, "each header figure at most once", line.text)
            printed[field] = match[1]
            return
    raise ProfileFormatError(line.number, _FIGURE_EXPECTED, line.text)


def _figures(printed: dict[str, str]) -> ReportedFigures:
    return ReportedFigures(
        h_index=_convert(_count, printed.get("h_index")),
        paper_count=_convert(_count, printed.get("paper_count")),
        citation_count=_convert(_count, printed.get("citation_count")),
        novelty=_convert(_fraction, printed.get("novelty")),
        ai_score=_convert(float, printed.get("ai_score")),
    )


_T = TypeVar("_T")


def _convert(convert: Callable[[str], _T], printed: str | None) -> _T | None:
    return None if printed is None else convert(printed)


def _fraction(percent: str) -> float:
    # Decimal keeps "48.3%" at the float nearest 0.483, not 48.3's error divided by 100.
    return float(Decimal(percent) / 100)


def _count(printed: str) -> int:
    return int(printed.replace(",", ""))


# --- entries ----------------------------------------------------------------------------

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
# The month is matched loosely so "Foo 3, 2023" is reported as a bad date, not a bad head.
_HEAD = re.compile(
    r"(?P<score>\d+(?:\.\d+)?)?\s*(?P<category>[A-Z]{2,3})\s*"
    r"(?P<month>[A-Z][a-z]{2})\s*(?P<day>\d{1,2})(?:\s*,\s*(?P<year>\d{4}))?\s*(?P<code>Code)?",
    re.ASCII,
)
_HEAD_EXPECTED = (
    "an entry head line: optional score, category code, date, optional 'Code' "
    "(like 'CLOct 13, 2022' or '53.8CVMar 23Code')"
)
_DATE_EXPECTED = "a real calendar date (like 'Oct 13, 2022' or 'Feb 23')"
_BYLINE_EXPECTED = "a byline (names separated by commas)"
_SLUGS_EXPECTED = "institution slugs after ' · ' (like 'mit, microsoft-research')"
# A middle dot set off by whitespace starts the institutions; inside a word it is a letter.
_INSTITUTIONS_MARK = re.compile(r"(?:^|\s)·(?:\s|$)")
_ET_AL = re.compile(r",?\s*\bet\s+al\.?$")
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_TRAILING = ".,;:!?'\"`>)]}\u00bb\u201d\u2019"  # closing quotes, plain and typographic
_PAIRS = {")": "(", "]": "[", "}": "{"}


class _Head(NamedTuple):
    source_score: float | None
    category: str
    published_on: datetime.date
    year_given: bool
    has_code: bool


class _Byline(NamedTuple):
    authors: tuple[str, ...]
    truncated: bool
    institutions: tuple[str, ...]


def _read_entries(cursor: _Cursor, undated_year: int) -> tuple[ProfileEntry, ...]:
    entries: list[ProfileEntry] = []
    while (line := cursor.take()) is not None:
        entries.append(_read_entry(cursor, line, undated_year))
    return tuple(entries)


def _read_entry(cursor: _Cursor, head_line: _Line, undated_year: int) -> ProfileEntry:
    head = _parse_head(head_line, undated_year)
    parts = _entry_parts(cursor)
    if not parts:
        expected = f"the title of the entry on line {head_line.number}"
        raise ProfileFormatError(cursor.where(), expected, _text_at(cursor))
    if len(parts) == 1:
        raise ProfileFormatError(cursor.where(), _BYLINE_EXPECTED, _text_at(cursor))
    if len(parts) > _MOST_PARTS:
        raise _extra_line(head_line, parts)
    title, byline_line, *rest = parts
    byline = _parse_byline(byline_line)
    abstract = rest[0].text if rest else None
    return ProfileEntry(
        line=head_line.number,
        source_score=head.source_score,
        category=head.category,
        published_on=head.published_on,
        year_given=head.year_given,
        has_code=head.has_code,
        title=title.text,
        authors=byline.authors,
        authors_truncated=byline.truncated,
        institutions=byline.institutions,
        abstract=abstract,
        links=_find_links(abstract or ""),
    )


_MOST_PARTS = 3  # title, byline, abstract


def _entry_parts(cursor: _Cursor) -> list[_Line]:
    """The lines of an entry after its head: up to the next head line or the end."""
    parts = []
    while (line := cursor.peek()) is not None and not _HEAD.fullmatch(line.text):
        parts.append(line)
        cursor.take()
    return parts


def _text_at(cursor: _Cursor) -> str | None:
    line = cursor.peek()
    return None if line is None else line.text


def _extra_line(head_line: _Line, parts: list[_Line]) -> ProfileFormatError:
    """The error for an entry with more lines than it may have, at the line out of place.

    An extra line before the byline shifts the byline and the abstract down, so
    the mistake only shows lines later; when a line below the first looks like a
    byline, the lines before it are the ones out of place.
    """
    byline_at = next(
        (at for at, part in enumerate(parts[1:], 1) if _looks_like_byline(part.text)), None
    )
    if byline_at is None or byline_at == 1:
        title, byline, abstract, extra = parts[:4]
        expected = (
            f"{_HEAD_EXPECTED} after the entry on line {head_line.number}, which has its title"
            f" (line {title.number}), byline (line {byline.number}) and abstract"
            f" (line {abstract.number})"
        )
        return ProfileFormatError(extra.number, expected, extra.text)
    numbers = ", ".join(str(part.number) for part in parts[:byline_at])
    expected = (
        f"one title line between the head line {head_line.number} and the byline"
        f" on line {parts[byline_at].number}, not {byline_at} (lines {numbers})"
    )
    return ProfileFormatError(parts[0].number, expected, parts[0].text)


def _looks_like_byline(text: str) -> bool:
    """Names separated by commas, or a line ending in "et al." or naming institutions."""
    names, mark, _ = _split_institutions(text)
    if mark or _ET_AL.search(names):
        return True
    pieces = names.split(",")
    return len(pieces) > 1 and all(
        0 < len(piece.split()) <= _MOST_WORDS_IN_A_NAME for piece in pieces
    )


_MOST_WORDS_IN_A_NAME = 5


def _parse_head(line: _Line, undated_year: int) -> _Head:
    match = _HEAD.fullmatch(line.text)
    if match is None:
        raise ProfileFormatError(line.number, _HEAD_EXPECTED, line.text)
    score = match["score"]
    return _Head(
        source_score=None if score is None else float(score),
        category="cs." + match["category"],
        published_on=_date(match, undated_year, line),
        year_given=match["year"] is not None,
        has_code=match["code"] is not None,
    )


def _date(match: re.Match[str], undated_year: int, line: _Line) -> datetime.date:
    month = _MONTHS.get(match["month"])
    year = undated_year if match["year"] is None else int(match["year"])
    if month is not None:
        with suppress(ValueError):  # a day past the month's end, or year 0000
            return datetime.date(year, month, int(match["day"]))
    raise ProfileFormatError(line.number, _DATE_EXPECTED, line.text)


def _parse_byline(line: _Line) -> _Byline:
    names, mark, slugs = _split_institutions(line.text)
    truncation = _ET_AL.search(names)
    if truncation:
        names = names[: truncation.start()]
    return _Byline(
        authors=_split_names(names, line),
        truncated=truncation is not None,
        institutions=_split_slugs(slugs, line) if mark else (),
    )


def _split_institutions(text: str) -> tuple[str, bool, str]:
    mark = _INSTITUTIONS_MARK.search(text)
    if mark is None:
        return text, False, ""
    return text[: mark.start()], True, text[mark.end() :]


def _split_names(text: str, line: _Line) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(","))
    if not all(names):
        raise ProfileFormatError(line.number, _BYLINE_EXPECTED, line.text)
    return names


def _split_slugs(text: str, line: _Line) -> tuple[str, ...]:
    slugs = tuple(slug.strip() for slug in text.split(","))
    if not all(slugs) or any(len(slug.split()) > 1 for slug in slugs):
        raise ProfileFormatError(line.number, _SLUGS_EXPECTED, line.text)
    return slugs


def _find_links(abstract: str) -> tuple[str, ...]:
    links = (_trim_link(match[0]) for match in _URL.finditer(abstract))
    return tuple(dict.fromkeys(link for link in links if not link.endswith("://")))


def _trim_link(link: str) -> str:
    # Sentence punctuation after an address is not part of it; a closing bracket is, when
    # the address itself opened it (Wikipedia's "Foo_(bar)").
    while link and link[-1] in _TRAILING and not _closes_own_bracket(link):
        link = link[:-1]
    return link


def _closes_own_bracket(link: str) -> bool:
    opening = _PAIRS.get(link[-1])
    return opening is not None and link.count(opening) >= link.count(link[-1])


# --- the whole ----------------------------------------------------------------------------


def parse_profile(text: str, *, undated_year: int) -> Profile:
    """Read a profile page's text; entries printed without a year get ``undated_year``."""
    if not datetime.MINYEAR <= undated_year <= datetime.MAXYEAR:
        raise ValueError(f"undated_year must be a calendar year, not {undated_year}")
    cursor = _Cursor.over(text)
    name = _read_name(cursor)
    reported, listed = _read_header(cursor)
    return Profile(name, reported, listed, _read_entries(cursor, undated_year))
