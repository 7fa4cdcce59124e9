"""Input objects: filters, orders and windows, each turned into the plain spec below it."""

from __future__ import annotations

from datetime import date

import strawberry

from db.queries.papers import PaperFilter as PaperFilterSpec
from resolvers.indicators import Window
from schema.dates import readable_date
from schema.enums import OrderDirection, PaperOrderField, ResearcherOrderField


@strawberry.input(description="Which papers a list keeps; every given condition must hold.")
class PaperFilter:
    categories: list[str] | None = strawberry.field(
        default=None, description="The arXiv codes (e.g. cs.CL); a paper listed in any of them."
    )
    published_from: date | None = strawberry.field(
        default=None, description="Published on or after this date (a year-only paper by year)."
    )
    published_to: date | None = strawberry.field(
        default=None, description="Published on or before this date (a year-only paper by year)."
    )
    has_code: bool | None = strawberry.field(
        default=None, description="Only papers with (true) or without (false) released code."
    )
    min_citations: int | None = strawberry.field(
        default=None, description="At least this many citations; unknown counts are left out."
    )
    institution: str | None = strawberry.field(
        default=None, description="Slug of an institution printed on the paper."
    )

    def to_spec(self) -> PaperFilterSpec:
        return PaperFilterSpec(
            categories=tuple(self.categories) if self.categories is not None else None,
            published_from=readable_date(self.published_from, "publishedFrom"),
            published_to=readable_date(self.published_to, "publishedTo"),
            has_code=self.has_code,
            min_citations=self.min_citations,
            institution=self.institution,
        )


def filter_spec(given: PaperFilter | None) -> PaperFilterSpec:
    return given.to_spec() if given is not None else PaperFilterSpec()


@strawberry.input(description="How papers are sorted; ties are broken by a stable internal order.")
class PaperOrder:
    field: PaperOrderField = strawberry.field(description="What to sort by.")
    direction: OrderDirection = strawberry.field(description="Which way.")


def paper_order(given: PaperOrder | None) -> tuple[str, bool] | None:
    if given is None:
        return None
    return given.field.name, given.direction is OrderDirection.DESC


@strawberry.input(description="How researchers are sorted; ties are broken by a stable order.")
class ResearcherOrder:
    field: ResearcherOrderField = strawberry.field(description="What to sort by.")
    direction: OrderDirection = strawberry.field(description="Which way.")


def researcher_order(given: ResearcherOrder | None) -> tuple[str, bool] | None:
    if given is None:
        return None
    return given.field.name, given.direction is OrderDirection.DESC


@strawberry.input(description="Which papers and citations the metrics count.")
class MetricsWindow:
    published_from: int | None = strawberry.field(
        default=None, description="Only papers published in or after this year."
    )
    published_to: int | None = strawberry.field(
        default=None, description="Only papers published in or before this year."
    )
    cited_from: int | None = strawberry.field(
        default=None,
        description='Count only citations received in or after this year (as in a "since YEAR" '
        "column); needs per-year counts.",
    )
    categories: list[str] | None = strawberry.field(
        default=None, description="Only papers whose primary category is one of these codes."
    )

    def to_window(self) -> Window:
        return Window(
            published_from=self.published_from,
            published_to=self.published_to,
            cited_from=self.cited_from,
            categories=tuple(self.categories) if self.categories is not None else None,
        )
