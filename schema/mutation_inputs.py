"""The inputs of the mutations, each turned into the plain spec its resolver takes.

Update inputs tell a field left out (it keeps its value) from a field given
as null (it is cleared): left-out fields stay strawberry.UNSET here and
become Keep.KEEP below.
"""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Any, TypeVar

import strawberry

from resolvers.mutations.bylines import AuthorSpec
from resolvers.mutations.citations import CitationCounts
from resolvers.mutations.imports import ProfileImport
from resolvers.mutations.papers import NewPaper, PaperChanges
from resolvers.mutations.researchers import NewResearcher, ResearcherChanges
from resolvers.mutations.validation import Keep

T = TypeVar("T")


def _kept(value: T | None) -> T | Keep | None:
    return Keep.KEEP if value is strawberry.UNSET else value


def _optional(description: str) -> Any:
    return strawberry.field(default=None, description=description)


def _updatable(description: str, *, clearable: bool = True) -> Any:
    then = "null clears." if clearable else "null is refused with an INVALID user error."
    return strawberry.field(
        default=strawberry.UNSET, description=f"{description} Leave out to keep; {then}"
    )


@strawberry.input(description="One author of a new paper, in byline order.")
class AuthorInput:
    researcher_id: strawberry.ID | None = _optional(
        "An existing researcher. With a name as well, the name is printed on the byline."
    )
    name: str | None = _optional(
        "The name as printed. Without researcherId it matches a researcher by name or alias "
        "(ignoring case, accents and punctuation); when none matches, one is created."
    )

    def to_spec(self) -> AuthorSpec:
        return AuthorSpec(researcher_id=self.researcher_id, name=self.name)


@strawberry.input(description="A new paper.")
class CreatePaperInput:
    title: str = strawberry.field(description="The title; not blank, at most 1000 characters.")
    authors: list[AuthorInput] = strawberry.field(
        description="The byline in order; positions count from 1 in this order."
    )
    abstract: str | None = _optional("The abstract.")
    published_on: date | None = _optional("Publication date; its year becomes the paper's year.")
    primary_category: str | None = _optional("The arXiv category code, e.g. cs.CL; must be known.")
    authors_truncated: bool | None = _optional(
        'True when the byline is cut short ("et al."); default false.'
    )
    institutions: list[str] | None = _optional(
        "Slugs of institutions printed on the paper, e.g. mit. A slug not stored yet creates "
        "the institution, named from the slug's words."
    )
    has_code: bool | None = _optional(
        "The authors released code; default: true when codeUrl is given."
    )
    code_url: str | None = _optional("Where the code is: an http(s) address.")
    arxiv_id: str | None = _optional(
        "The arXiv identifier: 2210.07229 (optionally v2) or cs/0112017."
    )
    doi: str | None = _optional(
        "DOI, e.g. 10.1145/3442188.3445922; a https://doi.org/ prefix is removed, letters are "
        "stored in lower case."
    )
    citation_count: int | None = _optional("Citations received so far; null means unknown.")

    def to_spec(self) -> NewPaper:
        return NewPaper(
            title=self.title,
            authors=tuple(author.to_spec() for author in self.authors),
            abstract=self.abstract,
            published_on=self.published_on,
            primary_category=self.primary_category,
            authors_truncated=self.authors_truncated,
            institutions=None if self.institutions is None else tuple(self.institutions),
            has_code=self.has_code,
            code_url=self.code_url,
            arxiv_id=self.arxiv_id,
            doi=self.doi,
            citation_count=self.citation_count,
        )


@strawberry.input(description="Changes to a paper: only the fields given change.")
class UpdatePaperInput:
    id: strawberry.ID = strawberry.field(description="The paper's global ID.")
    title: str | None = _updatable("The title.", clearable=False)
    abstract: str | None = _updatable("The abstract.")
    published_on: date | None = _updatable("Publication date (and with it the year).")
    primary_category: str | None = _updatable("The arXiv category code, e.g. cs.CL.")
    has_code: bool | None = _updatable("The authors released code.", clearable=False)
    code_url: str | None = _updatable("Where the code is: an http(s) address.")
    arxiv_id: str | None = _updatable("The arXiv identifier.")
    doi: str | None = _updatable("DOI; stored in lower case.")

    def to_spec(self) -> PaperChanges:
        return PaperChanges(
            id=self.id,
            title=_kept(self.title),
            abstract=_kept(self.abstract),
            published_on=_kept(self.published_on),
            primary_category=_kept(self.primary_category),
            has_code=_kept(self.has_code),
            code_url=_kept(self.code_url),
            arxiv_id=_kept(self.arxiv_id),
            doi=_kept(self.doi),
        )


@strawberry.input(description="Citations one paper received in one calendar year.")
class YearCountInput:
    year: int = strawberry.field(description="The calendar year, 1900 to next year.")
    count: int = strawberry.field(description="Citations received that year; not negative.")


@strawberry.input(description="A paper's citation counts, as a source reports them now.")
class CitationCountInput:
    paper_id: strawberry.ID = strawberry.field(description="The paper's global ID.")
    total: int = strawberry.field(description="Citations received in all; not negative.")
    by_year: list[YearCountInput] | None = _optional(
        "Citations per year, each year once, adding up to at most the total; they replace "
        "the stored per-year counts. Leave out to keep those."
    )

    def to_spec(self) -> CitationCounts:
        by_year = None if self.by_year is None else tuple((y.year, y.count) for y in self.by_year)
        return CitationCounts(paper_id=self.paper_id, total=self.total, by_year=by_year)


@strawberry.input(description="A new researcher; the slug is made from the name.")
class CreateResearcherInput:
    name: str = strawberry.field(description="The name; not blank, at most 300 characters.")
    orcid: str | None = _optional("ORCID iD, e.g. 0000-0002-1825-0097; its check digit must hold.")
    openalex_id: str | None = _optional("OpenAlex author id, e.g. A5023888391.")
    semantic_scholar_id: str | None = _optional("Semantic Scholar author id (digits).")
    homepage: str | None = _optional("Personal or lab web page: an http(s) address.")

    def to_spec(self) -> NewResearcher:
        return NewResearcher(
            name=self.name,
            orcid=self.orcid,
            openalex_id=self.openalex_id,
            semantic_scholar_id=self.semantic_scholar_id,
            homepage=self.homepage,
        )


@strawberry.input(description="Changes to a researcher: only the fields given change.")
class UpdateResearcherInput:
    id: strawberry.ID = strawberry.field(description="The researcher's global ID.")
    name: str | None = _updatable("The name; the slug stays as it is.", clearable=False)
    orcid: str | None = _updatable("ORCID iD.")
    openalex_id: str | None = _updatable("OpenAlex author id.")
    semantic_scholar_id: str | None = _updatable("Semantic Scholar author id.")
    homepage: str | None = _updatable("Personal or lab web page.")
    aliases: list[str] | None = _updatable("Other spellings of the name; replace the stored list.")

    def to_spec(self) -> ResearcherChanges:
        aliases = _kept(self.aliases)
        return ResearcherChanges(
            id=self.id,
            name=_kept(self.name),
            orcid=_kept(self.orcid),
            openalex_id=_kept(self.openalex_id),
            semantic_scholar_id=_kept(self.semantic_scholar_id),
            homepage=_kept(self.homepage),
            aliases=tuple(aliases) if isinstance(aliases, list) else aliases,
        )


@strawberry.enum(description="Formats importProfile reads.")
class ImportFormat(Enum):
    PROFILE_TEXT = strawberry.enum_value(
        "PROFILE_TEXT", description="The text of a profile page, as in seeds/."
    )


@strawberry.input(description="A profile to import.")
class ImportProfileInput:
    format: ImportFormat = strawberry.field(description="The format of the text.")
    text: str = strawberry.field(description="The profile's text.")
    undated_year: int | None = _optional(
        "Year for entries whose date has no year (the year the page was captured); default "
        "the current year."
    )
    source: str | None = _optional(
        "Name of the source, kept with the figures the profile reports; importing again under "
        "the same name updates them. Default 'profile text sent to importProfile'."
    )

    def to_spec(self) -> ProfileImport:
        return ProfileImport(text=self.text, undated_year=self.undated_year, source=self.source)
