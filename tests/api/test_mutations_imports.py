"""importProfile over HTTP: the command line's loader, idempotent and all or nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from seeds.manifest import SEEDS_DIR
from tests.api.conftest import GraphQLClient
from tests.api.factories import SMALL_PROFILE_TEXT as SMALL
from tests.api.writes import counts, mutate, open_writer, succeed

IMPORT = """
mutation($input: ImportProfileInput!) {
  importProfile(input: $input) {
    researcher { slug name reportedMetrics { source capturedYear hIndex paperCount } }
    papersCreated
    papersUpdated
    userErrors { field message code }
  }
}
"""

PROFILE = (SEEDS_DIR / "profile-david-bau.txt").read_text(encoding="utf-8")


@pytest.fixture
async def writer(database_url: str) -> AsyncIterator[GraphQLClient]:
    async for client in open_writer(database_url):
        yield client


async def test_importing_a_profile_twice_changes_nothing_the_second_time(
    writer: GraphQLClient,
) -> None:
    variables = {"format": "PROFILE_TEXT", "text": PROFILE, "undatedYear": 2026}
    first = await succeed(writer, IMPORT, input=variables)
    assert first["papersCreated"] == 50
    assert first["papersUpdated"] == 0
    assert first["researcher"] == {
        "slug": "david-bau",
        "name": "David Bau",
        "reportedMetrics": {
            "source": "profile text sent to importProfile",
            "capturedYear": 2026,
            "hIndex": 55,
            "paperCount": 71,
        },
    }
    stored = await counts(writer)
    second = await succeed(writer, IMPORT, input=variables)
    assert (second["papersCreated"], second["papersUpdated"]) == (0, 0)
    assert await counts(writer) == stored


async def test_undated_entries_take_the_current_year_by_default(writer: GraphQLClient) -> None:
    payload = await succeed(
        writer, IMPORT, input={"format": "PROFILE_TEXT", "text": SMALL, "source": "ada's page"}
    )
    year = datetime.now(UTC).year
    assert payload["researcher"]["reportedMetrics"] == {
        "source": "ada's page",
        "capturedYear": year,
        "hIndex": 3,
        "paperCount": 2,
    }
    papers = await writer.data("{ papers { nodes { title publishedOn hasCode } } }")
    assert papers["papers"]["nodes"] == [
        {
            "title": "Notes on the Analytical Engine",
            "publishedOn": f"{year}-03-03",
            "hasCode": True,
        }
    ]


async def test_a_line_that_does_not_parse_is_a_user_error_and_nothing_is_written(
    writer: GraphQLClient,
) -> None:
    broken = SMALL.replace("LGMar 3Code", "LG Foo 3, 2020")
    before = await counts(writer)
    payload = await mutate(
        writer, IMPORT, input={"format": "PROFILE_TEXT", "text": broken, "undatedYear": 1066}
    )
    assert payload["researcher"] is None
    assert (payload["papersCreated"], payload["papersUpdated"]) == (0, 0)
    [year_error, text_error] = payload["userErrors"]
    assert year_error["field"] == ["input", "undatedYear"]
    assert year_error["code"] == "INVALID"
    assert text_error["field"] == ["input", "text"]
    assert text_error["code"] == "INVALID"
    assert text_error["message"].startswith("Line 9: expected ")
    assert await counts(writer) == before


@pytest.mark.parametrize("year", [0, 10_000])
async def test_an_undated_year_outside_the_calendar_is_a_user_error(
    writer: GraphQLClient, year: int
) -> None:
    # Was a masked fault: the parser refused the year that validation had already reported.
    before = await counts(writer)
    payload = await mutate(
        writer, IMPORT, input={"format": "PROFILE_TEXT", "text": SMALL, "undatedYear": year}
    )
    assert payload["researcher"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "undatedYear"], "INVALID")
    ]
    assert await counts(writer) == before
