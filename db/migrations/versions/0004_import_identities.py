"""institutions' OpenAlex id, ROR id and name key; every reported figure; unlinked authors

Imports match institutions on their OpenAlex id, then ROR, then the name's
key, so the seed's `mit` and OpenAlex's "Massachusetts Institute of
Technology" are one row; existing rows get their key here. Reported metrics
gain OpenAlex's i10-index and two-year mean citedness. Names a source prints
on a byline without an author id are kept in unlinked_author, apart from
researchers.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 23:55:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.names import name_key

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("institution", schema=None) as batch_op:
        batch_op.add_column(sa.Column("openalex_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("ror", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("name_key", sa.String(length=300), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_institution_openalex_id"), ["openalex_id"])
        batch_op.create_unique_constraint(batch_op.f("uq_institution_ror"), ["ror"])
        batch_op.create_index(batch_op.f("ix_institution_name_key"), ["name_key"], unique=False)
    institution = sa.table(
        "institution", sa.column("id", sa.Integer), sa.column("name"), sa.column("name_key")
    )
    connection = op.get_bind()
    for row in connection.execute(sa.select(institution.c.id, institution.c.name)).all():
        connection.execute(
            institution.update()
            .where(institution.c.id == row.id)
            .values(name_key=name_key(row.name))
        )
    with op.batch_alter_table("reported_metrics", schema=None) as batch_op:
        batch_op.add_column(sa.Column("i10_index", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("two_year_mean_citedness", sa.Float(), nullable=True))
    op.create_table(
        "unlinked_author",
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["paper.id"],
            name=op.f("fk_unlinked_author_paper_id_paper"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("paper_id", "position", name=op.f("pk_unlinked_author")),
    )


def downgrade() -> None:
    op.drop_table("unlinked_author")
    with op.batch_alter_table("reported_metrics", schema=None) as batch_op:
        batch_op.drop_column("two_year_mean_citedness")
        batch_op.drop_column("i10_index")
    with op.batch_alter_table("institution", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_institution_name_key"))
        batch_op.drop_constraint(batch_op.f("uq_institution_ror"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_institution_openalex_id"), type_="unique")
        batch_op.drop_column("name_key")
        batch_op.drop_column("ror")
        batch_op.drop_column("openalex_id")
