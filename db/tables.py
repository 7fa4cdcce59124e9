"""The tables as SQLAlchemy Core objects, for reads that want rows, not ORM instances.

Reads build no model instances: Core rows cost a fraction of the time, and
the API wraps them into GraphQL types once.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from sqlalchemy import Row, Table
from sqlmodel import SQLModel

from db import models  # noqa: F401  (registers the tables on SQLModel.metadata)

# A row of any shape; SQLAlchemy 2.1 types rows by their column types.
AnyRow: TypeAlias = Row[*tuple[Any, ...]]


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


api_token = _table("api_token")
authorship = _table("authorship")
authorship_institution = _table("authorship_institution")
category = _table("category")
citation_year = _table("citation_year")
institution = _table("institution")
paper = _table("paper")
paper_category = _table("paper_category")
paper_institution = _table("paper_institution")
paper_link = _table("paper_link")
reported_metrics = _table("reported_metrics")
researcher = _table("researcher")
researcher_alias = _table("researcher_alias")
researcher_indicators = _table("researcher_indicators")
researcher_institution = _table("researcher_institution")
snapshot_part = _table("snapshot_part")
unlinked_author = _table("unlinked_author")
