"""OpenAlex works and authors, as published in its API and snapshot, into plain records.

Field names follow https://docs.openalex.org (Work and Author objects). Ids
are kept in their short form (W2741809807, A5023888391); DOIs and ORCIDs
lose their https:// prefixes. An abstract comes as an inverted index (word
-> positions) and is put back into text. No category is derived: OpenAlex
topics do not map to arXiv codes with any certainty.
"""

from __future__ import annotations

import re
from typing import Any

from seeds.records import (
    AuthorRecord,
    AuthorRef,
    InstitutionRef,
    RecordError,
    Reported,
    WorkRecord,
    count_or_none,
    date_or_none,
    identifier,
    number_or_none,
)

SOURCE = "openalex"
ARXIV_URL = re.compile(r"arxiv\.org/(?:abs|pdf)/([a-z\-]+/\d{7}|\d{4}\.\d{4,5})", re.IGNORECASE)
ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)
DOI_PREFIX = re.compile(r"^(https?://(dx\.)?doi\.org/|doi:)", re.IGNORECASE)


OPENALEX_PREFIX = "https://openalex.org/"


def short_id(value: Any) -> str | None:
    """W123 from https://openalex.org/W123 (or W123 itself)."""
    if type(value) is str and value.startswith(OPENALEX_PREFIX):
        # How OpenAlex writes every id: what follows is the id when it is all letters and
        # digits (0.2 us, against 0.55-0.9 by the general way below).
        tail = value[len(OPENALEX_PREFIX) :]
        if tail.isalnum() and len(tail) <= 32:
            return tail
    return _short_id(value)


def _short_id(value: Any) -> str | None:
    if type(value) is str and value[-1:].isalnum() and value[:1].isalnum():
        # Nothing to strip at either end (the common case): the part after the last slash.
        tail = value[value.rfind("/") + 1 :]
        return tail if len(tail) <= 32 and "\x00" not in tail else None
    if not isinstance(value, str) or not value.strip():
        return None
    return identifier(value.strip().rstrip("/").rsplit("/", 1)[-1], 32)


def clean_doi(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    # The prefix OpenAlex writes, without the regex (DOI_PREFIX) every other spelling needs.
    doi = value[16:] if value.startswith("https://doi.org/") else DOI_PREFIX.sub("", value)
    return identifier(doi.lower(), 255)


def clean_orcid(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return identifier(value.strip().rstrip("/").rsplit("/", 1)[-1], 19)


def work_from_openalex(record: dict[str, Any]) -> WorkRecord:
    """A work record; RecordError when it lacks what every work has (an id and a title)."""
    openalex_id = short_id(record.get("id"))
    title = record.get("title") or record.get("display_name")
    if not openalex_id or not isinstance(title, str) or not title.strip():
        raise RecordError("an OpenAlex work needs an id and a title")
    published_on = date_or_none(record.get("publication_date"))
    year = count_or_none(record.get("publication_year")) or (
        published_on.year if published_on else None
    )
    doi = clean_doi(record.get("doi"))
    return WorkRecord(
        title=" ".join(title.split()),
        year=year,
        published_on=published_on,
        abstract=abstract_text(record.get("abstract_inverted_index")),
        doi=doi,
        arxiv_id=_arxiv_id(record, doi),
        openalex_id=openalex_id,
        citation_count=count_or_none(record.get("cited_by_count")),
        counts_by_year=_counts_by_year(record.get("counts_by_year")),
        authors=tuple(_authors(record.get("authorships") or [])),
    )


def author_from_openalex(record: dict[str, Any]) -> AuthorRecord:
    """An author record, with OpenAlex's summary figures kept as reported metrics."""
    openalex_id = short_id(record.get("id"))
    name = record.get("display_name")
    if not openalex_id or not isinstance(name, str) or not name.strip():
        raise RecordError("an OpenAlex author needs an id and a display_name")
    stats = record.get("summary_stats") or {}
    # Authors updated before 2023 carry one last_known_institution instead of a list.
    institutions = record.get("last_known_institutions") or [
        i for i in [record.get("last_known_institution")] if i
    ]
    return AuthorRecord(
        name=name.strip(),
        aliases=tuple(a for a in record.get("display_name_alternatives") or [] if a != name),
        openalex_id=openalex_id,
        orcid=clean_orcid(record.get("orcid") or (record.get("ids") or {}).get("orcid")),
        institutions=institution_refs(institutions),
        reported=Reported(
            source=SOURCE,
            h_index=count_or_none(stats.get("h_index")),
            citation_count=count_or_none(record.get("cited_by_count")),
            paper_count=count_or_none(record.get("works_count")),
            i10_index=count_or_none(stats.get("i10_index")),
            two_year_mean_citedness=number_or_none(stats.get("2yr_mean_citedness")),
            captured_on=date_or_none(record.get("updated_date")),
        ),
    )


def institution_refs(institutions: Any) -> tuple[InstitutionRef, ...]:
    """Dehydrated OpenAlex institutions: display name, OpenAlex id and ROR id."""
    refs = []
    for item in institutions or []:
        name = item.get("display_name") if isinstance(item, dict) else None
        if isinstance(name, str) and name.strip():
            refs.append(
                InstitutionRef(
                    name=" ".join(name.split()),
                    openalex_id=short_id(item.get("id")),
                    ror=short_id(item.get("ror")),
                )
            )
    return tuple(refs)


def abstract_text(inverted: Any) -> str | None:
    """The abstract from OpenAlex's inverted index: every word placed back at its positions."""
    if not isinstance(inverted, dict) or not inverted:
        return None
    placed = {pos: word for word, positions in inverted.items() for pos in positions or []}
    return " ".join(placed[pos] for pos in sorted(placed)) or None


def _authors(authorships: list[Any]) -> list[AuthorRef]:
    authors = []
    for place, authorship in enumerate(authorships, 1):
        author = authorship.get("author") or {}
        raw_name = authorship.get("raw_author_name")
        name = author.get("display_name") or raw_name
        if not isinstance(name, str) or not name.strip():
            continue
        places = authorship.get("institutions")
        authors.append(
            AuthorRef(
                name.strip(),
                (raw_name or name).strip(),
                place,
                short_id(author.get("id")),
                None,
                clean_orcid(author.get("orcid")),
                institution_refs(places) if places else (),
            )
        )
    return authors


def _arxiv_id(record: dict[str, Any], doi: str | None) -> str | None:
    if doi and (match := ARXIV_DOI.match(doi)):
        return identifier(match.group(1), 32)
    for location in record.get("locations") or []:
        for key in ("landing_page_url", "pdf_url"):
            url = location.get(key) if isinstance(location, dict) else None
            if isinstance(url, str) and (match := ARXIV_URL.search(url)):
                return match.group(1)
    return None


def _counts_by_year(value: Any) -> tuple[tuple[int, int], ...]:
    pairs = []
    for item in value or []:
        year, count = count_or_none(item.get("year")), count_or_none(item.get("cited_by_count"))
        if year is not None and count:
            pairs.append((year, count))
    return tuple(sorted(pairs))
