"""Write a parsed profile into the database, idempotently.

The caller owns the transaction: `async with session.begin(): await load_profile(...)`,
so the command line and the importProfile mutation both get all or nothing.
Loading the same profile twice changes no row: every write first compares
with what is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import (
    Authorship,
    Category,
    Paper,
    PaperCategory,
    PaperInstitution,
    PaperLink,
    ReportedMetrics,
    Researcher,
    utc_now,
)
from db.names import make_slug, name_key, title_key
from db.queries.matching import find_paper
from db.writes.indicators import refresh_indicators
from db.writes.keys import (
    INSTITUTION_SLUG,
    PAPER_TITLE,
    RESEARCHER_NAME,
    RESEARCHER_SLUG,
    title_lock_key,
)
from seeds.profile_text import Profile, ProfileEntry, ProfileFormatError, parse_profile
from seeds.rows import (
    Lookups,
    assign,
    hold_once,
    institution_with_slug,
    place_author,
    researcher_named,
)

CODE_HOSTS = frozenset({"github.com", "gitlab.com", "bitbucket.org", "huggingface.co"})


@dataclass(frozen=True, slots=True)
class LoadResult:
    researcher_id: int
    papers_created: int
    papers_updated: int
    papers_unchanged: int


async def load_profile(
    session: AsyncSession,
    profile: Profile,
    *,
    source: str,
    captured_year: int | None,
    captured_on: date | None = None,
    institution_names: Mapping[str, str] | None = None,
) -> LoadResult:
    """Store a profile's owner, reported figures and papers; returns what changed."""
    lookups = Lookups(categories=set((await session.exec(select(Category.code))).all()))
    _check_categories(profile, lookups.categories)
    await hold_once(session, lookups, natural_keys(profile))
    owner = await researcher_named(session, profile.name, lookups)
    await _store_reported(
        session, owner, profile, source=source, captured=(captured_year, captured_on)
    )
    created = updated = 0
    for entry in profile.entries:
        paper, is_new = await _stored_paper(session, entry)
        changed = await _sync_paper(session, paper, entry, owner, lookups, institution_names or {})
        created += is_new
        updated += changed and not is_new
    assert owner.id is not None
    if created or updated:
        touched = [r.id for r in lookups.researchers.values() if r.id is not None]
        await session.flush()  # the refresh reads through the connection, past the ORM
        await refresh_indicators(await session.connection(), touched)
    unchanged = len(profile.entries) - created - updated
    return LoadResult(owner.id, created, updated, unchanged)


def natural_keys(profile: Profile) -> dict[str, set[str]]:
    """Every key the profile finds or creates rows by, to be locked at once (db.writes.keys)."""
    entries = profile.entries
    names = [profile.name, *(name for entry in entries for name in entry.authors)]
    return {
        INSTITUTION_SLUG: {slug for entry in entries for slug in entry.institutions},
        PAPER_TITLE: {title_lock_key(title_key(e.title), e.published_on.year) for e in entries},
        RESEARCHER_NAME: {name_key(name) for name in names},
        # Bases of the slugs new researchers may take; with the rest, so two loads never
        # each hold one the other waits for.
        RESEARCHER_SLUG: {make_slug(name) for name in names},
    }


def _check_categories(profile: Profile, known: set[str]) -> None:
    for entry in profile.entries:
        if entry.category not in known:
            raise ProfileFormatError(
                entry.line, f"a known arXiv category, not {entry.category!r}", entry.category
            )


async def _store_reported(
    session: AsyncSession,
    owner: Researcher,
    profile: Profile,
    *,
    source: str,
    captured: tuple[int | None, date | None],
) -> None:
    statement = select(ReportedMetrics).where(
        ReportedMetrics.researcher_id == owner.id, ReportedMetrics.source == source
    )
    reported = (await session.exec(statement)).first()
    if reported is None:
        assert owner.id is not None
        reported = ReportedMetrics(researcher_id=owner.id, source=source)
        session.add(reported)
    figures = profile.reported
    assign(
        reported,
        captured_year=captured[0],
        captured_on=captured[1],
        h_index=figures.h_index,
        citation_count=figures.citation_count,
        paper_count=figures.paper_count,
        novelty=figures.novelty,
        ai_score=figures.ai_score,
    )


async def _stored_paper(session: AsyncSession, entry: ProfileEntry) -> tuple[Paper, bool]:
    key = title_key(entry.title)
    paper = await find_paper(session, title_key=key, year=entry.published_on.year)
    if paper is not None:
        return paper, False
    paper = Paper(title=entry.title, title_key=key)
    session.add(paper)
    return paper, True


async def _sync_paper(
    session: AsyncSession,
    paper: Paper,
    entry: ProfileEntry,
    owner: Researcher,
    lookups: Lookups,
    institution_names: Mapping[str, str],
) -> bool:
    """Make the stored paper say what the entry says; True when anything changed."""
    changed = assign(
        paper,
        title=entry.title,
        abstract=entry.abstract,
        published_on=entry.published_on,
        year=entry.published_on.year,
        primary_category=entry.category,
        has_code=entry.has_code or paper.has_code,
        code_url=paper.code_url or _code_url(entry.links),
        source_score=entry.source_score,
        authors_truncated=entry.authors_truncated,
    )
    if changed:
        paper.updated_at = utc_now()
    await session.flush()
    assert paper.id is not None
    changed |= await _sync_links(session, paper.id, entry.links)
    changed |= await _ensure_category(session, paper.id, entry.category)
    changed |= await _sync_institutions(session, paper.id, entry, lookups, institution_names)
    changed |= await _sync_authors(session, paper.id, entry, owner, lookups)
    return changed


def _code_url(links: tuple[str, ...]) -> str | None:
    return next((link for link in links if urlsplit(link).hostname in CODE_HOSTS), None)


async def _sync_links(session: AsyncSession, paper_id: int, links: tuple[str, ...]) -> bool:
    statement = select(PaperLink).where(PaperLink.paper_id == paper_id)
    stored = sorted((await session.exec(statement)).all(), key=lambda link: link.position)
    if tuple(link.url for link in stored) == links:
        return False
    for link in stored:
        await session.delete(link)
    await session.flush()
    session.add_all(
        PaperLink(paper_id=paper_id, position=i, url=url) for i, url in enumerate(links, 1)
    )
    return True


async def _ensure_category(session: AsyncSession, paper_id: int, code: str) -> bool:
    if await session.get(PaperCategory, (paper_id, code)) is not None:
        return False
    session.add(PaperCategory(paper_id=paper_id, category_code=code))
    return True


async def _sync_institutions(
    session: AsyncSession,
    paper_id: int,
    entry: ProfileEntry,
    lookups: Lookups,
    institution_names: Mapping[str, str],
) -> bool:
    changed = False
    for slug in entry.institutions:
        institution = await institution_with_slug(session, slug, lookups, institution_names)
        assert institution.id is not None
        if await session.get(PaperInstitution, (paper_id, institution.id)) is None:
            session.add(PaperInstitution(paper_id=paper_id, institution_id=institution.id))
            changed = True
    return changed


async def _sync_authors(
    session: AsyncSession,
    paper_id: int,
    entry: ProfileEntry,
    owner: Researcher,
    lookups: Lookups,
) -> bool:
    """The byline in order, and the owner on every paper: at an unknown place if unnamed."""
    statement = select(Authorship).where(Authorship.paper_id == paper_id)
    stored = {a.researcher_id: a for a in (await session.exec(statement)).all()}
    changed = False
    for position, printed in enumerate(entry.authors, 1):
        researcher = await researcher_named(session, printed, lookups)
        changed |= place_author(session, stored, paper_id, researcher, position, printed)
    if owner.id not in stored:
        changed |= place_author(session, stored, paper_id, owner, None, owner.name)
    return changed


async def import_profile_text(
    session: AsyncSession,
    text: str,
    *,
    undated_year: int,
    source: str,
    institution_names: Mapping[str, str] | None = None,
) -> LoadResult:
    """Parse a profile page's text and load it; raises ProfileFormatError before any write."""
    profile = parse_profile(text, undated_year=undated_year)
    return await load_profile(
        session,
        profile,
        source=source,
        captured_year=undated_year,
        institution_names=institution_names,
    )
