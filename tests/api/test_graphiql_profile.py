"""The README's first query, pasted into GraphiQL on the real app, in headless Chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect

from api.app import create_app
from api.settings import Settings
from tests.api.live import serve
from tests.api.test_graphiql import CHROMIUM_ARGS, assets_installed, chromium_path

README = Path(__file__).resolve().parents[2] / "README.md"

__all__ = ["assets_installed"]  # a fixture, requested by name below


def first_query() -> str:
    match = re.search(r"```graphql\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert match, "README.md has no graphql example"
    return match.group(1)


@pytest.mark.browser
async def test_the_readme_profile_query_shows_the_profile_in_graphiql(
    assets_installed: None, seeded_url: str
) -> None:
    executable = chromium_path()
    with serve(create_app(Settings(database_url=seeded_url))) as url:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=executable, args=CHROMIUM_ARGS
            )
            try:
                page = await browser.new_page(viewport={"width": 1280, "height": 900})
                await page.goto(f"{url}/graphql")
                editor = page.locator(".graphiql-query-editor .CodeMirror")
                await expect(editor).to_contain_text("david-bau")
                await editor.click()
                await page.keyboard.press("Control+A")
                await page.keyboard.press("Delete")
                await page.keyboard.insert_text(first_query())
                await page.locator("button.graphiql-execute-button").click()
                result = page.locator(".graphiql-response .result-window")
                await expect(result).to_contain_text('"name": "David Bau"', timeout=20_000)
                # The result pane draws only the lines in view; read the whole of it.
                shown = await page.evaluate(
                    "() => document.querySelector('.graphiql-response .CodeMirror')"
                    ".CodeMirror.getValue()"
                )
            finally:
                await browser.close()
    researcher = json.loads(shown)["data"]["researcher"]
    assert researcher["name"] == "David Bau"
    assert researcher["papers"]["totalCount"] == 50
    assert len(researcher["papers"]["nodes"]) == 50
    first_coauthor = researcher["coauthors"]["edges"][0]
    assert (first_coauthor["node"]["name"], first_coauthor["sharedPaperCount"]) == (
        "Rohit Gandikota",
        8,
    )
    assert researcher["metrics"]["categories"][0]["category"]["code"] == "cs.CL"
