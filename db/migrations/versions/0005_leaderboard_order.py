"""Leaderboards: an indicators row for every researcher, an index for each ranking

Leaderboards join researcher_indicators and rank by its figures, ties broken
by id, earliest first. A researcher without a row (none who has a paper;
possibly one added with none) would fall out of the join, so every one
gets a row here, and creating a researcher writes its row from now on.
Descending figures with ascending ids is an index of its own per figure:
(figure, -researcher_id), which PostgreSQL and SQLite both read backwards.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 00:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.writes.indicators import missing_indicators_insert

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIGURES = ("h_index", "citation_count", "paper_count")


def upgrade() -> None:
    op.execute(missing_indicators_insert())
    for figure in FIGURES:
        op.create_index(
            f"ix_researcher_indicators_{figure}_desc",
            "researcher_indicators",
            [figure, sa.text("(-researcher_id)")],
        )


def downgrade() -> None:
    for figure in FIGURES:
        op.drop_index(f"ix_researcher_indicators_{figure}_desc", "researcher_indicators")
