"""Writing bibliographic records (OpenAlex, Semantic Scholar) in batched transactions.

Records stream in; every `batch_size` of them is written in one transaction,
so memory stays flat and a crash loses at most a batch, which the same
command writes again on the next run: each record is matched before it is
written and compared before it is changed, so importing a file twice
changes nothing. A paper matches on its id in the source, then arXiv id,
DOI, normalised title and year (the seed profile's papers match by title);
an author on the source's id, then ORCID, then name key.

A record that does not have its source's shape is reported and skipped; with
`strict`, the first one ends the import and nothing of its batch is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import (
    Authorship,
    AuthorshipInstitution,
    CitationYear,
    Paper,
    PaperInstitution,
    ReportedMetrics,
    Researcher,
    ResearcherAlias,
    ResearcherInstitution,
    utc_now,
)
from db.names import make_slug, name_key, title_key
from db.writes.indicators import refresh_indicators
from seeds.jsonrecords import Line
from seeds.records import AuthorRecord, AuthorRef, RecordError, Reported, WorkRecord
from seeds.rows import Lookups, assign, institution_with_slug, place_author, researcher_named

DEFAULT_BATCH = 500


class Outcome(Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(slots=True)
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    problems: list[str] = field(default_factory=list)

    def count(self, outcome: Outcome) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)


class StrictImportError(ValueError):
    """A bad record under --strict: the import stopped and its batch was not written."""


Mapper = Callable[[dict[str, Any]], WorkRecord | AuthorRecord]


def parsed(
    lines: Iterable[Line], mapper: Mapper
) -> Iterator[tuple[Line, WorkRecord | AuthorRecord | str]]:
    """Each line with its record, or with the reason it is not one."""
    for line in lines:
        if line.record is None:
            yield line, line.error or "not a record"
            continue
        try:
            yield line, mapper(line.record)
        except (RecordError, AttributeError, TypeError, ValueError) as error:
            reason = str(error) if isinstance(error, RecordError) else f"unexpected shape: {error}"
            yield line, reason


async def import_records(
    sessions: async_sessionmaker[AsyncSession],
    records: Iterable[tuple[Line, WorkRecord | AuthorRecord | str]],
    *,
    strict: bool = False,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Write the records, `batch_size` to a transaction; returns what happened to them."""
    summary = ImportSummary()
    batch: list[WorkRecord | AuthorRecord] = []
    for line, record in records:
        if isinstance(record, str):
            summary.skipped += 1
            summary.problems.append(f"{line.file}:{line.line}: {record}")
            if strict:
                raise StrictImportError(summary.problems[-1])
        else:
            batch.append(record)
        if len(batch) >= batch_size:
            await _write_batch(sessions, batch, summary)
            _report(progress, len(batch))
            batch = []
    if batch:
        await _write_batch(sessions, batch, summary)
        _report(progress, len(batch))
    return summary


def _report(progress: Callable[[int], None] | None, done: int) -> None:
    if progress is not None:
        progress(done)


async def _write_batch(
    sessions: async_sessionmaker[AsyncSession],
    batch: list[WorkRecord | AuthorRecord],
    summary: ImportSummary,
) -> None:
    writer = _BatchWriter()
    async with sessions() as session, session.begin():
        await writer.prefetch(session, batch)
        for record in batch:
            if isinstance(record, AuthorRecord):
                await writer.author(session, record)
                for work in record.works:
                    summary.count(await writer.work(session, work))
            else:
                summary.count(await writer.work(session, record))
        await session.flush()
        await refresh_indicators(await session.connection(), writer.touched)


@dataclass(slots=True)
class _BatchWriter:
    """Writes one batch; looks up what the batch names in a few statements up front."""

    lookups: Lookups = field(default_factory=Lookups)
    by_external_id: dict[tuple[str, str], Researcher] = field(default_factory=dict)
    papers: dict[tuple[str, object], Paper] = field(default_factory=dict)
    touched: set[int] = field(default_factory=set)

    async def prefetch(self, session: AsyncSession, batch: list[WorkRecord | AuthorRecord]) -> None:
        """Load the papers and researchers the batch may match, one statement per key."""
        works = [w for r in batch for w in (r.works if isinstance(r, AuthorRecord) else (r,))]
        refs = [a for w in works for a in w.authors]
        refs += [_ref_of(r) for r in batch if isinstance(r, AuthorRecord)]
        for column, values in (
            ("openalex_id", {w.openalex_id for w in works}),
            ("semantic_scholar_id", {w.semantic_scholar_id for w in works}),
            ("arxiv_id", {w.arxiv_id for w in works}),
            ("doi", {w.doi for w in works}),
            ("title_key", {title_key(w.title) for w in works}),
        ):
            await self._prefetch_papers(session, column, values - {None})
        for kind in ("openalex_id", "semantic_scholar_id", "orcid"):
            wanted = {getattr(ref, kind) for ref in refs} - {None}
            await self._prefetch_researchers(session, kind, wanted)
        await self._prefetch_names(session, {name_key(ref.name) for ref in refs})

    async def _prefetch_papers(self, session: AsyncSession, column: str, values: set[Any]) -> None:
        for chunk in _chunks(sorted(values)):
            statement = select(Paper).where(col(getattr(Paper, column)).in_(chunk))
            for paper in (await session.exec(statement)).all():
                key = (
                    (paper.title_key, paper.year)
                    if column == "title_key"
                    else getattr(paper, column)
                )
                self.papers.setdefault((column, key), paper)

    async def _prefetch_researchers(
        self, session: AsyncSession, kind: str, values: set[Any]
    ) -> None:
        for chunk in _chunks(sorted(values)):
            statement = select(Researcher).where(col(getattr(Researcher, kind)).in_(chunk))
            for researcher in (await session.exec(statement)).all():
                self.by_external_id[kind, getattr(researcher, kind)] = researcher

    async def _prefetch_names(self, session: AsyncSession, keys: set[str]) -> None:
        # The oldest researcher with the name (or an alias) wins, as in find_researcher_by_name_key.
        for chunk in _chunks(sorted(keys)):
            aliased = select(ResearcherAlias.researcher_id, ResearcherAlias.alias_key).where(
                col(ResearcherAlias.alias_key).in_(chunk)
            )
            alias_keys: dict[int, list[str]] = {}
            for researcher_id, key in (await session.exec(aliased)).all():
                alias_keys.setdefault(researcher_id, []).append(key)
            statement = (
                select(Researcher)
                .where(col(Researcher.name_key).in_(chunk) | col(Researcher.id).in_(alias_keys))
                .order_by(col(Researcher.id).desc())
            )
            for researcher in (await session.exec(statement)).all():
                for key in [researcher.name_key, *alias_keys.get(_id(researcher), [])]:
                    self.lookups.researchers[key] = researcher  # the oldest is written last
            self.lookups.absent.update(set(chunk) - set(self.lookups.researchers))

    def _match(self, work: WorkRecord) -> Paper | None:
        for key in (
            ("openalex_id", work.openalex_id),
            ("semantic_scholar_id", work.semantic_scholar_id),
            ("arxiv_id", work.arxiv_id),
            ("doi", work.doi),
            ("title_key", (title_key(work.title), work.year)),
        ):
            if key[1] is not None and key in self.papers:
                return self.papers[key]
        return None

    def _remember(self, paper: Paper) -> None:
        for column in ("openalex_id", "semantic_scholar_id", "arxiv_id", "doi"):
            if getattr(paper, column) is not None:
                self.papers[column, getattr(paper, column)] = paper
        self.papers["title_key", (paper.title_key, paper.year)] = paper

    async def work(self, session: AsyncSession, work: WorkRecord) -> Outcome:
        paper = self._match(work)
        created = paper is None
        if paper is None:
            paper = Paper(title=work.title, title_key=title_key(work.title))
            session.add(paper)
        changed = _update_paper(paper, work)
        if created or changed:
            await session.flush()
        self._remember(paper)
        assert paper.id is not None
        changed |= await _sync_counts_by_year(session, paper.id, work.counts_by_year, new=created)
        changed |= await self._sync_authors(session, paper.id, work.authors, new=created)
        if created:
            return Outcome.CREATED
        if changed:
            paper.updated_at = utc_now()
            return Outcome.UPDATED
        return Outcome.UNCHANGED

    async def author(self, session: AsyncSession, record: AuthorRecord) -> None:
        researcher = await self.researcher(session, _ref_of(record))
        if record.homepage and not researcher.homepage:
            researcher.homepage = record.homepage
        assert researcher.id is not None
        await _add_aliases(session, researcher.id, record.aliases)
        for name in record.institutions:
            institution = await self._institution(session, name)
            await _ensure(
                session,
                ResearcherInstitution(researcher_id=researcher.id, institution_id=institution),
            )
        if record.reported is not None:
            await _store_reported(session, researcher.id, record.reported)

    async def researcher(self, session: AsyncSession, ref: AuthorRef) -> Researcher:
        """The researcher a reference names: by the source's id, ORCID, then name key."""
        keys = [
            (kind, value)
            for kind, value in (
                ("openalex_id", ref.openalex_id),
                ("semantic_scholar_id", ref.semantic_scholar_id),
                ("orcid", ref.orcid),
            )
            if value
        ]
        researcher = await self._by_external_id(session, keys)
        if researcher is None:
            researcher = await researcher_named(session, ref.name, self.lookups)
        for kind, value in keys:
            if getattr(researcher, kind) is None:
                setattr(researcher, kind, value)
            self.by_external_id[kind, value] = researcher
        self.touched.add(_id(researcher))
        return researcher

    async def _by_external_id(
        self, session: AsyncSession, keys: list[tuple[str, str]]
    ) -> Researcher | None:
        del session  # prefetched for the whole batch
        for key in keys:
            if key in self.by_external_id:
                return self.by_external_id[key]
        return None

    async def _institution(self, session: AsyncSession, name: str) -> int:
        slug = make_slug(name)
        institution = await institution_with_slug(session, slug, self.lookups, {slug: name})
        assert institution.id is not None
        return institution.id

    async def _sync_authors(
        self, session: AsyncSession, paper_id: int, authors: tuple[AuthorRef, ...], *, new: bool
    ) -> bool:
        stored: dict[int, Authorship] = {}
        if not new:
            statement = select(Authorship).where(col(Authorship.paper_id) == paper_id)
            stored = {a.researcher_id: a for a in (await session.exec(statement)).all()}
        changed = False
        for ref in authors:
            researcher = await self.researcher(session, ref)
            changed |= place_author(
                session, stored, paper_id, researcher, ref.position, ref.printed_name
            )
            if ref.institutions:
                await session.flush()
                authorship_id = stored[_id(researcher)].id
                assert authorship_id is not None
                for name in ref.institutions:
                    institution = await self._institution(session, name)
                    changed |= await _ensure(
                        session, PaperInstitution(paper_id=paper_id, institution_id=institution)
                    )
                    changed |= await _ensure(
                        session,
                        AuthorshipInstitution(
                            authorship_id=authorship_id, institution_id=institution
                        ),
                    )
        return changed


def _update_paper(paper: Paper, work: WorkRecord) -> bool:
    """What the record adds to the paper: ids and dates it lacks, and the newest count."""
    fill = {
        name: value
        for name, value in (
            ("doi", work.doi),
            ("arxiv_id", work.arxiv_id),
            ("openalex_id", work.openalex_id),
            ("semantic_scholar_id", work.semantic_scholar_id),
            ("abstract", work.abstract),
            ("published_on", work.published_on),
            ("year", work.year),
        )
        if value is not None and getattr(paper, name) is None
    }
    if work.citation_count is not None:
        fill["citation_count"] = work.citation_count
    return assign(paper, **fill)


async def _sync_counts_by_year(
    session: AsyncSession, paper_id: int, counts: tuple[tuple[int, int], ...], *, new: bool
) -> bool:
    if not counts:
        return False
    if new:
        session.add_all(CitationYear(paper_id=paper_id, year=year, count=n) for year, n in counts)
        return True
    statement = select(CitationYear).where(col(CitationYear.paper_id) == paper_id)
    stored = tuple(sorted((row.year, row.count) for row in (await session.exec(statement)).all()))
    if stored == counts:
        return False
    await session.exec(delete(CitationYear).where(col(CitationYear.paper_id) == paper_id))
    session.add_all(CitationYear(paper_id=paper_id, year=year, count=n) for year, n in counts)
    return True


async def _ensure(session: AsyncSession, row: SQLModel) -> bool:
    """Add a link row unless it is there; True when it was added."""
    table = SQLModel.metadata.tables[str(type(row).__tablename__)]
    key = tuple(getattr(row, column.name) for column in table.primary_key.columns)
    if await session.get(type(row), key) is not None:
        return False
    session.add(row)
    await session.flush()
    return True


async def _add_aliases(session: AsyncSession, researcher_id: int, aliases: tuple[str, ...]) -> None:
    statement = select(ResearcherAlias.alias_key).where(
        col(ResearcherAlias.researcher_id) == researcher_id
    )
    known = set((await session.exec(statement)).all())
    for alias in aliases:
        key = name_key(alias)
        if key and key not in known:
            session.add(ResearcherAlias(researcher_id=researcher_id, alias=alias, alias_key=key))
            known.add(key)


async def _store_reported(session: AsyncSession, researcher_id: int, reported: Reported) -> None:
    statement = select(ReportedMetrics).where(
        col(ReportedMetrics.researcher_id) == researcher_id,
        col(ReportedMetrics.source) == reported.source,
    )
    row = (await session.exec(statement)).first()
    if row is None:
        row = ReportedMetrics(researcher_id=researcher_id, source=reported.source)
        session.add(row)
    assign(
        row,
        h_index=reported.h_index,
        citation_count=reported.citation_count,
        paper_count=reported.paper_count,
    )


def _id(researcher: Researcher) -> int:
    assert researcher.id is not None
    return researcher.id


def _ref_of(record: AuthorRecord) -> AuthorRef:
    return AuthorRef(
        name=record.name,
        printed_name=record.name,
        openalex_id=record.openalex_id,
        semantic_scholar_id=record.semantic_scholar_id,
        orcid=record.orcid,
    )


def _chunks(values: list[Any], size: int = 500) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
