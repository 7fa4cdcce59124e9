"""PostgreSQL: the schema's own triggers fire in sessions that replicate too (ENABLE ALWAYS)

An import's transactions skip PostgreSQL's row-by-row foreign-key checks by
setting session_replication_role to replica (db.writes.references), which
silences every trigger left at the default, ENABLE ORIGIN. The triggers of
migration 0007 keep each byline's copy of its paper's order keys exact, and
must fire for whoever writes: an import that gives a stored paper its date
moves it in its authors' lists. (SQLite has no such role: nothing to do.)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 16:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGERS = (
    ("authorship", "authorship_paper_order_insert"),
    ("authorship", "authorship_paper_order_move"),
    ("paper", "paper_order_to_authorships"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, trigger in TRIGGERS:
            op.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {trigger}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, trigger in TRIGGERS:
            op.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
