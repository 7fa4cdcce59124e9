"""Plain records of bibliographic sources, as the importer writes them.

Each source module (openalex, semanticscholar) turns its JSON into these;
the importer knows nothing of any source's field names.

They are not frozen dataclasses: a frozen one's __init__ sets each field
through object.__setattr__, six times slower, and an import makes several
per work. Nothing changes a record once made (dataclasses.replace makes
another); unsafe_hash keeps them hashable as frozen ones were.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(slots=True, unsafe_hash=True)
class InstitutionRef:
    """An institution as a source names it: its display name, and its ids when given."""

    name: str
    openalex_id: str | None = None
    ror: str | None = None


@dataclass(slots=True, unsafe_hash=True)
class AuthorRef:
    """An author as a work names them."""

    name: str
    printed_name: str
    position: int | None = None
    openalex_id: str | None = None
    semantic_scholar_id: str | None = None
    orcid: str | None = None
    institutions: tuple[InstitutionRef, ...] = ()

    @property
    def has_id(self) -> bool:
        """True when the source identifies the author (else only the name is known)."""
        return bool(self.openalex_id or self.semantic_scholar_id or self.orcid)


@dataclass(slots=True, unsafe_hash=True)
class WorkRecord:
    title: str
    year: int | None = None
    published_on: date | None = None
    abstract: str | None = None
    doi: str | None = None
    arxiv_id: str | None = None
    openalex_id: str | None = None
    semantic_scholar_id: str | None = None
    citation_count: int | None = None
    counts_by_year: tuple[tuple[int, int], ...] = ()
    authors: tuple[AuthorRef, ...] = ()


@dataclass(frozen=True, slots=True)
class Reported:
    """What a source says about a researcher's record, kept apart from what we compute."""

    source: str
    h_index: int | None = None
    citation_count: int | None = None
    paper_count: int | None = None
    i10_index: int | None = None
    two_year_mean_citedness: float | None = None
    # The day the source last updated the record, when it says.
    captured_on: date | None = None


@dataclass(frozen=True, slots=True)
class AuthorRecord:
    name: str
    aliases: tuple[str, ...] = ()
    openalex_id: str | None = None
    semantic_scholar_id: str | None = None
    orcid: str | None = None
    homepage: str | None = None
    institutions: tuple[InstitutionRef, ...] = ()
    reported: Reported | None = None
    # Semantic Scholar's author response nests the author's papers.
    works: tuple[WorkRecord, ...] = field(default=())


class RecordError(ValueError):
    """A record that does not have the shape its source publishes."""


def identifier(value: str | None, longest: int) -> str | None:
    """An id as the tables can hold it: None for one longer than its column, or holding NUL.

    Such a value is no real id of its kind (every DOI, ORCID and source id is
    far shorter); kept, it would fail its whole batch on PostgreSQL.
    """
    if value is None or len(value) > longest or "\x00" in value:
        return None
    return value


def text_or_none(value: Any) -> str | None:
    """A JSON value that is non-blank text, stripped, else None."""
    return value.strip() if isinstance(value, str) and value.strip() else None


def count_or_none(value: Any) -> int | None:
    """A JSON value that is a count (a non-negative integer), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def date_or_none(value: Any) -> date | None:
    """An ISO date (or the date of an ISO timestamp) from JSON, else None."""
    try:
        return date.fromisoformat(value[:10]) if isinstance(value, str) else None
    except ValueError:
        return None


def number_or_none(value: Any) -> float | None:
    """A JSON value that is a finite non-negative number, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0 <= value < float("inf") else None
