"""Categories and the small count types that pair a year or a category with a number."""

from __future__ import annotations

import strawberry

from db.tables import AnyRow
from resolvers.context import Context


@strawberry.type(description="An arXiv category.")
class Category:
    code: str = strawberry.field(description="The arXiv code, e.g. cs.CL.")
    # The name when the row is at hand; otherwise it is read (by code) only if asked for.
    known_name: strawberry.Private[str | None] = None

    @strawberry.field(description="The category's name, e.g. Computation and Language.")
    async def name(self, info: strawberry.Info[Context]) -> str:
        if self.known_name is not None:
            return self.known_name
        row = await info.context.loaders.categories_by_code.load(self.code)
        # A code without a row can only be one we were given before the taxonomy knew it.
        return self.code if row is None else str(row.name)

    @strawberry.field(description="Papers stored in this category, cross-listings included.")
    async def paper_count(self, info: strawberry.Info[Context]) -> int:
        return await info.context.loaders.paper_count_by_category_code.load(self.code)

    @classmethod
    def from_row(cls, row: AnyRow) -> Category:
        return cls(code=row.code, known_name=row.name)


@strawberry.type(description="A number for one calendar year.")
class YearCount:
    year: int = strawberry.field(description="The calendar year.")
    count: int = strawberry.field(
        description="Papers or citations in that year, as the field says."
    )


def year_counts(pairs: list[tuple[int, int]] | tuple[tuple[int, int], ...]) -> list[YearCount]:
    return [YearCount(year=year, count=count) for year, count in pairs]


@strawberry.type(description="Papers in one category.")
class CategoryCount:
    code: strawberry.Private[str]
    count: int = strawberry.field(description="Papers whose primary category this is.")

    @strawberry.field(description="The category.")
    def category(self) -> Category:
        return Category(code=self.code)


def category_counts(
    pairs: list[tuple[str, int]] | tuple[tuple[str, int], ...],
) -> list[CategoryCount]:
    return [CategoryCount(code=code, count=count) for code, count in pairs]
