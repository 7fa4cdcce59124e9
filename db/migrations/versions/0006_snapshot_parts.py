"""snapshot_part: the files of a published snapshot already imported

`scholargraph import openalex DIR` records each part (and merged-ids file)
once it is written to its end, so a rerun after a crash skips what is done.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 02:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "snapshot_part",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("content_length", sa.BigInteger(), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snapshot_part")),
        sa.UniqueConstraint("source", "path", name=op.f("uq_snapshot_part_source")),
    )


def downgrade() -> None:
    op.drop_table("snapshot_part")
