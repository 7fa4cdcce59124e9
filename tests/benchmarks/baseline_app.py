"""The baseline the benchmark compares us with: the same pages, hand-written, no GraphQL.

Three SQL statements for a profile page (the researcher with the kept
leaderboard figures, the newest papers, their authors) and one for a leaderboard, serialised with
the standard library's json. It is what a careful engineer would write for
exactly one page, and so the ceiling a GraphQL server's overhead is
measured against. Run it with uvicorn:
`uvicorn tests.benchmarks.baseline_app:app` with SCHOLARGRAPH_DATABASE_URL set.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db.engine import create_engine
from db.tables import authorship, paper, researcher
from db.tables import researcher_indicators as indicators

PAGE_SIZE = 50


def _json(body: Any) -> Response:
    return Response(json.dumps(body, default=str), media_type="application/json")


async def profile(request: Request) -> Response:
    slug = request.path_params["slug"]
    async with request.app.state.engine.connect() as connection:
        head = (
            await connection.execute(
                select(
                    researcher.c.id,
                    researcher.c.name,
                    indicators.c.paper_count,
                    indicators.c.citation_count,
                    indicators.c.h_index,
                )
                .outerjoin(indicators, indicators.c.researcher_id == researcher.c.id)
                .where(researcher.c.slug == slug)
            )
        ).one()
        papers = (
            await connection.execute(
                select(
                    paper.c.id,
                    paper.c.title,
                    paper.c.abstract,
                    paper.c.published_on,
                    paper.c.primary_category,
                    paper.c.citation_count,
                    paper.c.has_code,
                )
                .join(authorship, authorship.c.paper_id == paper.c.id)
                .where(authorship.c.researcher_id == head.id)
                .order_by(paper.c.published_on.desc(), paper.c.id.desc())
                .limit(PAGE_SIZE)
            )
        ).all()
        names = await _bylines(connection, [p.id for p in papers])
    return _json(
        {
            "name": head.name,
            "hIndex": head.h_index,
            "citationCount": head.citation_count,
            "paperCount": head.paper_count,
            "papers": [{**p._mapping, "authors": names[p.id]} for p in papers],
        }
    )


async def _bylines(connection: Any, paper_ids: list[int]) -> dict[int, list[str]]:
    rows = await connection.execute(
        select(authorship.c.paper_id, researcher.c.name)
        .join(researcher, researcher.c.id == authorship.c.researcher_id)
        .where(authorship.c.paper_id.in_(paper_ids))
        .order_by(authorship.c.paper_id, authorship.c.position)
    )
    names: defaultdict[int, list[str]] = defaultdict(list)
    for paper_id, name in rows:
        names[paper_id].append(name)
    return names


async def leaderboard(request: Request) -> Response:
    async with request.app.state.engine.connect() as connection:
        rows = await connection.execute(
            select(
                researcher.c.name,
                indicators.c.h_index,
                indicators.c.paper_count,
                indicators.c.citation_count,
            )
            .join(indicators, indicators.c.researcher_id == researcher.c.id)
            # scholargraph's order (ties: earliest researcher first), read backwards from
            # the index on (h_index, -researcher_id).
            .order_by(indicators.c.h_index.desc(), (-indicators.c.researcher_id).desc())
            .limit(20)
        )
        return _json([dict(row._mapping) for row in rows])


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.engine = create_engine(os.environ["SCHOLARGRAPH_DATABASE_URL"])
    yield
    await app.state.engine.dispose()


app = Starlette(
    routes=[Route("/profile/{slug}", profile), Route("/leaderboard", leaderboard)],
    lifespan=lifespan,
)
