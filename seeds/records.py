"""Plain records of bibliographic sources, as the importer writes them.

Each source module (openalex, semanticscholar) turns its JSON into these;
the importer knows nothing of any source's field names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True, slots=True)
class AuthorRef:
    """An author as a work names them."""

    name: str
    printed_name: str
    position: int | None = None
    openalex_id: str | None = None
    semantic_scholar_id: str | None = None
    orcid: str | None = None
    institutions: tuple[str, ...] = ()  # display names


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class AuthorRecord:
    name: str
    aliases: tuple[str, ...] = ()
    openalex_id: str | None = None
    semantic_scholar_id: str | None = None
    orcid: str | None = None
    homepage: str | None = None
    institutions: tuple[str, ...] = ()
    reported: Reported | None = None
    # Semantic Scholar's author response nests the author's papers.
    works: tuple[WorkRecord, ...] = field(default=())


class RecordError(ValueError):
    """A record that does not have the shape its source publishes."""


def text_or_none(value: Any) -> str | None:
    """A JSON value that is non-blank text, stripped, else None."""
    return value.strip() if isinstance(value, str) and value.strip() else None


def count_or_none(value: Any) -> int | None:
    """A JSON value that is a count (a non-negative integer), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def date_or_none(value: Any) -> date | None:
    """An ISO date from JSON, else None (sources leave dates out or null)."""
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
