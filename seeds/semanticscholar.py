"""Semantic Scholar Graph API papers and authors into plain records.

Field names follow https://api.semanticscholar.org/api-docs/graph (Paper
and Author). publicationDate is often null; then only the year is kept.
An author response may nest the author's `papers`: each is imported with
the author on it, at their place in the paper's own author list when that
list is there, else at an unknown place.
"""

from __future__ import annotations

from typing import Any

from seeds.openalex import clean_doi
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
)

SOURCE = "semanticscholar"


def work_from_s2(record: dict[str, Any], *, author: AuthorRef | None = None) -> WorkRecord:
    """A paper record; `author` is the researcher whose response nested it."""
    paper_id = record.get("paperId")
    title = record.get("title")
    if (
        not isinstance(paper_id, str)
        or not paper_id
        or not isinstance(title, str)
        or not title.strip()
    ):
        raise RecordError("a Semantic Scholar paper needs a paperId and a title")
    external = record.get("externalIds") or {}
    published_on = date_or_none(record.get("publicationDate"))
    year = count_or_none(record.get("year")) or (published_on.year if published_on else None)
    authors = _authors(record.get("authors") or [])
    if author is not None and author.semantic_scholar_id not in {
        a.semantic_scholar_id for a in authors
    }:
        authors.append(author)
    return WorkRecord(
        title=" ".join(title.split()),
        year=year,
        published_on=published_on,
        abstract=record.get("abstract") if isinstance(record.get("abstract"), str) else None,
        doi=clean_doi(external.get("DOI")),
        arxiv_id=identifier(external.get("ArXiv"), 32)
        if isinstance(external.get("ArXiv"), str)
        else None,
        semantic_scholar_id=identifier(paper_id, 64),
        citation_count=count_or_none(record.get("citationCount")),
        authors=tuple(authors),
    )


def author_from_s2(record: dict[str, Any]) -> AuthorRecord:
    """An author record, its figures kept as reported metrics, with any nested papers."""
    author_id = record.get("authorId")
    name = record.get("name")
    if (
        not isinstance(author_id, str)
        or not author_id
        or not isinstance(name, str)
        or not name.strip()
    ):
        raise RecordError("a Semantic Scholar author needs an authorId and a name")
    external = record.get("externalIds") or {}
    orcid = (
        identifier(external.get("ORCID"), 19) if isinstance(external.get("ORCID"), str) else None
    )
    author_id = identifier(author_id, 32) or ""
    me = AuthorRef(
        name=name.strip(), printed_name=name.strip(), semantic_scholar_id=author_id or None
    )
    return AuthorRecord(
        name=name.strip(),
        aliases=tuple(a for a in record.get("aliases") or [] if isinstance(a, str) and a != name),
        semantic_scholar_id=author_id or None,
        orcid=orcid,
        homepage=record.get("homepage") if isinstance(record.get("homepage"), str) else None,
        institutions=tuple(
            InstitutionRef(name=a.strip())
            for a in record.get("affiliations") or []
            if isinstance(a, str) and a.strip()
        ),
        reported=Reported(
            source=SOURCE,
            h_index=count_or_none(record.get("hIndex")),
            citation_count=count_or_none(record.get("citationCount")),
            paper_count=count_or_none(record.get("paperCount")),
        ),
        works=tuple(work_from_s2(p, author=me) for p in record.get("papers") or []),
    )


def is_author_record(record: dict[str, Any]) -> bool:
    return "authorId" in record and "paperId" not in record


def record_from_s2(record: dict[str, Any]) -> WorkRecord | AuthorRecord:
    """A paper or an author (with their nested papers), whichever the record is."""
    return author_from_s2(record) if is_author_record(record) else work_from_s2(record)


def _authors(authors: list[Any]) -> list[AuthorRef]:
    refs = []
    for place, author in enumerate(authors, 1):
        name = author.get("name") if isinstance(author, dict) else None
        if isinstance(name, str) and name.strip():
            author_id = author.get("authorId")
            refs.append(
                AuthorRef(
                    name=name.strip(),
                    printed_name=name.strip(),
                    position=place,
                    semantic_scholar_id=identifier(author_id, 32)
                    if isinstance(author_id, str) and author_id
                    else None,
                )
            )
    return refs
