"""Checks on mutation input that need no database: each returns a clean value or notes a problem.

Every check appends to one `Problems` list instead of raising, so a caller
learns about all that is wrong with an input at once. A path names the input
field as the client wrote it: ("input", "authors", "2", "name").
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from urllib.parse import urlsplit

from db.models import NAME_MAX_LENGTH, TITLE_MAX_LENGTH
from db.names import name_key
from resolvers.errors import InvalidArgumentError
from resolvers.nodes import decode_id_of
from resolvers.orcid import OrcidError, parse_orcid

Path = tuple[str, ...]

EARLIEST_YEAR = 1900
URL_MAX_LENGTH = 2000
SLUG_MAX_LENGTH = 120
EXTERNAL_ID_MAX_LENGTH = 32

_DOI = re.compile(r"10\.\d{4,9}/\S+")
_DOI_PREFIXES = (
    "https://doi.org/",
    "http://doi.org/",
    "https://dx.doi.org/",
    "http://dx.doi.org/",
    "doi:",
)
# New style since 2007: YYMM.NNNN, five digits from 1501 on; old style: archive(.SUBJECT)/YYMMNNN.
# Either may end in a version, vN.
_ARXIV_NEW = re.compile(r"(?P<yymm>\d{2}(0[1-9]|1[0-2]))\.(?P<number>\d{4,5})(v[1-9]\d*)?")
_ARXIV_OLD = re.compile(r"[a-z]+(-[a-z]+)*(\.[A-Z]{2})?/\d{2}(0[1-9]|1[0-2])\d{3}(v[1-9]\d*)?")
_OPENALEX_AUTHOR = re.compile(r"A\d{1,30}")
_SEMANTIC_SCHOLAR_AUTHOR = re.compile(r"\d{1,30}")
_SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


class ProblemCode(Enum):
    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    FORBIDDEN = "FORBIDDEN"
    AMBIGUOUS = "AMBIGUOUS"


class Keep(Enum):
    """An update field the caller left out: the stored value stays (null would clear it)."""

    KEEP = "keep"


@dataclass(frozen=True, slots=True)
class Problem:
    field: Path | None
    message: str
    code: ProblemCode
    # With AMBIGUOUS: the global IDs of the records the input could mean.
    candidates: tuple[str, ...] = ()


class RejectedError(Exception):
    """Raised inside a write to roll it back: the input has these problems."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) with the input")
        self.problems = list(problems)


@dataclass(slots=True)
class Problems:
    """What is wrong with one input, in the order found."""

    found: list[Problem] = field(default_factory=list)

    def invalid(self, path: Path, message: str) -> None:
        self.found.append(Problem(path, message, ProblemCode.INVALID))

    def not_found(self, path: Path, message: str) -> None:
        self.found.append(Problem(path, message, ProblemCode.NOT_FOUND))

    def conflict(self, path: Path, message: str) -> None:
        self.found.append(Problem(path, message, ProblemCode.CONFLICT))

    def ambiguous(self, path: Path, message: str, candidates: Sequence[str]) -> None:
        self.found.append(Problem(path, message, ProblemCode.AMBIGUOUS, tuple(candidates)))

    def at(self, path: Path) -> bool:
        """True when a problem was found at this path (so its value is not worth looking up)."""
        return any(problem.field == path for problem in self.found)

    def reject_if_any(self) -> None:
        if self.found:
            raise RejectedError(self.found)


Check = Callable[[str, Path, "Problems"], str]


@dataclass(frozen=True, slots=True)
class ImpossibleDate:
    """A date of the right shape (2024-02-30) that names no day: the Date scalar lets it
    through so that a mutation reports it with its field's path (checked_date)."""

    text: str

    def reason(self) -> str:
        year, month, day = (int(part) for part in self.text.split("-"))
        if not 1 <= month <= 12:
            return f"there is no month {month}"
        if year < 1:
            return "there is no year 0"
        if day < 1:
            return "days of the month count from 1"
        days = calendar.monthrange(year, month)[1]
        return f"{calendar.month_name[month]} {year} has {days} days, not {day}"


def checked_date(day: date | ImpossibleDate | None, path: Path, problems: Problems) -> date | None:
    """A publication date; an impossible one is a problem (and None)."""
    if isinstance(day, ImpossibleDate):
        problems.invalid(path, f"{day.text!r} is not a date: {day.reason()}.")
        return None
    return day


def checked_optional(value: str | None, path: Path, check: Check, problems: Problems) -> str | None:
    """`check` applied to a value that may be absent."""
    return None if value is None else check(value, path, problems)


def checked_id(global_id: str, type_name: str, path: Path, problems: Problems) -> int | None:
    """The database id of a global ID naming a `type_name`; None (and a problem) otherwise."""
    try:
        return decode_id_of(global_id, type_name)
    except InvalidArgumentError as error:
        problems.invalid(path, error.message)
        return None


def checked_title(title: str, path: Path, problems: Problems) -> str:
    return _checked_text(title, "title", TITLE_MAX_LENGTH, path, problems)


def checked_name(name: str, path: Path, problems: Problems, *, what: str = "name") -> str:
    """A person's name: some letters or digits, at most NAME_MAX_LENGTH characters."""
    clean = _checked_text(name, what, NAME_MAX_LENGTH, path, problems)
    if clean and not name_key(clean):
        problems.invalid(path, f"The {what} has no letters or digits.")
    return clean


def _checked_text(text: str, what: str, limit: int, path: Path, problems: Problems) -> str:
    stripped = text.strip()
    if not stripped:
        problems.invalid(path, f"The {what} is empty.")
    elif len(stripped) > limit:
        problems.invalid(path, f"The {what} is longer than {limit} characters.")
    return stripped


def optional_text(text: str | None) -> str | None:
    """Free text with its outer blanks removed; blank text means none."""
    stripped = (text or "").strip()
    return stripped or None


def checked_doi(doi: str, path: Path, problems: Problems) -> str:
    """A DOI in lower case, without a https://doi.org/ or doi: prefix."""
    clean = doi.strip()
    for prefix in _DOI_PREFIXES:
        if clean.lower().startswith(prefix):
            clean = clean[len(prefix) :]
    clean = clean.lower()
    if not _DOI.fullmatch(clean) or len(clean) > 255:
        problems.invalid(path, f"{doi!r} is not a DOI (10.NNNN/suffix).")
    return clean


def checked_arxiv_id(arxiv_id: str, path: Path, problems: Problems) -> str:
    """An arXiv identifier as given (version included), without an 'arXiv:' prefix."""
    clean = arxiv_id.strip()
    if clean.lower().startswith("arxiv:"):
        clean = clean[len("arxiv:") :]
    if not (_is_new_style_arxiv_id(clean) or _ARXIV_OLD.fullmatch(clean)):
        problems.invalid(
            path, f"{arxiv_id!r} is not an arXiv identifier (2210.07229 or cs/0112017)."
        )
    return clean


def _is_new_style_arxiv_id(text: str) -> bool:
    match = _ARXIV_NEW.fullmatch(text)
    if match is None:
        return False
    return len(match["number"]) == (5 if match["yymm"] >= "1501" else 4)


def checked_url(url: str, path: Path, problems: Problems) -> str:
    clean = url.strip()
    parts = urlsplit(clean)
    if parts.scheme not in {"http", "https"} or not parts.hostname or " " in clean:
        problems.invalid(path, f"{url!r} is not an http(s) address with a host.")
    elif len(clean) > URL_MAX_LENGTH:
        problems.invalid(path, f"The address is longer than {URL_MAX_LENGTH} characters.")
    return clean


def checked_orcid(orcid: str, path: Path, problems: Problems) -> str:
    """An ORCID iD (0000-0002-1825-0097), also accepted as an orcid.org address."""
    try:
        return parse_orcid(orcid)
    except OrcidError as error:
        problems.invalid(path, str(error))
        return orcid.strip()


def checked_openalex_author_id(value: str, path: Path, problems: Problems) -> str:
    clean = _without_prefix(value.strip(), ("https://openalex.org/",)).upper()
    if not _OPENALEX_AUTHOR.fullmatch(clean):
        problems.invalid(path, f"{value!r} is not an OpenAlex author id (A5023888391).")
    return clean


def checked_semantic_scholar_author_id(value: str, path: Path, problems: Problems) -> str:
    clean = value.strip()
    if not _SEMANTIC_SCHOLAR_AUTHOR.fullmatch(clean):
        problems.invalid(path, f"{value!r} is not a Semantic Scholar author id (digits).")
    return clean


def checked_slug(slug: str, path: Path, problems: Problems) -> str:
    clean = slug.strip()
    if not _SLUG.fullmatch(clean) or len(clean) > SLUG_MAX_LENGTH:
        problems.invalid(path, f"{slug!r} is not a slug (lower-case words joined by '-').")
    return clean


def _without_prefix(text: str, prefixes: tuple[str, ...]) -> str:
    for prefix in prefixes:
        if text.lower().startswith(prefix):
            return text[len(prefix) :]
    return text


def check_count(count: int, path: Path, problems: Problems) -> None:
    if count < 0:
        problems.invalid(path, f"A count cannot be negative ({count}).")


def check_year_counts(
    total: int,
    by_year: Sequence[tuple[int, int]],
    path: Path,
    problems: Problems,
    *,
    this_year: int,
) -> None:
    """Per-year counts: plausible years, each once, none negative, summing to at most `total`."""
    seen: set[int] = set()
    for index, (year, count) in enumerate(by_year):
        here = (*path, str(index))
        check_year(year, (*here, "year"), problems, this_year=this_year)
        if year in seen:
            problems.invalid((*here, "year"), f"{year} is given twice.")
        seen.add(year)
        check_count(count, (*here, "count"), problems)
    if sum(count for _, count in by_year) > total:
        problems.invalid(path, f"The per-year counts add up to more than the total ({total}).")


def check_year(year: int, path: Path, problems: Problems, *, this_year: int) -> None:
    if not EARLIEST_YEAR <= year <= this_year + 1:
        problems.invalid(path, f"{year} is not between 1900 and {this_year + 1}.")
