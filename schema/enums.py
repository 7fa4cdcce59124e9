"""Closed sets of values."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="Which way a list is sorted.")
class OrderDirection(Enum):
    ASC = strawberry.enum_value("ASC", description="Smallest, earliest or A first.")
    DESC = strawberry.enum_value("DESC", description="Largest, latest or Z first.")


@strawberry.enum(description="What papers can be sorted by.")
class PaperOrderField(Enum):
    PUBLISHED_ON = strawberry.enum_value(
        "PUBLISHED_ON", description="Publication date; papers without one come last in DESC."
    )
    CITATION_COUNT = strawberry.enum_value(
        "CITATION_COUNT", description="Citations; unknown counts sort below 0."
    )
    TITLE = strawberry.enum_value("TITLE", description="Title, ignoring case and accents.")


@strawberry.enum(
    description="What researchers can be sorted by; indicators are computed in SQL. "
    "Researchers with equal figures (the same h-index, say) come in the order they were "
    "added, earliest first, in either direction: a stable order, page after page."
)
class ResearcherOrderField(Enum):
    NAME = strawberry.enum_value("NAME", description="Name, ignoring case and accents.")
    PAPER_COUNT = strawberry.enum_value("PAPER_COUNT", description="Papers stored.")
    CITATION_COUNT = strawberry.enum_value(
        "CITATION_COUNT", description="Sum of the known citation counts of their papers."
    )
    H_INDEX = strawberry.enum_value("H_INDEX", description="Hirsch index over stored papers.")
