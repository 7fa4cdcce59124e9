"""The reference profile page at /researchers/{slug}: served from its build, and in Chromium.

The browser tests open the page for David Bau (the seed: reported figures, no citation counts)
and for a generated researcher with citation counts, on both databases, and compare what the
page shows (header, the figures of both charts, papers with their bylines, coauthors,
categories) with what the API answers to the page's own operation. They press "load more"
from the keyboard, look for console errors and for requests to any other host, and write
screenshots at desktop and 390-px width under build/screenshots/ for a person to look at.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

import api.profile_page
from api.app import create_app
from api.profile_page import BUILD_DIR, NOT_BUILT
from api.settings import Settings
from seeds.generate import generate_corpus
from tests.api.live import serve
from tests.api.test_graphiql import CHROMIUM_ARGS, chromium_path, referenced_urls
from tests.support import skip_or_fail

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "build" / "screenshots"
OPERATION = (REPO / "tests" / "clients" / "operations" / "ProfilePage.graphql").read_text()
PAGE_SIZE = 20


@pytest.fixture
def built() -> None:
    if not (BUILD_DIR / "index.html").is_file():
        skip_or_fail(f"the profile page is not built in {BUILD_DIR}; run make profile-page")


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The app with no lifespan: serving the page needs no database."""
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


# --- Served from the build ---------------------------------------------------------------


async def test_every_slug_gets_the_page_which_names_only_its_own_assets(
    built: None, http: httpx.AsyncClient
) -> None:
    for slug in ("david-bau", "no-such-researcher"):
        response = await http.get(f"/researchers/{slug}")
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert response.headers["cache-control"] == "no-cache"
    urls = referenced_urls(response.text)
    assets = [url for url in urls if url.startswith("/profile-assets/")]
    assert sorted(url.rsplit(".", 1)[-1] for url in assets) == ["css", "js"]
    assert set(urls) - set(assets) == {"data:,", "#papers", "/", "/graphql"}
    for url in assets:
        asset = await http.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        kind = "text/css" if url.endswith(".css") else "text/javascript"
        assert asset.headers["content-type"].startswith(kind)


async def test_the_bundle_fetches_from_no_other_host(built: None) -> None:
    for path in (BUILD_DIR / "assets").glob("*.js"):
        addresses = set(re.findall(r"https?://[\w.-]+[\w./-]*", path.read_text()))
        # Link targets the page builds for papers and iDs; nothing is loaded from them.
        assert addresses <= {"https://arxiv.org/abs/", "https://doi.org/", "https://orcid.org/"}


async def test_assets_are_read_only_and_unknown_ones_are_not_found(
    built: None, http: httpx.AsyncClient
) -> None:
    page = (await http.get("/researchers/david-bau")).text
    script = next(url for url in referenced_urls(page) if url.endswith(".js"))
    assert (await http.post(script)).status_code == 405
    assert (await http.get("/profile-assets/assets/nothing.js")).status_code == 404
    assert (await http.get("/profile-assets/index.html")).status_code == 404
    assert (await http.post("/researchers/david-bau")).status_code == 405


async def test_without_a_build_the_page_and_assets_answer_503(
    monkeypatch: pytest.MonkeyPatch, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    monkeypatch.setattr(api.profile_page, "BUILD_DIR", tmp_path / "dist")
    for url in ("/researchers/david-bau", "/profile-assets/assets/index.js"):
        response = await http.get(url)
        assert response.status_code == 503, url
        assert response.text == NOT_BUILT
    assert (
        NOT_BUILT == "The profile page is not built; run make profile-page (make run builds it too)"
    )
    assert (await http.get("/health")).status_code == 200


BUILD_STEP = "cd api/profile_page && npm run --silent build"


def make_dry_run(*args: str) -> list[str]:
    """The commands `make -n` says it would run, in order."""
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.mark.parametrize(("target", "then"), [("run", "db upgrade"), ("test", "pytest")])
def test_make_builds_a_missing_page_first(tmp_path: Path, target: str, then: str) -> None:
    commands = make_dry_run(target, f"PROFILE_PAGE_BUILD={tmp_path}/dist/index.html")
    assert BUILD_STEP in commands
    later = next(i for i, command in enumerate(commands) if then in command)
    assert commands.index(BUILD_STEP) < later


@pytest.mark.parametrize(
    "changed",
    [
        "api/profile_page/src/main.ts",
        "api/profile_page/index.html",
        "schema.graphql",
        "tests/clients/operations/ProfilePage.graphql",
    ],
)
def test_make_builds_the_page_again_when_a_source_changes(built: None, changed: str) -> None:
    assert BUILD_STEP in make_dry_run("run", "--what-if", changed)


# --- In Chromium -------------------------------------------------------------------------


def backend_of(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def query(base: str, **variables: Any) -> dict[str, Any]:
    """The page's own operation, sent plainly: what the page must show."""
    response = httpx.post(
        f"{base}/graphql", json={"query": OPERATION, "variables": variables}, timeout=30
    )
    body = response.json()
    assert "errors" not in body, body
    researcher: dict[str, Any] = body["data"]["researcher"]
    return researcher


def top_researcher(base: str) -> str:
    """The slug at the head of the h-index leaderboard."""
    document = (
        "{ researchers(first: 1, orderBy: {field: H_INDEX, direction: DESC}) { nodes { slug } } }"
    )
    response = httpx.post(f"{base}/graphql", json={"query": document}, timeout=30)
    slug: str = response.json()["data"]["researchers"]["nodes"][0]["slug"]
    return slug


def every_year(counts: list[dict[str, int]]) -> list[tuple[int, int]]:
    """The chart's series: each year from the first to the last, 0 where the API lists none."""
    if not counts:
        return []
    by_year = {each["year"]: each["count"] for each in counts}
    return [(year, by_year.get(year, 0)) for year in range(min(by_year), max(by_year) + 1)]


def byline(paper: dict[str, Any]) -> str:
    """A byline as printed: placed names, et al. where cut, then the authors not placed."""
    placed = [a["displayName"] for a in paper["authors"] if a["position"] is not None]
    unplaced = [a["displayName"] for a in paper["authors"] if a["position"] is None]
    text = ", ".join(placed)
    if paper["authorsTruncated"]:
        text += (", " if placed else "") + "et al."
    if unplaced:
        text += " · also on the paper, place in the byline unknown: " + ", ".join(unplaced)
    if paper["institutions"]:
        text += " · " + ", ".join(i["name"] for i in paper["institutions"])
    return text


@dataclass
class Watched:
    """What a page did that a test must check: errors it logged, hosts it asked."""

    errors: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> Page:
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("request", lambda request: self.urls.append(request.url))
        return page

    def assert_clean(self) -> None:
        assert self.errors == []
        for url in self.urls:
            parts = urlsplit(url)
            assert parts.scheme in ("data", "blob") or parts.hostname == "127.0.0.1", url


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    executable = chromium_path()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def texts(page: Page, selector: str) -> list[str]:
    return await page.locator(selector).evaluate_all("els => els.map(e => e.textContent)")


async def header_figures(page: Page) -> dict[str, tuple[str, str | None]]:
    """Each figure of the header: computed, and reported (None where the source said none)."""
    rows = await page.locator("[data-figure]").evaluate_all(
        """rows => rows.map(r => [r.dataset.figure,
             r.querySelector('[data-computed]').textContent,
             r.querySelector('[data-reported]')?.textContent ?? null])"""
    )
    return {key: (computed, reported) for key, computed, reported in rows}


async def chart_series(page: Page, chart: str) -> list[tuple[int, int]]:
    rows = await page.locator(f"[data-chart={chart}] tbody tr").evaluate_all(
        "rows => rows.map(r => [r.cells[0].textContent, r.cells[1].textContent])"
    )
    return [(int(year), int(count.replace(",", ""))) for year, count in rows]


async def painted_pixels(page: Page, chart: str) -> int:
    """Pixels Chart.js painted on the chart's canvas (0 for a blank one)."""
    count: int = await page.locator(f"[data-chart={chart}] canvas").evaluate(
        """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                  let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }"""
    )
    return count


def formatted(value: int | None) -> str | None:
    return None if value is None else f"{value:,}"


async def assert_shows_what_the_api_answers(page: Page, expected: dict[str, Any]) -> None:
    metrics, reported = expected["metrics"], expected["reportedMetrics"] or {}
    await expect(page.locator("h1")).to_have_text(expected["name"])
    await expect(page).to_have_title(f"{expected['name']} — scholargraph")
    figures = await header_figures(page)
    assert figures == {
        "hIndex": (formatted(metrics["hIndex"]), formatted(reported.get("hIndex"))),
        "citationCount": (
            formatted(metrics["citationCount"]),
            formatted(reported.get("citationCount")),
        ),
        "paperCount": (formatted(metrics["paperCount"]), formatted(reported.get("paperCount"))),
        "gIndex": (formatted(metrics["gIndex"]), None),
        "i10Index": (formatted(metrics["i10Index"]), None),
        "papersWithCode": (formatted(metrics["papersWithCode"]), None),
    }
    for chart, key in (
        ("papers-per-year", "papersByYear"),
        ("citations-per-year", "citationsByYear"),
    ):
        series = every_year(metrics[key])
        assert await chart_series(page, chart) == series
        if series:
            assert await painted_pixels(page, chart) > 500, chart
    categories = await page.locator("[data-category]").evaluate_all(
        "items => items.map(i => [i.dataset.category, Number(i.dataset.count)])"
    )
    assert categories == [[c["category"]["code"], c["count"]] for c in metrics["categories"]]
    coauthors = await page.locator("[data-coauthor]").evaluate_all(
        "items => items.map(i => [i.querySelector('a').textContent, i.dataset.shared])"
    )
    assert coauthors == [
        [edge["node"]["name"], str(edge["sharedPaperCount"])]
        for edge in expected["coauthors"]["edges"]
    ]
    papers = [edge["node"] for edge in expected["papers"]["edges"]]
    assert await texts(page, "li.paper h3") == [paper["title"] for paper in papers]
    assert await texts(page, "li.paper [data-byline]") == [byline(paper) for paper in papers]


async def load_more_from_the_keyboard(page: Page, all_papers: list[dict[str, Any]]) -> None:
    """Tab to "load more", press Enter, then go on until every paper is shown."""
    button = page.locator("[data-load-more]")
    total = len(all_papers)
    for _ in range(600):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.matches('[data-load-more]')"):
            break
    else:
        pytest.fail("Tab never reached the load-more button")
    await expect(button).to_have_text(f"Load {min(PAGE_SIZE, total - PAGE_SIZE)} more")
    await page.keyboard.press("Enter")
    shown = min(2 * PAGE_SIZE, total)
    await expect(page.locator("li.paper")).to_have_count(shown)
    # Focus moves to where the new papers start, so reading goes on from there.
    focused = await page.evaluate(
        "[...document.querySelectorAll('li.paper')].indexOf("
        "document.activeElement.closest('li.paper'))"
    )
    assert focused == PAGE_SIZE
    while shown < total:
        await button.focus()
        await page.keyboard.press("Space")
        shown = min(shown + PAGE_SIZE, total)
        await expect(page.locator("li.paper")).to_have_count(shown)
    await expect(button).to_be_hidden()
    await expect(page.locator(".papers-status")).to_have_text(f"Showing {total} of {total} papers.")
    assert await texts(page, "li.paper h3") == [paper["title"] for paper in all_papers]
    assert await texts(page, "li.paper [data-byline]") == [byline(p) for p in all_papers]


def screenshot(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


async def check_profile(base: str, slug: str, name: str) -> dict[str, Any]:
    """Open the page at desktop and at 390 px; check everything it shows; screenshots."""
    expected = query(base, slug=slug, first=PAGE_SIZE, coauthors=12)
    total = expected["papers"]["totalCount"]
    all_papers = [
        edge["node"] for edge in query(base, slug=slug, first=100, coauthors=1)["papers"]["edges"]
    ]
    watched = Watched()
    async with chromium() as browser:
        desktop = await browser.new_context(viewport={"width": 1280, "height": 900})
        page = watched.watch(await desktop.new_page())
        await page.goto(f"{base}/researchers/{slug}")
        await assert_shows_what_the_api_answers(page, expected)
        await page.screenshot(path=screenshot(f"{name}-desktop"), full_page=True)
        if total > PAGE_SIZE:
            await load_more_from_the_keyboard(page, all_papers)

        phone = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
        small = watched.watch(await phone.new_page())
        await small.goto(f"{base}/researchers/{slug}")
        await assert_shows_what_the_api_answers(small, expected)
        # Nothing is wider than the screen: no sideways scrolling.
        assert await small.evaluate("document.documentElement.scrollWidth") <= 390
        await small.screenshot(path=screenshot(f"{name}-390px"), full_page=True)
    watched.assert_clean()
    return expected


@pytest.mark.browser
async def test_the_seed_s_page_shows_what_the_api_answers(built: None, seeded_url: str) -> None:
    with serve(create_app(Settings(database_url=seeded_url))) as base:
        expected = await check_profile(
            base, "david-bau", f"profile-david-bau-{backend_of(seeded_url)}"
        )
    # The seed's facts the page must show honestly: 71 reported, 50 stored; counts unknown.
    assert (expected["metrics"]["paperCount"], expected["reportedMetrics"]["paperCount"]) == (
        50,
        71,
    )
    assert expected["metrics"]["citationsByYear"] == []


@pytest.mark.browser
async def test_the_seed_s_page_says_what_is_unknown(built: None, seeded_url: str) -> None:
    with serve(create_app(Settings(database_url=seeded_url))) as base:
        watched = Watched()
        async with chromium() as browser:
            page = watched.watch(await browser.new_page())
            await page.goto(f"{base}/researchers/david-bau")
            await expect(page.locator("[data-chart=citations-per-year] [data-empty]")).to_have_text(
                "No per-year citation counts are stored for these papers yet."
            )
            await expect(page.locator("[data-note=citations-known]")).to_have_text(
                "Citation counts are known for 0 of 50 papers;"
                " the computed figures count only those."
            )
            await expect(page.locator("[data-note=reported]")).to_contain_text(
                "novelty 48% and AI score 60"
            )
            # A cut byline says so, and the owner's unknown place is said, not guessed.
            cut = page.locator("li.paper", has=page.locator("[data-et-al]")).first
            await expect(cut.locator("[data-et-al]")).to_have_attribute(
                "title", "The source cut this byline short"
            )
            unplaced = page.locator("[data-unplaced]").first
            await expect(unplaced).to_have_text("David Bau")
            await expect(page.locator("[data-citations]").first).to_have_text("citations unknown")
            await expect(page.locator("[data-code]").first).to_have_text("Code")
        watched.assert_clean()


@pytest.fixture
async def generated_url(database_url: str) -> str:
    """A small generated corpus: researchers with citation counts, per year too."""
    from db.engine import create_engine

    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await generate_corpus(connection, papers=400, researchers=40, seed=5)
    finally:
        await engine.dispose()
    return database_url


@pytest.mark.browser
async def test_a_generated_researcher_s_page_charts_their_citations(
    built: None, generated_url: str
) -> None:
    with serve(create_app(Settings(database_url=generated_url))) as base:
        top = top_researcher(base)
        expected = await check_profile(base, top, f"profile-generated-{backend_of(generated_url)}")
    metrics = expected["metrics"]
    assert metrics["hIndex"] > 0
    assert metrics["citationsByYear"] != []
    assert expected["papers"]["totalCount"] > PAGE_SIZE  # so "load more" was pressed
    assert expected["reportedMetrics"] is None


@pytest.mark.browser
async def test_an_unknown_slug_says_there_is_no_such_researcher(
    built: None, seeded_url: str
) -> None:
    with serve(create_app(Settings(database_url=seeded_url))) as base:
        watched = Watched()
        async with chromium() as browser:
            page = watched.watch(await browser.new_page())
            await page.goto(f"{base}/researchers/nobody-at-all")
            await expect(page.locator("[data-not-found]")).to_have_text(
                "No researcher has the handle “nobody-at-all”."
            )
            await expect(page).to_have_title("No such researcher — scholargraph")
        watched.assert_clean()


@pytest.mark.browser
async def test_the_start_page_reaches_the_profile_and_graphiql_in_one_click_each(
    built: None, seeded_url: str
) -> None:
    with serve(create_app(Settings(database_url=seeded_url))) as base:
        watched = Watched()
        async with chromium() as browser:
            page = watched.watch(await browser.new_page(viewport={"width": 1280, "height": 900}))
            await page.goto(f"{base}/")
            await page.screenshot(path=screenshot(f"start-page-{backend_of(seeded_url)}"))
            await page.get_by_role("link", name="David Bau's profile page").click()
            await expect(page).to_have_url(f"{base}/researchers/david-bau")
            await expect(page.locator("h1")).to_have_text("David Bau")
            await page.goto(f"{base}/")
            await page.get_by_role("link", name="GraphiQL: explore the API").click()
            await expect(page).to_have_url(f"{base}/graphql")
            await expect(page).to_have_title("scholargraph — GraphiQL")
            await expect(page.locator(".graphiql-query-editor")).to_be_visible()
        watched.assert_clean()
