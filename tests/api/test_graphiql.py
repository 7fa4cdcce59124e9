"""GraphiQL is served by the app itself: the page names no other host, and runs in Chromium.

These tests build a small app of their own (a schema with `hello`) so that they
do not depend on the project's schema: the GraphiQL page and its assets are
what is under test.

The assets are installed by `make install` (npm ci in api/graphiql). Without
them, or without Debian's chromium for the browser test, the tests that need
them skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import strawberry
from playwright.async_api import Request as BrowserRequest
from playwright.async_api import async_playwright, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL

import api.graphiql
from api.graphiql import ASSETS_DIR, graphiql_html, graphiql_routes
from tests.api.live import serve
from tests.support import skip_or_fail

PACKAGE_DIR = Path(api.graphiql.__file__).parent
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EXTERNAL_MARKERS = ("http://", "https://", "unpkg", "jsdelivr", "cdn", "esm.sh", "googleapis")


@pytest.fixture
def assets_installed() -> None:
    if not (ASSETS_DIR / ".package-lock.json").is_file():
        skip_or_fail(f"GraphiQL assets are not installed in {ASSETS_DIR}; run make install")


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "world"


class GraphQLWithLocalGraphiQL(GraphQL[None, None]):
    """How the app is meant to use the page: the Strawberry view's IDE hook returns it."""

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(graphiql_html())


def make_app() -> Starlette:
    view = GraphQLWithLocalGraphiQL(strawberry.Schema(query=Query))
    return Starlette(routes=[Route("/graphql", view), *graphiql_routes()])


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


class ReferencedURLs(HTMLParser):
    """Every src and href in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def referenced_urls(page: str) -> list[str]:
    parser = ReferencedURLs()
    parser.feed(page)
    parser.close()
    return parser.urls


async def get_page(client: httpx.AsyncClient) -> str:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return response.text


async def test_the_page_names_no_other_host(client: httpx.AsyncClient) -> None:
    page = await get_page(client)
    assert "<title>scholargraph — GraphiQL</title>" in page
    for marker in EXTERNAL_MARKERS:
        assert marker not in page.lower(), marker
    assert not re.search(r"""(src|href|url)\s*[=(]\s*["']?//""", page), "protocol-relative URL"
    urls = referenced_urls(page)
    assert urls
    for url in urls:
        assert url == "data:," or url.startswith("/graphiql-assets/"), url


async def test_every_asset_the_page_names_is_served(
    assets_installed: None, client: httpx.AsyncClient
) -> None:
    assets = [url for url in referenced_urls(await get_page(client)) if url != "data:,"]
    assert len(assets) == 4  # React, ReactDOM, GraphiQL's script and its stylesheet
    for url in assets:
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        expected_type = "text/css" if url.endswith(".css") else "text/javascript"
        assert response.headers["content-type"].startswith(expected_type), url
        assert len(response.content) > 1000, url


async def test_the_script_s_source_map_is_served_too(
    assets_installed: None, client: httpx.AsyncClient
) -> None:
    script = next(
        u for u in referenced_urls(await get_page(client)) if "graphiql@" in u and ".js" in u
    )
    response = await client.get(script)
    source_map = re.search(r"sourceMappingURL=(\S+)", response.text[-200:])
    assert source_map is not None
    map_url = script.rsplit("/", 1)[0] + "/" + source_map.group(1)
    assert (await client.get(map_url)).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/graphiql-assets/",
        "/graphiql-assets/.package-lock.json",
        "/graphiql-assets/graphiql/package.json",
        "/graphiql-assets/graphiql/dist/index.umd.js",  # unversioned
        "/graphiql-assets/react@0.0.1/umd/react.production.min.js",  # not the pinned version
        "/graphiql-assets/react@18.3.1/package.json",
        "/graphiql-assets/graphql@16.15.0/index.js",
        "/graphiql-assets/react@18.3.1/umd/react.development.js",
        "/graphiql-assets/react@18.3.1/umd/%2e%2e/%2e%2e/../package.json",
    ],
)
async def test_nothing_but_the_allow_list_is_served(
    assets_installed: None, client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert "cache-control" not in response.headers


async def test_assets_are_read_only(assets_installed: None, client: httpx.AsyncClient) -> None:
    url = next(u for u in referenced_urls(await get_page(client)) if u.endswith(".css"))
    response = await client.post(url)
    assert response.status_code == 405
    assert (await client.head(url)).status_code == 200


async def test_a_revalidation_answers_not_modified(
    assets_installed: None, client: httpx.AsyncClient
) -> None:
    url = next(u for u in referenced_urls(await get_page(client)) if u.endswith(".css"))
    etag = (await client.get(url)).headers["etag"]
    response = await client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 304


async def test_without_the_assets_the_page_still_renders_and_they_answer_503(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(api.graphiql, "ASSETS_DIR", tmp_path / "node_modules")
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        urls = referenced_urls(await get_page(client))
        answer = await client.post("/graphql", json={"query": "{ hello }"})
        assert answer.json() == {"data": {"hello": "world"}}
        for url in urls:
            if url == "data:,":
                continue
            response = await client.get(url)
            assert response.status_code == 503, url
            assert response.text == "GraphiQL assets are not installed; run make install"
            assert "cache-control" not in response.headers


async def test_assets_of_another_version_answer_503(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stale = tmp_path / "node_modules" / "react" / "umd"
    stale.mkdir(parents=True)
    (stale.parent / "package.json").write_text('{"name": "react", "version": "18.2.0"}')
    (stale / "react.production.min.js").write_text("/* old */")
    monkeypatch.setattr(api.graphiql, "ASSETS_DIR", tmp_path / "node_modules")
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/graphiql-assets/react@18.3.1/umd/react.production.min.js")
    assert response.status_code == 503
    assert "(react 18.2.0 is installed, 18.3.1 is pinned); run make install" in response.text


def test_endpoint_and_assets_url_are_escaped() -> None:
    page = graphiql_html(endpoint='/g"</script><b>', assets_url='/a"><b>/')
    assert "<b>" not in page
    assert page.count("</script>") == 4
    assert 'src="/a&quot;&gt;&lt;b&gt;/react@' in page
    assert '"/g\\"\\u003c/script\\u003e\\u003cb\\u003e"' in page


def test_the_versions_are_pinned_exactly_and_locked() -> None:
    manifest = json.loads((PACKAGE_DIR / "package.json").read_text())
    lock = json.loads((PACKAGE_DIR / "package-lock.json").read_text())
    assert lock["packages"][""]["dependencies"] == manifest["dependencies"]
    for name, version in manifest["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), (name, version)
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    page = graphiql_html()
    for name in ("graphiql", "react", "react-dom"):
        assert f"/{name}@{manifest['dependencies'][name]}/" in page


# --- In a real browser -------------------------------------------------------------------


def chromium_path() -> str:
    path = "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None
    path = path or shutil.which("chromium")
    if path is None:
        skip_or_fail("Debian's chromium is not installed (make browser installs it)")
    return path


@pytest.fixture
def live_server() -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, in a thread of its own."""
    with serve(make_app(), lifespan="off") as url:
        yield url


@pytest.mark.browser
async def test_graphiql_runs_a_query_in_chromium(
    assets_installed: None, live_server: str, tmp_path: Path
) -> None:
    executable = chromium_path()
    requested: list[BrowserRequest] = []
    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(
                viewport={"width": 1280, "height": 800}, service_workers="block"
            )
            context.on("request", lambda request: requested.append(request))
            page = await context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

            await page.goto(f"{live_server}/graphql")
            await expect(page).to_have_title("scholargraph — GraphiQL")
            editor = page.locator(".graphiql-query-editor .CodeMirror")
            await expect(editor).to_contain_text('researcher(slug: "david-bau")')

            await editor.click()
            await page.keyboard.press("Control+A")
            await page.keyboard.press("Delete")
            await page.keyboard.insert_text("{ hello }")
            await expect(editor).to_contain_text("{ hello }")
            await page.locator("button.graphiql-execute-button").click()

            result = page.locator(".graphiql-response .result-window")
            await expect(result).to_contain_text('"hello": "world"', timeout=15_000)
            await page.screenshot(path=tmp_path / "graphiql.png")
        finally:
            await browser.close()

    assert errors == []
    urls = [request.url for request in requested]
    assert f"{live_server}/graphql" in urls
    assert any(request.method == "POST" for request in requested)
    for url in urls:
        parts = urlsplit(url)
        assert parts.scheme in ("data", "blob") or parts.hostname == "127.0.0.1", url
