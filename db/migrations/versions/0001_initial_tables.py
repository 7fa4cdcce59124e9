"""initial tables, with the arXiv taxonomy seeded

Revision ID: 0001
Revises:
Create Date: 2026-11-25 06:21:41.658411
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.taxonomy import CATEGORIES

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("secret_hash", sa.String(length=128), nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("name", name=op.f("uq_api_token_name")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_api_token_secret_hash")),
    )
    category = op.create_table(
        "category",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_category")),
    )
    op.create_table(
        "institution",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institution")),
        sa.UniqueConstraint("slug", name=op.f("uq_institution_slug")),
    )
    op.create_table(
        "researcher",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("name_key", sa.String(length=300), nullable=False),
        sa.Column("orcid", sa.String(length=19), nullable=True),
        sa.Column("openalex_id", sa.String(length=32), nullable=True),
        sa.Column("semantic_scholar_id", sa.String(length=32), nullable=True),
        sa.Column("homepage", sa.String(length=2000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_researcher")),
        sa.UniqueConstraint("openalex_id", name=op.f("uq_researcher_openalex_id")),
        sa.UniqueConstraint("orcid", name=op.f("uq_researcher_orcid")),
        sa.UniqueConstraint("semantic_scholar_id", name=op.f("uq_researcher_semantic_scholar_id")),
        sa.UniqueConstraint("slug", name=op.f("uq_researcher_slug")),
    )
    with op.batch_alter_table("researcher", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_researcher_name_key"), ["name_key"], unique=False)

    op.create_table(
        "paper",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=1000), nullable=False),
        sa.Column("title_key", sa.String(length=1000), nullable=False),
        sa.Column("abstract", sa.String(), nullable=True),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("primary_category", sa.String(length=32), nullable=True),
        sa.Column("has_code", sa.Boolean(), nullable=False),
        sa.Column("code_url", sa.String(length=2000), nullable=True),
        sa.Column("arxiv_id", sa.String(length=32), nullable=True),
        sa.Column("doi", sa.String(length=255), nullable=True),
        sa.Column("openalex_id", sa.String(length=32), nullable=True),
        sa.Column("semantic_scholar_id", sa.String(length=64), nullable=True),
        sa.Column("citation_count", sa.Integer(), nullable=True),
        sa.Column("source_score", sa.Float(), nullable=True),
        sa.Column("authors_truncated", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["primary_category"], ["category.code"], name=op.f("fk_paper_primary_category_category")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper")),
        sa.UniqueConstraint("arxiv_id", name=op.f("uq_paper_arxiv_id")),
        sa.UniqueConstraint("doi", name=op.f("uq_paper_doi")),
        sa.UniqueConstraint("openalex_id", name=op.f("uq_paper_openalex_id")),
        sa.UniqueConstraint("semantic_scholar_id", name=op.f("uq_paper_semantic_scholar_id")),
    )
    with op.batch_alter_table("paper", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_paper_citation_count"), ["citation_count"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_paper_primary_category"), ["primary_category"], unique=False
        )
        batch_op.create_index("ix_paper_published_on_id", ["published_on", "id"], unique=False)
        batch_op.create_index("ix_paper_title_key_year", ["title_key", "year"], unique=False)
        batch_op.create_index("ix_paper_year_id", ["year", "id"], unique=False)

    op.create_table(
        "reported_metrics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("researcher_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("captured_on", sa.Date(), nullable=True),
        sa.Column("captured_year", sa.Integer(), nullable=True),
        sa.Column("h_index", sa.Integer(), nullable=True),
        sa.Column("citation_count", sa.Integer(), nullable=True),
        sa.Column("paper_count", sa.Integer(), nullable=True),
        sa.Column("novelty", sa.Float(), nullable=True),
        sa.Column("ai_score", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["researcher_id"],
            ["researcher.id"],
            name=op.f("fk_reported_metrics_researcher_id_researcher"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reported_metrics")),
        sa.UniqueConstraint(
            "researcher_id", "source", name=op.f("uq_reported_metrics_researcher_id")
        ),
    )
    op.create_table(
        "researcher_alias",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("researcher_id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(length=300), nullable=False),
        sa.Column("alias_key", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["researcher_id"],
            ["researcher.id"],
            name=op.f("fk_researcher_alias_researcher_id_researcher"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_researcher_alias")),
        sa.UniqueConstraint(
            "researcher_id", "alias_key", name=op.f("uq_researcher_alias_researcher_id")
        ),
    )
    with op.batch_alter_table("researcher_alias", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_researcher_alias_alias_key"), ["alias_key"], unique=False
        )

    op.create_table(
        "researcher_institution",
        sa.Column("researcher_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_researcher_institution_institution_id_institution"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["researcher_id"],
            ["researcher.id"],
            name=op.f("fk_researcher_institution_researcher_id_researcher"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "researcher_id", "institution_id", name=op.f("pk_researcher_institution")
        ),
    )
    op.create_table(
        "authorship",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("researcher_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("display_name", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["paper.id"],
            name=op.f("fk_authorship_paper_id_paper"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["researcher_id"],
            ["researcher.id"],
            name=op.f("fk_authorship_researcher_id_researcher"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorship")),
        sa.UniqueConstraint("paper_id", "researcher_id", name=op.f("uq_authorship_paper_id")),
    )
    with op.batch_alter_table("authorship", schema=None) as batch_op:
        batch_op.create_index(
            "ix_authorship_paper_id_position", ["paper_id", "position"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_authorship_researcher_id"), ["researcher_id"], unique=False
        )

    op.create_table(
        "citation_year",
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["paper.id"],
            name=op.f("fk_citation_year_paper_id_paper"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("paper_id", "year", name=op.f("pk_citation_year")),
    )
    op.create_table(
        "paper_category",
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("category_code", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_code"],
            ["category.code"],
            name=op.f("fk_paper_category_category_code_category"),
        ),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["paper.id"],
            name=op.f("fk_paper_category_paper_id_paper"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("paper_id", "category_code", name=op.f("pk_paper_category")),
    )
    op.create_table(
        "paper_institution",
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_paper_institution_institution_id_institution"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["paper.id"],
            name=op.f("fk_paper_institution_paper_id_paper"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("paper_id", "institution_id", name=op.f("pk_paper_institution")),
    )
    op.create_table(
        "paper_link",
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["paper.id"],
            name=op.f("fk_paper_link_paper_id_paper"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("paper_id", "position", name=op.f("pk_paper_link")),
    )
    op.create_table(
        "authorship_institution",
        sa.Column("authorship_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["authorship_id"],
            ["authorship.id"],
            name=op.f("fk_authorship_institution_authorship_id_authorship"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_authorship_institution_institution_id_institution"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "authorship_id", "institution_id", name=op.f("pk_authorship_institution")
        ),
    )
    op.bulk_insert(category, [{"code": code, "name": name} for code, name in CATEGORIES])


def downgrade() -> None:
    op.drop_table("authorship_institution")
    op.drop_table("paper_link")
    op.drop_table("paper_institution")
    op.drop_table("paper_category")
    op.drop_table("citation_year")
    with op.batch_alter_table("authorship", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_authorship_researcher_id"))
        batch_op.drop_index("ix_authorship_paper_id_position")

    op.drop_table("authorship")
    op.drop_table("researcher_institution")
    with op.batch_alter_table("researcher_alias", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_researcher_alias_alias_key"))

    op.drop_table("researcher_alias")
    op.drop_table("reported_metrics")
    with op.batch_alter_table("paper", schema=None) as batch_op:
        batch_op.drop_index("ix_paper_year_id")
        batch_op.drop_index("ix_paper_title_key_year")
        batch_op.drop_index("ix_paper_published_on_id")
        batch_op.drop_index(batch_op.f("ix_paper_primary_category"))
        batch_op.drop_index(batch_op.f("ix_paper_citation_count"))

    op.drop_table("paper")
    with op.batch_alter_table("researcher", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_researcher_name_key"))

    op.drop_table("researcher")
    op.drop_table("institution")
    op.drop_table("category")
    op.drop_table("api_token")
