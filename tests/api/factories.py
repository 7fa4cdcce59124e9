"""Rows for tests that need more than the seed, written through the ORM in one transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_session_factory
from db.models import Authorship, CitationYear, Paper, PaperCategory, Researcher
from db.names import make_slug, name_key, title_key
from db.writes.indicators import refresh_indicators

# A profile page in the seed's format (DESIGN.md), one paper by two authors, for imports.
SMALL_PROFILE_TEXT = """Ada Lovelace

CV
h-index3
2papers

2 Papers

LGMar 3Code
Notes on the Analytical Engine
Ada Lovelace, Charles Babbage · cambridge
An abstract naming https://github.com/ada/engine for the code.
"""


async def add_papers(engine: AsyncEngine, titles: list[str], **overrides: Any) -> list[int]:
    """Papers with these titles (and any other columns given); returns their ids."""
    async with create_session_factory(engine)() as session, session.begin():
        papers = [Paper(title=t, title_key=title_key(t), **overrides) for t in titles]
        session.add_all(papers)
        await session.flush()
        return [p.id for p in papers if p.id is not None]


async def add_researcher_with_papers(
    engine: AsyncEngine,
    name: str,
    papers: list[dict[str, Any]],
) -> int:
    """A researcher and their papers: each dict holds Paper columns, plus `by_year` pairs."""
    async with create_session_factory(engine)() as session, session.begin():
        researcher = Researcher(name=name, name_key=name_key(name), slug=make_slug(name))
        session.add(researcher)
        await session.flush()
        assert researcher.id is not None
        for i, spec in enumerate(papers):
            spec = dict(spec)
            by_year = spec.pop("by_year", [])
            title = spec.pop("title", f"{name} paper {i}")
            paper = Paper(title=title, title_key=title_key(title), **spec)
            session.add(paper)
            await session.flush()
            assert paper.id is not None
            session.add(
                Authorship(
                    paper_id=paper.id, researcher_id=researcher.id, position=1, display_name=name
                )
            )
            if paper.primary_category:
                session.add(PaperCategory(paper_id=paper.id, category_code=paper.primary_category))
            session.add_all(CitationYear(paper_id=paper.id, year=y, count=n) for y, n in by_year)
        await session.flush()
        await refresh_indicators(await session.connection(), [researcher.id])
        return researcher.id
