"""full-text search over paper titles and abstracts

SQLite: an external-content FTS5 table, paper_search, kept in step with
`paper` by triggers (the pattern of the FTS5 documentation, section 4.4.3)
and rebuilt from the rows already there.

PostgreSQL: a stored generated tsvector column, paper.search_vector (title
weighted A, abstract B), with a GIN index. The column is deliberately not in
db/models.py: the ORM must never write it, and doesn't, since it doesn't
know it.

Caution for later migrations on SQLite: batch mode rebuilds a table by
copying it and dropping the original, which drops its triggers; a migration
that batch-alters `paper` must create the triggers below again.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_VECTOR = (
    "setweight(to_tsvector('english', coalesce(title, '')), 'A')"
    " || setweight(to_tsvector('english', coalesce(abstract, '')), 'B')"
)

_FTS5_INSERT = (
    "INSERT INTO paper_search(rowid, title, abstract) VALUES (new.id, new.title, new.abstract);"
)
_FTS5_DELETE = (
    "INSERT INTO paper_search(paper_search, rowid, title, abstract)"
    " VALUES ('delete', old.id, old.title, old.abstract);"
)

SQLITE_UPGRADE = (
    "CREATE VIRTUAL TABLE paper_search USING fts5("
    "title, abstract, content='paper', content_rowid='id',"
    " tokenize='porter unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER paper_search_insert AFTER INSERT ON paper BEGIN {_FTS5_INSERT} END",
    f"CREATE TRIGGER paper_search_delete AFTER DELETE ON paper BEGIN {_FTS5_DELETE} END",
    # id too: a changed id moves the row in the index like a changed text does.
    "CREATE TRIGGER paper_search_update AFTER UPDATE OF id, title, abstract ON paper"
    f" BEGIN {_FTS5_DELETE} {_FTS5_INSERT} END",
    "INSERT INTO paper_search(paper_search) VALUES ('rebuild')",
)

SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS paper_search_update",
    "DROP TRIGGER IF EXISTS paper_search_delete",
    "DROP TRIGGER IF EXISTS paper_search_insert",
    "DROP TABLE IF EXISTS paper_search",
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_UPGRADE:
            op.execute(statement)
    elif dialect == "postgresql":
        op.add_column(
            "paper",
            sa.Column(
                "search_vector",
                postgresql.TSVECTOR(),
                sa.Computed(SEARCH_VECTOR, persisted=True),
            ),
        )
        op.create_index(
            "ix_paper_search_vector", "paper", ["search_vector"], postgresql_using="gin"
        )
    else:
        raise NotImplementedError(f"no full-text search for {dialect}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_DOWNGRADE:
            op.execute(statement)
    elif dialect == "postgresql":
        op.drop_index("ix_paper_search_vector", table_name="paper", postgresql_using="gin")
        op.drop_column("paper", "search_vector")
    else:
        raise NotImplementedError(f"no full-text search for {dialect}")
