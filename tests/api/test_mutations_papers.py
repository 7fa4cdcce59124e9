"""createPaper, updatePaper and deletePaper over HTTP, on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.api.conftest import GraphQLClient
from tests.api.writes import (
    CREATE_PAPER,
    SOME_AUTHOR,
    counts,
    create_paper,
    create_researcher,
    mutate,
    open_writer,
    succeed,
)

UPDATE_PAPER = """
mutation($input: UpdatePaperInput!) {
  updatePaper(input: $input) {
    paper { id title abstract publishedOn year hasCode codeUrl arxivId doi primaryCategory { code }
            categories { code } citationCount }
    userErrors { field message code }
  }
}
"""

DELETE_PAPER = """
mutation($id: ID!) { deletePaper(id: $id) { deletedId userErrors { field message code } } }
"""


@pytest.fixture
async def writer(database_url: str) -> AsyncIterator[GraphQLClient]:
    async for client in open_writer(database_url):
        yield client


async def test_create_paper_stores_the_byline_in_order_matching_and_creating_researchers(
    writer: GraphQLClient,
) -> None:
    bau = await create_researcher(writer, "David Bau")
    paper = await create_paper(
        writer,
        "  Locating and Editing Factual Associations in GPT ",
        abstract="We find that facts live in MLP layers.",
        publishedOn="2022-02-10",
        primaryCategory="cs.CL",
        authors=[
            {"name": "Kevin Meng"},
            {"researcherId": bau["id"], "name": "D. Bau"},
            {"name": "yonatan BELINKOV"},
        ],
        institutions=["mit", "new-lab", "mit"],
        codeUrl="https://github.com/kmeng01/rome",
        arxivId="2202.05262v5",
        doi="https://doi.org/10.48550/ARXIV.2202.05262",
        citationCount=1200,
    )
    assert {k: v for k, v in paper.items() if k not in {"id", "authors"}} == {
        "title": "Locating and Editing Factual Associations in GPT",
        "abstract": "We find that facts live in MLP layers.",
        "publishedOn": "2022-02-10",
        "year": 2022,
        "hasCode": True,
        "codeUrl": "https://github.com/kmeng01/rome",
        "arxivId": "2202.05262v5",
        "doi": "10.48550/arxiv.2202.05262",
        "citationCount": 1200,
        "authorsTruncated": False,
        "primaryCategory": {"code": "cs.CL"},
        "categories": [{"code": "cs.CL"}],
        "institutions": [
            {"slug": "mit", "name": "Massachusetts Institute of Technology"},
            {"slug": "new-lab", "name": "New Lab"},
        ],
    }
    assert [
        (a["position"], a["displayName"], a["researcher"]["slug"]) for a in paper["authors"]
    ] == [
        (1, "Kevin Meng", "kevin-meng"),
        (2, "D. Bau", "david-bau"),
        (3, "yonatan BELINKOV", "yonatan-belinkov"),
    ]
    assert paper["authors"][1]["researcher"]["id"] == bau["id"]
    # A later paper names the same people differently: they are matched, not created again.
    again = await create_paper(
        writer,
        "Mass-Editing Memory",
        authors=[{"name": "Yonatan Belinkov"}, {"name": "kevin meng"}],
    )
    assert [a["researcher"]["slug"] for a in again["authors"]] == ["yonatan-belinkov", "kevin-meng"]
    assert (await counts(writer))["researcher"] == 3


async def test_a_new_researcher_whose_slug_is_taken_gets_a_suffix(writer: GraphQLClient) -> None:
    await create_researcher(writer, "Jane Smith")
    paper = await create_paper(writer, "A", authors=[{"name": "Jane-Smith"}])
    # By name, the one Jane Smith is matched (two would be AMBIGUOUS).
    assert paper["authors"][0]["researcher"]["slug"] == "jane-smith"
    await create_researcher(writer, "Jane Smith")  # another person of the same name
    created = await create_researcher(writer, "Jane  Smith")
    assert created["slug"] == "jane-smith-3"


async def test_create_paper_reports_every_problem_at_once_and_writes_nothing(
    writer: GraphQLClient,
) -> None:
    await create_paper(writer, "Taken", doi="10.1000/taken", arxivId="2101.00001")
    before = await counts(writer)
    payload = await mutate(
        writer,
        CREATE_PAPER,
        input={
            "title": "   ",
            "primaryCategory": "cs.XX",
            "doi": "10.1000/TAKEN",
            "arxivId": "2101.00001",
            "citationCount": -3,
            "codeUrl": "github.com/x",
            "institutions": ["Not A Slug"],
            "authors": [
                {"name": "Ada Lovelace"},
                {},
                {"name": "  "},
                {"researcherId": "UmVzZWFyY2hlcjo5OTk"},  # Researcher:999
                {"researcherId": "not-an-id"},
                {"name": "ada LOVELACE"},
            ],
        },
    )
    assert payload["paper"] is None
    assert sorted((tuple(e["field"]), e["code"]) for e in payload["userErrors"]) == sorted(
        [
            (("input", "title"), "INVALID"),
            (("input", "primaryCategory"), "INVALID"),
            (("input", "doi"), "CONFLICT"),
            (("input", "arxivId"), "CONFLICT"),
            (("input", "citationCount"), "INVALID"),
            (("input", "codeUrl"), "INVALID"),
            (("input", "institutions", "0"), "INVALID"),
            (("input", "authors", "1"), "INVALID"),
            (("input", "authors", "2", "name"), "INVALID"),
            (("input", "authors", "3", "researcherId"), "NOT_FOUND"),
            (("input", "authors", "4", "researcherId"), "INVALID"),
            (("input", "authors", "5"), "INVALID"),
        ]
    )
    messages = {tuple(e["field"]): e["message"] for e in payload["userErrors"]}
    assert messages[("input", "title")] == "The title is empty."
    assert messages[("input", "authors", "5")] == "The same researcher as author 1."
    assert messages[("input", "doi")].endswith("has this DOI.")
    assert await counts(writer) == before


async def test_a_title_over_the_limit_is_invalid(writer: GraphQLClient) -> None:
    payload = await mutate(
        writer, CREATE_PAPER, input={"title": "x" * 1001, "authors": [SOME_AUTHOR]}
    )
    assert payload["userErrors"] == [
        {
            "field": ["input", "title"],
            "message": "The title is longer than 1000 characters.",
            "code": "INVALID",
        }
    ]


async def test_a_new_paper_is_found_by_search_in_the_next_request(writer: GraphQLClient) -> None:
    paper = await create_paper(writer, "Quokka sightings in transformer circuits")
    data = await writer.data('{ papers(query: "quokka") { nodes { id title } } }')
    assert data["papers"]["nodes"] == [
        {"id": paper["id"], "title": "Quokka sightings in transformer circuits"}
    ]


async def test_update_paper_changes_only_the_given_fields(writer: GraphQLClient) -> None:
    paper = await create_paper(
        writer,
        "Old title",
        abstract="Old abstract.",
        publishedOn="2020-05-01",
        primaryCategory="cs.LG",
        doi="10.1000/a",
        citationCount=7,
    )
    payload = await succeed(
        writer,
        UPDATE_PAPER,
        input={
            "id": paper["id"],
            "title": "Zebrafish title",
            "abstract": None,
            "primaryCategory": "cs.CV",
        },
    )
    assert payload["paper"] == {
        "id": paper["id"],
        "title": "Zebrafish title",
        "abstract": None,
        "publishedOn": "2020-05-01",
        "year": 2020,
        "hasCode": False,
        "codeUrl": None,
        "arxivId": None,
        "doi": "10.1000/a",
        "primaryCategory": {"code": "cs.CV"},
        "categories": [{"code": "cs.CV"}],
        "citationCount": 7,
    }
    found = await writer.data(
        '{ papers(query: "zebrafish", orderBy: {field: TITLE, direction: ASC}) { nodes { id } } }'
    )
    assert found["papers"]["nodes"] == [{"id": paper["id"]}]
    assert (await writer.data('{ papers(query: "old") { totalCount } }'))["papers"] == {
        "totalCount": 0
    }


async def test_update_paper_refuses_bad_input_and_writes_nothing(writer: GraphQLClient) -> None:
    first = await create_paper(writer, "First", doi="10.1000/first")
    second = await create_paper(writer, "Second")
    before = await counts(writer)
    payload = await mutate(
        writer,
        UPDATE_PAPER,
        input={"id": second["id"], "title": None, "hasCode": None, "doi": "10.1000/FIRST"},
    )
    assert payload == {
        "paper": None,
        "userErrors": [
            {
                "field": ["input", "title"],
                "message": "The title cannot be null.",
                "code": "INVALID",
            },
            {
                "field": ["input", "hasCode"],
                "message": "hasCode cannot be null.",
                "code": "INVALID",
            },
            {
                "field": ["input", "doi"],
                "message": f"Paper {first['id']} has this DOI.",
                "code": "CONFLICT",
            },
        ],
    }
    # A paper keeps its own DOI without a conflict.
    await succeed(writer, UPDATE_PAPER, input={"id": first["id"], "doi": "10.1000/first"})
    missing = await mutate(writer, UPDATE_PAPER, input={"id": "UGFwZXI6OTk5", "title": "x"})
    assert missing["userErrors"] == [
        {"field": ["input", "id"], "message": "No paper has this ID.", "code": "NOT_FOUND"}
    ]
    wrong_type = await mutate(writer, UPDATE_PAPER, input={"id": "UmVzZWFyY2hlcjox"})
    assert wrong_type["userErrors"] == [
        {
            "field": ["input", "id"],
            "message": "ID 'UmVzZWFyY2hlcjox' is a Researcher, not a Paper.",
            "code": "INVALID",
        }
    ]
    assert await counts(writer) == before


async def test_delete_paper_takes_its_rows_along_and_leaves_its_researchers(
    writer: GraphQLClient,
) -> None:
    paper = await create_paper(
        writer,
        "Doomed",
        primaryCategory="cs.AI",
        authors=[{"name": "Ann Author"}, {"name": "Bo Author"}],
        institutions=["mit"],
    )
    await succeed(
        writer,
        """mutation($id: ID!) { setCitationCounts(input: [{paperId: $id, total: 3,
             byYear: [{year: 2024, count: 3}]}]) { userErrors { message } } }""",
        id=paper["id"],
    )
    payload = await succeed(writer, DELETE_PAPER, id=paper["id"])
    assert payload == {"deletedId": paper["id"], "userErrors": []}
    after = await counts(writer)
    for table in ("paper", "authorship", "paper_category", "paper_institution", "citation_year"):
        assert after[table] == 0, table
    assert after["researcher"] == 2
    assert after["institution"] == 1
    assert (await writer.data("query($id: ID!) { node(id: $id) { id } }", id=paper["id"])) == {
        "node": None
    }
    again = await mutate(writer, DELETE_PAPER, id=paper["id"])
    assert again == {
        "deletedId": None,
        "userErrors": [{"field": ["id"], "message": "No paper has this ID.", "code": "NOT_FOUND"}],
    }
