"""researcher(orcid:) reads an iD the way createResearcher does, on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.api.conftest import GraphQLClient
from tests.api.writes import create_researcher, open_writer

LOOKUP = "query($orcid: String!) { researcher(orcid: $orcid) { slug orcid } }"


@pytest.fixture
async def writer(database_url: str) -> AsyncIterator[GraphQLClient]:
    async for client in open_writer(database_url):
        yield client


@pytest.mark.parametrize(
    "given",
    [
        "0000-0002-1825-0097",
        "https://orcid.org/0000-0002-1825-0097",
        "http://orcid.org/0000-0002-1825-0097/",
        " orcid.org/0000-0002-1825-0097 ",
    ],
)
async def test_a_lookup_accepts_every_form_a_write_accepts(
    writer: GraphQLClient, given: str
) -> None:
    await create_researcher(
        writer, "Josiah Carberry", orcid="https://orcid.org/0000-0002-1825-0097"
    )
    data = await writer.data(LOOKUP, orcid=given)
    assert data == {"researcher": {"slug": "josiah-carberry", "orcid": "0000-0002-1825-0097"}}


async def test_an_x_check_digit_matches_in_either_case(writer: GraphQLClient) -> None:
    await create_researcher(writer, "Someone", orcid="0000-0002-1694-233X")
    data = await writer.data(LOOKUP, orcid="https://orcid.org/0000-0002-1694-233x")
    assert data == {"researcher": {"slug": "someone", "orcid": "0000-0002-1694-233X"}}


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        (
            "0000-0002-1825-0098",
            "its check digit (the last character) does not match the other 15 digits,"
            " so one of them is probably mistyped.",
        ),
        (
            "https://orcid.org/0000-0002-1825",
            "an iD is four groups of four digits joined by hyphens, the last character 0-9"
            " or X, alone or after https://orcid.org/.",
        ),
    ],
)
async def test_a_malformed_lookup_is_an_error_that_says_why(
    seeded: GraphQLClient, given: str, reason: str
) -> None:
    body = await seeded.post(LOOKUP, orcid=given)
    [error] = body["errors"]
    assert error["message"] == f"{given!r} is not an ORCID iD: {reason}"
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert error["path"] == ["researcher"]
    assert body["data"] == {"researcher": None}
