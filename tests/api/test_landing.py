"""The start page at / and the schema at /schema.graphql: plain, fast, offline."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.settings import Settings
from schema import sorted_sdl
from tests.api.conftest import open_client
from tests.api.test_graphiql import EXTERNAL_MARKERS, referenced_urls


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The app with no lifespan: these pages need no database."""
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_the_start_page_links_the_profile_page_graphiql_and_the_schema(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert "<title>scholargraph</title>" in page
    assert "A GraphQL API for researcher profiles and bibliometrics" in page
    assert 'researcher(slug: "david-bau")' in page  # the first query
    links = referenced_urls(page)
    assert links[:3] == ["data:,", "/researchers/david-bau", "/graphql"]
    assert "/schema.graphql" in links


async def test_the_start_page_names_no_other_host_and_runs_no_script(
    http: httpx.AsyncClient,
) -> None:
    page = (await http.get("/")).text
    assert "<script" not in page
    for url in referenced_urls(page):
        assert url == "data:," or url.startswith("/"), url
    head = page[: page.index("</head>")].lower()
    for marker in EXTERNAL_MARKERS:
        assert marker not in head, marker


async def test_the_schema_is_served_as_exported(http: httpx.AsyncClient) -> None:
    response = await http.get("/schema.graphql")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/graphql; charset=utf-8"
    # the SDL export-schema writes (tests/schema/test_sdl.py keeps the committed file equal)
    assert response.text == sorted_sdl()


@pytest.mark.parametrize("path", ["/", "/schema.graphql"])
async def test_the_pages_are_read_only(http: httpx.AsyncClient, path: str) -> None:
    assert (await http.post(path)).status_code == 405
    assert (await http.head(path)).status_code == 200


async def test_the_start_page_s_first_query_runs(http: httpx.AsyncClient, seeded_url: str) -> None:
    page = (await http.get("/")).text
    first = html.unescape(re.findall(r"<pre><code>(.*?)</code></pre>", page, re.DOTALL)[0])
    async for client in open_client(seeded_url):
        data = await client.data(first)
    researcher = data["researcher"]
    assert (researcher["name"], researcher["reportedMetrics"]["hIndex"]) == ("David Bau", 55)
    assert researcher["papers"]["totalCount"] == 50
