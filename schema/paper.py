"""Papers and their bylines."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from db.tables import AnyRow
from resolvers.context import Context
from schema.category import Category, YearCount, year_counts
from schema.node import Node

if TYPE_CHECKING:
    from schema.institution import Institution
    from schema.researcher import Researcher


@strawberry.type(description="A researcher's place on a paper's byline.")
class Authorship:
    position: int | None = strawberry.field(
        description="1-based place in the byline; null when the author is known but the place "
        "is not."
    )
    display_name: str = strawberry.field(description="The name as the source printed it.")
    researcher: Annotated[Researcher, strawberry.lazy("schema.researcher")] = strawberry.field(
        description="The researcher behind the name."
    )


@strawberry.type(description="A paper: what it is, who wrote it, and how often it is cited.")
class Paper(Node):
    db_id: strawberry.Private[int]
    category_code: strawberry.Private[str | None]
    title: str = strawberry.field(description="The title as published.")
    abstract: str | None = strawberry.field(
        description="The abstract; null when no source gave one."
    )
    published_on: date | None = strawberry.field(
        description="Publication date; null when only the year (or nothing) is known."
    )
    year: int | None = strawberry.field(description="Publication year; null when unknown.")
    authors_truncated: bool = strawberry.field(
        description='True when the source cut the byline short ("et al.").'
    )
    has_code: bool = strawberry.field(description="The authors released code.")
    code_url: str | None = strawberry.field(description="Where the code is, when known.")
    arxiv_id: str | None = strawberry.field(
        description="The arXiv identifier, e.g. 2210.07229 or cs/0112017."
    )
    doi: str | None = strawberry.field(description="Digital Object Identifier, lower case.")
    openalex_id: str | None = strawberry.field(description="OpenAlex work id, e.g. W4306178032.")
    semantic_scholar_id: str | None = strawberry.field(description="Semantic Scholar paper id.")
    citation_count: int | None = strawberry.field(
        description="Citations received, as last reported; null when no source has given a count."
    )
    source_score: float | None = strawberry.field(
        description="A score the source attached to the paper, if any."
    )

    @strawberry.field(description="The arXiv category the paper is filed under first.")
    def primary_category(self) -> Category | None:
        # The code is on the paper's row, which a foreign key ties to the taxonomy.
        return None if self.category_code is None else Category(code=self.category_code)

    @strawberry.field(description="Every category of the paper, the primary one included.")
    async def categories(self, info: strawberry.Info[Context]) -> list[Category]:
        codes = await info.context.loaders.category_codes_by_paper_id.load(self.db_id)
        return [Category(code=code) for code in codes]

    @strawberry.field(
        description="The byline in order, as far as it is known; authors whose "
        "place is unknown come last."
    )
    async def authors(self, info: strawberry.Info[Context]) -> list[Authorship]:
        from schema.researcher import Researcher

        rows = await info.context.loaders.authorships_by_paper_id.load(self.db_id)
        return [
            Authorship(
                position=row.position,
                display_name=row.display_name,
                researcher=Researcher.from_row(row),
            )
            for row in rows
        ]

    @strawberry.field(description="Institutions printed on the paper.")
    async def institutions(
        self, info: strawberry.Info[Context]
    ) -> list[Annotated[Institution, strawberry.lazy("schema.institution")]]:
        from schema.institution import Institution

        rows = await info.context.loaders.institutions_by_paper_id.load(self.db_id)
        return [Institution.from_row(row) for row in rows]

    @strawberry.field(description="Web addresses named by the source (project pages, code).")
    async def links(self, info: strawberry.Info[Context]) -> list[str]:
        return await info.context.loaders.links_by_paper_id.load(self.db_id)

    @strawberry.field(description="Citations received per calendar year, where a source gave them.")
    async def citations_by_year(self, info: strawberry.Info[Context]) -> list[YearCount]:
        return year_counts(await info.context.loaders.citation_years_by_paper_id.load(self.db_id))

    updated_at: datetime = strawberry.field(
        description="When this paper's own record last changed (UTC); for caches to compare."
    )

    @classmethod
    def from_row(cls, row: AnyRow) -> Paper:
        return cls(
            db_id=row.id,
            updated_at=row.updated_at,
            category_code=row.primary_category,
            title=row.title,
            abstract=row.abstract,
            published_on=row.published_on,
            year=row.year,
            authors_truncated=row.authors_truncated,
            has_code=row.has_code,
            code_url=row.code_url,
            arxiv_id=row.arxiv_id,
            doi=row.doi,
            openalex_id=row.openalex_id,
            semantic_scholar_id=row.semantic_scholar_id,
            citation_count=row.citation_count,
            source_score=row.source_score,
        )
