"""researcher_indicators: leaderboard figures kept per researcher, filled from existing data

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 06:51:19.335463
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.writes.indicators import indicators_insert

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "researcher_indicators",
        sa.Column("researcher_id", sa.Integer(), nullable=False),
        sa.Column("paper_count", sa.Integer(), nullable=False),
        sa.Column("citation_count", sa.Integer(), nullable=False),
        sa.Column("h_index", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["researcher_id"],
            ["researcher.id"],
            name=op.f("fk_researcher_indicators_researcher_id_researcher"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("researcher_id", name=op.f("pk_researcher_indicators")),
    )
    with op.batch_alter_table("researcher_indicators", schema=None) as batch_op:
        batch_op.create_index(
            "ix_researcher_indicators_citation_count",
            ["citation_count", "researcher_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_researcher_indicators_h_index", ["h_index", "researcher_id"], unique=False
        )
        batch_op.create_index(
            "ix_researcher_indicators_paper_count", ["paper_count", "researcher_id"], unique=False
        )

    op.execute(indicators_insert())


def downgrade() -> None:
    with op.batch_alter_table("researcher_indicators", schema=None) as batch_op:
        batch_op.drop_index("ix_researcher_indicators_paper_count")
        batch_op.drop_index("ix_researcher_indicators_h_index")
        batch_op.drop_index("ix_researcher_indicators_citation_count")

    op.drop_table("researcher_indicators")
