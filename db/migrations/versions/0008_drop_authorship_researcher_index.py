"""authorship: the index on researcher_id alone dropped, as 0007's index leads with it

Migration 0007's ix_authorship_researcher_paper_order is (researcher_id,
paper_sort_year, paper_sort_date, paper_id): every lookup by researcher (a
researcher's papers, coauthors, merges, the cascade of a deleted researcher)
can use it. The index on researcher_id alone only cost every byline written
its upkeep: about 0.85 us a row on PostgreSQL, 3 us a work in an import.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 02:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_authorship_researcher_id"


def upgrade() -> None:
    op.drop_index(INDEX, "authorship")


def downgrade() -> None:
    op.create_index(INDEX, "authorship", ["researcher_id"])
