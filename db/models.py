"""The tables, as SQLModel classes.

Integer surrogate keys everywhere: the API hands out opaque global IDs built
from them, and the natural keys (slugs, arXiv ids, DOIs) stay editable.
Foreign keys cascade on delete where the child means nothing without its
parent (an authorship without its paper), so a delete is one statement.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from db.names import name_key

# Named constraints, so later migrations can drop or alter them on SQLite too.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

TITLE_MAX_LENGTH = 1000
NAME_MAX_LENGTH = 300


def utc_now() -> datetime:
    return datetime.now(UTC)


def _cascade(target: str, *, nullable: bool = False, index: bool = False) -> Column[int]:
    """A foreign key column that goes with its parent row."""
    return Column(
        Integer,
        ForeignKey(target, ondelete="CASCADE"),
        nullable=nullable,
        index=index,
    )


def _name_key_of_name(context: DefaultExecutionContext) -> str:
    # Every insert gets a key without knowing of it (the seed loader, mutations).
    return name_key(str(context.get_current_parameters()["name"]))  # type: ignore[no-untyped-call]


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC when read, on every database.

    SQLite keeps no offset and hands back naive values; PostgreSQL's
    timestamptz is converted here too, so callers never see naive times.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is not None and value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None or value.tzinfo is UTC:  # PostgreSQL's are UTC already: no copy
            return value
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _timestamp(*, nullable: bool = False) -> Column[datetime]:
    # The Core default serves bulk inserts that build no model instances.
    return Column(UtcDateTime(), nullable=nullable, default=None if nullable else utc_now)


class Category(SQLModel, table=True):
    """An arXiv category; the whole taxonomy is seeded by the first migration."""

    code: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=200)


class Institution(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, max_length=120)
    name: str = Field(max_length=NAME_MAX_LENGTH)
    # Importers match an institution on its OpenAlex id, then its ROR id, then name_key
    # (db.names.name_key of the name); rows written without a key match on their slug.
    openalex_id: str | None = Field(default=None, unique=True, max_length=32)
    ror: str | None = Field(default=None, unique=True, max_length=32)
    name_key: str | None = Field(
        default=None,
        sa_column=Column(String(NAME_MAX_LENGTH), index=True, default=_name_key_of_name),
    )


class Researcher(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, max_length=120)
    name: str = Field(max_length=NAME_MAX_LENGTH)
    name_key: str = Field(index=True, max_length=NAME_MAX_LENGTH)
    orcid: str | None = Field(default=None, unique=True, max_length=19)
    openalex_id: str | None = Field(default=None, unique=True, max_length=32)
    semantic_scholar_id: str | None = Field(default=None, unique=True, max_length=32)
    homepage: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp())
    updated_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp())


class ResearcherAlias(SQLModel, table=True):
    """Another spelling of a researcher's name, matched by its key like the name itself."""

    __tablename__ = "researcher_alias"
    __table_args__ = (UniqueConstraint("researcher_id", "alias_key"),)

    id: int | None = Field(default=None, primary_key=True)
    researcher_id: int = Field(sa_column=_cascade("researcher.id"))
    alias: str = Field(max_length=NAME_MAX_LENGTH)
    alias_key: str = Field(index=True, max_length=NAME_MAX_LENGTH)


class ResearcherInstitution(SQLModel, table=True):
    """An affiliation a source states on the researcher's own record."""

    __tablename__ = "researcher_institution"

    researcher_id: int = Field(
        sa_column=Column(Integer, ForeignKey("researcher.id", ondelete="CASCADE"), primary_key=True)
    )
    institution_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("institution.id", ondelete="CASCADE"), primary_key=True
        )
    )


class Paper(SQLModel, table=True):
    __table_args__ = (
        Index("ix_paper_title_key_year", "title_key", "year"),
        Index("ix_paper_published_on_id", "published_on", "id"),
        Index("ix_paper_year_id", "year", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=TITLE_MAX_LENGTH)
    title_key: str = Field(max_length=TITLE_MAX_LENGTH)
    abstract: str | None = None
    # published_on is NULL when only the year is known; year is set whenever either is.
    published_on: date | None = None
    year: int | None = None
    primary_category: str | None = Field(
        default=None, foreign_key="category.code", index=True, max_length=32
    )
    has_code: bool = False
    code_url: str | None = Field(default=None, max_length=2000)
    arxiv_id: str | None = Field(default=None, unique=True, max_length=32)
    doi: str | None = Field(default=None, unique=True, max_length=255)
    openalex_id: str | None = Field(default=None, unique=True, max_length=32)
    semantic_scholar_id: str | None = Field(default=None, unique=True, max_length=64)
    # NULL means no source has given a count; it is never defaulted to 0.
    citation_count: int | None = Field(default=None, index=True)
    source_score: float | None = None
    authors_truncated: bool = False
    created_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp())
    updated_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp())


class PaperLink(SQLModel, table=True):
    """A web address the source names for a paper (project page, code), in source order."""

    __tablename__ = "paper_link"

    paper_id: int = Field(
        sa_column=Column(Integer, ForeignKey("paper.id", ondelete="CASCADE"), primary_key=True)
    )
    position: int = Field(primary_key=True)
    url: str = Field(max_length=2000)


class PaperCategory(SQLModel, table=True):
    """Every category of a paper, the primary one included."""

    __tablename__ = "paper_category"

    paper_id: int = Field(
        sa_column=Column(Integer, ForeignKey("paper.id", ondelete="CASCADE"), primary_key=True)
    )
    category_code: str = Field(foreign_key="category.code", primary_key=True, max_length=32)


class CitationYear(SQLModel, table=True):
    """Citations a paper received in one calendar year."""

    __tablename__ = "citation_year"

    paper_id: int = Field(
        sa_column=Column(Integer, ForeignKey("paper.id", ondelete="CASCADE"), primary_key=True)
    )
    year: int = Field(primary_key=True)
    count: int


class Authorship(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("paper_id", "researcher_id"),
        Index("ix_authorship_paper_id_position", "paper_id", "position"),
        # A researcher's papers in their list's order, read from the index (migration 0007).
        Index(
            "ix_authorship_researcher_paper_order",
            "researcher_id",
            "paper_sort_year",
            "paper_sort_date",
            "paper_id",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    paper_id: int = Field(sa_column=_cascade("paper.id"))
    # Looked up through ix_authorship_researcher_paper_order, which leads with it (0008).
    researcher_id: int = Field(sa_column=_cascade("researcher.id"))
    # 1-based; NULL when the researcher is known to be on the paper but not where.
    position: int | None = None
    display_name: str = Field(max_length=NAME_MAX_LENGTH)
    # The paper's year and date as its lists sort them (unknown: 0, 0001-01-01). Triggers
    # (migration 0007) fill them when a row is written without them and follow the paper.
    paper_sort_year: int | None = None
    paper_sort_date: date | None = None


class UnlinkedAuthor(SQLModel, table=True):
    """A name a source prints on a paper's byline without an author id to follow.

    Such names ("World Bank", a consortium, an author the source could not
    identify) stay on the paper as printed, at their place, and are never
    merged into a researcher found by the same name: the name alone cannot
    say which of several people it is.
    """

    __tablename__ = "unlinked_author"

    paper_id: int = Field(
        sa_column=Column(Integer, ForeignKey("paper.id", ondelete="CASCADE"), primary_key=True)
    )
    position: int = Field(primary_key=True)
    display_name: str = Field(max_length=NAME_MAX_LENGTH)


class PaperInstitution(SQLModel, table=True):
    """An institution printed on a paper, whoever's it is."""

    __tablename__ = "paper_institution"

    paper_id: int = Field(
        sa_column=Column(Integer, ForeignKey("paper.id", ondelete="CASCADE"), primary_key=True)
    )
    institution_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("institution.id", ondelete="CASCADE"), primary_key=True
        )
    )


class AuthorshipInstitution(SQLModel, table=True):
    """An affiliation the source ties to one author on one paper."""

    __tablename__ = "authorship_institution"

    authorship_id: int = Field(
        sa_column=Column(Integer, ForeignKey("authorship.id", ondelete="CASCADE"), primary_key=True)
    )
    institution_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("institution.id", ondelete="CASCADE"), primary_key=True
        )
    )


class ReportedMetrics(SQLModel, table=True):
    """What a source said about a researcher, kept apart from what we compute."""

    __tablename__ = "reported_metrics"
    __table_args__ = (UniqueConstraint("researcher_id", "source"),)

    id: int | None = Field(default=None, primary_key=True)
    researcher_id: int = Field(sa_column=_cascade("researcher.id"))
    source: str = Field(max_length=200)
    # Sources often give only the year of capture; then captured_on stays NULL.
    captured_on: date | None = None
    captured_year: int | None = None
    h_index: int | None = None
    citation_count: int | None = None
    paper_count: int | None = None
    novelty: float | None = None
    ai_score: float | None = None
    i10_index: int | None = None
    # OpenAlex's 2yr_mean_citedness: citations in the last year per work of the two before.
    two_year_mean_citedness: float | None = None


class ResearcherIndicators(SQLModel, table=True):
    """Leaderboard figures per researcher, kept by every write that changes their papers.

    Derived data: db.writes.indicators.refresh_indicators recomputes them from
    authorships and citation counts, in the writer's transaction, for the
    researchers a write touched. Ranking 20,000 researchers by h-index from
    the raw tables costs seconds per request; from these indexed columns it
    costs a index scan.
    """

    __tablename__ = "researcher_indicators"
    __table_args__ = (
        Index("ix_researcher_indicators_h_index", "h_index", "researcher_id"),
        Index("ix_researcher_indicators_citation_count", "citation_count", "researcher_id"),
        Index("ix_researcher_indicators_paper_count", "paper_count", "researcher_id"),
    )

    researcher_id: int = Field(
        sa_column=Column(Integer, ForeignKey("researcher.id", ondelete="CASCADE"), primary_key=True)
    )
    paper_count: int
    citation_count: int
    h_index: int


class ApiToken(SQLModel, table=True):
    """A bearer token; only a hash of its secret is stored."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=100)
    secret_hash: str = Field(unique=True, max_length=128)
    scopes: str = Field(max_length=200)  # space-separated, e.g. "write"
    created_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp())
    revoked_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    last_used_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))


class SnapshotPart(SQLModel, table=True):
    """A file of a published snapshot imported to its end (an OpenAlex part, a merged-ids file).

    `path` is the file's place under the snapshot's data folder
    (works/updated_date=2024-01-01/part_000.gz), the same in every copy of the
    snapshot; a rerun skips a file listed here with the same size.
    """

    __tablename__ = "snapshot_part"
    __table_args__ = (UniqueConstraint("source", "path"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=32)
    path: str = Field(max_length=500)
    content_length: int = Field(sa_column=Column(BigInteger, nullable=False))
    record_count: int
    finished_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp())
