"""The start page at / and the schema at /schema.graphql.

The start page is plain HTML (index.html beside this file): no script, no other host, so it
is fast and works offline. It links to the example profile page and to GraphiQL, shows a
first query, and says where the schema and the docs are.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import BaseRoute, Route

from schema import sorted_sdl

__all__ = ["landing_routes"]

_PAGE = (Path(__file__).resolve().parent / "index.html").read_text(encoding="utf-8")
_SDL = sorted_sdl()


async def start_page(_request: Request) -> HTMLResponse:
    return HTMLResponse(_PAGE)


async def schema_sdl(_request: Request) -> PlainTextResponse:
    """The served schema, as committed in schema.graphql."""
    return PlainTextResponse(_SDL, media_type="application/graphql; charset=utf-8")


def landing_routes() -> list[BaseRoute]:
    return [
        Route("/", start_page, methods=["GET", "HEAD"]),
        Route("/schema.graphql", schema_sdl, methods=["GET", "HEAD"]),
    ]
