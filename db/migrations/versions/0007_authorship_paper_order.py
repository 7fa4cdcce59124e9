"""A researcher's papers newest first, read from an index: the paper's order kept on its bylines

A profile page shows a researcher's newest papers. Their order is the
paper's (year, publication date, id), so every request joined all of a
researcher's papers and sorted them to keep 50: 10-40 ms for a researcher
of 2,000 papers, however few rows the page shows. Each authorship now keeps
a copy of its paper's sort keys, as that list sorts them (an unknown year as
0, an unknown date as the earliest), and an index on (researcher_id, those
keys, paper_id) yields the page in order, in either direction, so a page
reads its 51 rows and stops.

Triggers keep the copies exact on both databases, whatever writes: an
authorship inserted without them (or moved to another paper) takes its
paper's; a paper whose year or date changes passes them to its bylines. A
writer that knows the keys (a bulk import) may set them itself, and then no
trigger runs for the row.

Caution for later migrations on SQLite: batch mode rebuilds a table by
copying it and dropping the original, which drops its triggers; a migration
that batch-alters `authorship` or `paper` must create the triggers below again.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 06:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_authorship_researcher_paper_order"

# The keys as paper_ordering (db/queries/papers.py) sorts them: an unknown date as EARLIEST,
# date(1, 1, 1), as each driver binds it: '0001-01-01' on SQLite, and on PostgreSQL
# '-infinity' (asyncpg sends Python's date.min as -infinity, and reads it back as date.min).
YEAR_OF = "coalesce((SELECT year FROM paper WHERE paper.id = {row}.paper_id), 0)"
DATE_OF = {
    "postgresql": "coalesce((SELECT published_on FROM paper WHERE paper.id = {row}.paper_id),"
    " DATE '-infinity')",
    "sqlite": "coalesce((SELECT published_on FROM paper WHERE paper.id = {row}.paper_id),"
    " '0001-01-01')",
}

POSTGRESQL_UPGRADE = (
    """
    CREATE FUNCTION authorship_paper_order() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      SELECT coalesce(p.year, 0), coalesce(p.published_on, DATE '-infinity')
        INTO NEW.paper_sort_year, NEW.paper_sort_date
        FROM paper AS p WHERE p.id = NEW.paper_id;
      RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER authorship_paper_order_insert BEFORE INSERT ON authorship
    FOR EACH ROW WHEN (NEW.paper_sort_year IS NULL OR NEW.paper_sort_date IS NULL)
    EXECUTE FUNCTION authorship_paper_order()
    """,
    """
    CREATE TRIGGER authorship_paper_order_move BEFORE UPDATE OF paper_id ON authorship
    FOR EACH ROW WHEN (OLD.paper_id IS DISTINCT FROM NEW.paper_id)
    EXECUTE FUNCTION authorship_paper_order()
    """,
    """
    CREATE FUNCTION paper_order_to_authorships() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE authorship
        SET paper_sort_year = coalesce(NEW.year, 0),
            paper_sort_date = coalesce(NEW.published_on, DATE '-infinity')
        WHERE paper_id = NEW.id;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER paper_order_to_authorships AFTER UPDATE OF year, published_on ON paper
    FOR EACH ROW WHEN (
      OLD.year IS DISTINCT FROM NEW.year OR OLD.published_on IS DISTINCT FROM NEW.published_on
    )
    EXECUTE FUNCTION paper_order_to_authorships()
    """,
)
POSTGRESQL_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS paper_order_to_authorships ON paper",
    "DROP FUNCTION IF EXISTS paper_order_to_authorships()",
    "DROP TRIGGER IF EXISTS authorship_paper_order_move ON authorship",
    "DROP TRIGGER IF EXISTS authorship_paper_order_insert ON authorship",
    "DROP FUNCTION IF EXISTS authorship_paper_order()",
)

_SQLITE_FILL = (
    "UPDATE authorship SET paper_sort_year = {year}, paper_sort_date = {date}"
    " WHERE id = NEW.id;".format(
        year=YEAR_OF.format(row="NEW"), date=DATE_OF["sqlite"].format(row="NEW")
    )
)
SQLITE_UPGRADE = (
    "CREATE TRIGGER authorship_paper_order_insert AFTER INSERT ON authorship"
    " WHEN NEW.paper_sort_year IS NULL OR NEW.paper_sort_date IS NULL"
    f" BEGIN {_SQLITE_FILL} END",
    "CREATE TRIGGER authorship_paper_order_move AFTER UPDATE OF paper_id ON authorship"
    f" WHEN OLD.paper_id IS NOT NEW.paper_id BEGIN {_SQLITE_FILL} END",
    "CREATE TRIGGER paper_order_to_authorships AFTER UPDATE OF year, published_on ON paper"
    " WHEN OLD.year IS NOT NEW.year OR OLD.published_on IS NOT NEW.published_on"
    " BEGIN UPDATE authorship SET paper_sort_year = coalesce(NEW.year, 0),"
    " paper_sort_date = coalesce(NEW.published_on, '0001-01-01') WHERE paper_id = NEW.id; END",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS paper_order_to_authorships",
    "DROP TRIGGER IF EXISTS authorship_paper_order_move",
    "DROP TRIGGER IF EXISTS authorship_paper_order_insert",
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column("authorship", sa.Column("paper_sort_year", sa.Integer(), nullable=True))
    op.add_column("authorship", sa.Column("paper_sort_date", sa.Date(), nullable=True))
    op.execute(
        "UPDATE authorship SET paper_sort_year = {year}, paper_sort_date = {date}".format(
            year=YEAR_OF.format(row="authorship"), date=DATE_OF[dialect].format(row="authorship")
        )
    )
    op.create_index(
        INDEX, "authorship", ["researcher_id", "paper_sort_year", "paper_sort_date", "paper_id"]
    )
    for statement in POSTGRESQL_UPGRADE if dialect == "postgresql" else SQLITE_UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL_DOWNGRADE if dialect == "postgresql" else SQLITE_DOWNGRADE:
        op.execute(statement)
    op.drop_index(INDEX, "authorship")
    with op.batch_alter_table("authorship") as batch_op:
        batch_op.drop_column("paper_sort_date")
        batch_op.drop_column("paper_sort_year")
