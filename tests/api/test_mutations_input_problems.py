"""Input problems a newcomer meets in createPaper and updatePaper, each a userErrors entry.

An author name that matches two researchers, an empty byline and a day the
calendar lacks come back like every other problem with the input: with the
field's path and a code, and nothing written.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.api.conftest import GraphQLClient
from tests.api.writes import (
    SOME_AUTHOR,
    counts,
    create_paper,
    create_researcher,
    mutate,
    open_writer,
    succeed,
)

CREATE_PAPER = """
mutation($input: CreatePaperInput!) {
  createPaper(input: $input) {
    paper { title publishedOn authors { researcher { slug } } }
    userErrors { field message code candidates }
  }
}
"""
UPDATE_PAPER = """
mutation($input: UpdatePaperInput!) {
  updatePaper(input: $input) { paper { publishedOn } userErrors { field message code } }
}
"""


@pytest.fixture
async def writer(database_url: str) -> AsyncIterator[GraphQLClient]:
    async for client in open_writer(database_url):
        yield client


async def test_a_name_two_researchers_have_is_ambiguous_and_lists_them(
    writer: GraphQLClient,
) -> None:
    first = await create_researcher(writer, "Jane Smith")
    second = await create_researcher(writer, "Jane Q. Smith")
    await succeed(
        writer,
        "mutation($input: UpdateResearcherInput!) "
        "{ updateResearcher(input: $input) { userErrors { message } } }",
        input={"id": second["id"], "aliases": ["jane smith"]},
    )
    before = await counts(writer)
    byline = [{"name": "Kim Lee"}, {"name": "JANE SMITH"}]
    payload = await mutate(writer, CREATE_PAPER, input={"title": "Who?", "authors": byline})
    assert payload == {
        "paper": None,
        "userErrors": [
            {
                "field": ["input", "authors", "1", "name"],
                "message": "'JANE SMITH' matches several researchers: Jane Smith (jane-smith), "
                "Jane Q. Smith (jane-q-smith). Give the researcherId of the one you mean.",
                "code": "AMBIGUOUS",
                "candidates": [first["id"], second["id"]],
            }
        ],
    }
    assert await counts(writer) == before


async def test_an_ambiguous_name_is_settled_by_a_researcher_id(writer: GraphQLClient) -> None:
    await create_researcher(writer, "Jane Smith")
    chosen = await create_researcher(writer, "Jane Smith")
    byline = [{"researcherId": chosen["id"], "name": "Jane Smith"}]
    payload = await succeed(writer, CREATE_PAPER, input={"title": "Hers", "authors": byline})
    assert payload["paper"]["authors"] == [{"researcher": {"slug": "jane-smith-2"}}]


async def test_other_problems_carry_no_candidates(writer: GraphQLClient) -> None:
    payload = await mutate(writer, CREATE_PAPER, input={"title": " ", "authors": [SOME_AUTHOR]})
    assert payload["userErrors"] == [
        {
            "field": ["input", "title"],
            "message": "The title is empty.",
            "code": "INVALID",
            "candidates": None,
        }
    ]


async def test_a_paper_without_authors_is_invalid(writer: GraphQLClient) -> None:
    payload = await mutate(writer, CREATE_PAPER, input={"title": "Nobody's", "authors": []})
    assert payload == {
        "paper": None,
        "userErrors": [
            {
                "field": ["input", "authors"],
                "message": "A paper has at least one author.",
                "code": "INVALID",
                "candidates": None,
            }
        ],
    }
    assert (await counts(writer))["paper"] == 0


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("2024-02-30", "February 2024 has 29 days, not 30"),
        ("2023-02-29", "February 2023 has 28 days, not 29"),
        ("2024-13-01", "there is no month 13"),
        ("2024-04-00", "days of the month count from 1"),
        ("0000-01-01", "there is no year 0"),
    ],
)
async def test_an_impossible_date_is_a_user_error_with_its_path(
    writer: GraphQLClient, given: str, reason: str
) -> None:
    """Given as a variable and written in the document alike."""
    new = {"title": "Leap", "authors": [SOME_AUTHOR], "publishedOn": given}
    expected = [
        {
            "field": ["input", "publishedOn"],
            "message": f"'{given}' is not a date: {reason}.",
            "code": "INVALID",
            "candidates": None,
        }
    ]
    assert (await mutate(writer, CREATE_PAPER, input=new))["userErrors"] == expected
    inline = CREATE_PAPER.replace("$input: CreatePaperInput!", "").replace(
        "input: $input",
        f'input: {{title: "Leap", authors: [{{name: "Sam Author"}}], publishedOn: "{given}"}}',
    )
    body = await writer.post(inline.replace("mutation()", "mutation"))
    assert body["data"] == {"createPaper": {"paper": None, "userErrors": expected}}
    assert "errors" not in body
    assert (await counts(writer))["paper"] == 0


async def test_update_paper_reports_an_impossible_date_and_keeps_the_stored_one(
    writer: GraphQLClient,
) -> None:
    paper = await create_paper(writer, "Dated", publishedOn="2024-02-29")
    payload = await mutate(
        writer, UPDATE_PAPER, input={"id": paper["id"], "publishedOn": "2024-02-30"}
    )
    assert payload == {
        "paper": None,
        "userErrors": [
            {
                "field": ["input", "publishedOn"],
                "message": "'2024-02-30' is not a date: February 2024 has 29 days, not 30.",
                "code": "INVALID",
            }
        ],
    }
    stored = await writer.data("query($id: ID!) { paper(id: $id) { publishedOn } }", id=paper["id"])
    assert stored == {"paper": {"publishedOn": "2024-02-29"}}


async def test_text_that_is_no_date_at_all_is_still_refused_as_a_request_error(
    writer: GraphQLClient,
) -> None:
    new = {"title": "Leap", "authors": [SOME_AUTHOR], "publishedOn": "last Tuesday"}
    message = await writer.error(CREATE_PAPER, input=new)
    assert message == (
        "Variable '$input' has invalid value at .publishedOn: "
        'Value cannot represent a Date: "last Tuesday". '
        "Invalid isoformat string: 'last Tuesday'"
    )


async def test_a_read_refuses_an_impossible_date_as_a_bad_argument(writer: GraphQLClient) -> None:
    query = '{ papers(filter: {publishedFrom: "2024-02-30"}) { totalCount } }'
    body = await writer.post(query)
    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"] == (
        "publishedFrom: '2024-02-30' is not a date: February 2024 has 29 days, not 30."
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
