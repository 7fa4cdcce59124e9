"""Fetching one object: by global ID, slug, external ids; unknown ones are null."""

from __future__ import annotations

import pytest

from tests.api.conftest import GraphQLClient


async def first_ids(client: GraphQLClient) -> dict[str, str]:
    data = await client.data(
        """{ researcher(slug: "david-bau") { id papers(first: 1) { nodes { id title } } }
             institution(slug: "mit") { id } }"""
    )
    return {
        "researcher": data["researcher"]["id"],
        "paper": data["researcher"]["papers"]["nodes"][0]["id"],
        "institution": data["institution"]["id"],
    }


async def test_node_refetches_every_kind_of_object(seeded: GraphQLClient) -> None:
    ids = await first_ids(seeded)
    data = await seeded.data(
        """query($ids: [ID!]!) { nodes(ids: $ids) {
             __typename id
             ... on Researcher { slug }
             ... on Institution { slug }
             ... on Paper { year }
           } }""",
        ids=[ids["researcher"], ids["institution"], ids["paper"]],
    )
    assert data["nodes"] == [
        {"__typename": "Researcher", "id": ids["researcher"], "slug": "david-bau"},
        {"__typename": "Institution", "id": ids["institution"], "slug": "mit"},
        {"__typename": "Paper", "id": ids["paper"], "year": 2026},
    ]
    single = await seeded.data("query($id: ID!) { node(id: $id) { id } }", id=ids["paper"])
    assert single == {"node": {"id": ids["paper"]}}


async def test_researcher_lookups_agree(seeded: GraphQLClient) -> None:
    ids = await first_ids(seeded)
    data = await seeded.data(
        "query($id: ID!) { a: researcher(id: $id) { slug }"
        ' b: researcher(slug: "david-bau") { slug } }',
        id=ids["researcher"],
    )
    assert data == {"a": {"slug": "david-bau"}, "b": {"slug": "david-bau"}}


@pytest.mark.parametrize(
    "query",
    [
        '{ researcher(slug: "nobody") { id } }',
        '{ researcher(orcid: "0000-0002-1825-0097") { id } }',  # well formed, not stored
        '{ paper(arxivId: "2210.07229") { id } }',
        '{ paper(doi: "10.1000/none") { id } }',
        '{ institution(slug: "nowhere") { id } }',
        '{ node(id: "UGFwZXI6OTk5OTk") { id } }',
    ],
)
async def test_unknown_lookups_are_null_without_an_error(seeded: GraphQLClient, query: str) -> None:
    body = await seeded.post(query)
    assert "errors" not in body
    assert list(body["data"].values()) == [None]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('{ researcher(slug: "a", orcid: "b") { id } }', "Give exactly one of id, slug and orcid."),
        ("{ researcher { id } }", "Give exactly one of id, slug and orcid."),
        ('{ paper(arxivId: "a", doi: "b") { id } }', "Give exactly one of id, arxivId and doi."),
        ("{ institution { id } }", "Give exactly one of id and slug."),
        ('{ node(id: "garbage!") { id } }', "Not a valid ID: 'garbage!'."),
        # Researcher:2147483648 and Paper:9223372036854775808, past 32 and 64 bits: the
        # fuzz run's finds, masked faults on PostgreSQL and on SQLite before.
        (
            '{ node(id: "UmVzZWFyY2hlcjoyMTQ3NDgzNjQ4") { id } }',
            "Not a valid ID: 'UmVzZWFyY2hlcjoyMTQ3NDgzNjQ4'.",
        ),
        (
            '{ paper(id: "UGFwZXI6OTIyMzM3MjAzNjg1NDc3NTgwOA") { id } }',
            "Not a valid ID: 'UGFwZXI6OTIyMzM3MjAzNjg1NDc3NTgwOA'.",
        ),
    ],
)
async def test_ambiguous_or_malformed_lookups_are_errors(
    seeded: GraphQLClient, query: str, message: str
) -> None:
    body = await seeded.post(query)
    [error] = body["errors"]
    assert error["message"] == message
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}


@pytest.mark.parametrize(
    ("query", "variables", "message"),
    [
        (
            '{ institution(slug: "mit\\u0000") { id } }',
            {},
            "Text may not contain the NUL character (U+0000).",
        ),
        (
            "query($slug: String) { researcher(slug: $slug) { id } }",
            {"slug": "david-bau\x00"},
            "Variable $slug: text may not contain the NUL character (U+0000).",
        ),
        (
            "query($filter: PaperFilter) { papers(filter: $filter) { totalCount } }",
            {"filter": {"categories": ["cs.CL", "cs.\x00"]}},
            "Variable $filter: text may not contain the NUL character (U+0000).",
        ),
    ],
)
async def test_text_with_a_nul_character_is_a_request_error(
    seeded: GraphQLClient, query: str, variables: dict[str, object], message: str
) -> None:
    # PostgreSQL's text cannot hold NUL: these were masked faults there (the fuzz run's find).
    response = await seeded.http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Accept": "application/graphql-response+json"},
    )
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert body["errors"] == [{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}]


async def test_an_id_of_another_type_is_refused(seeded: GraphQLClient) -> None:
    ids = await first_ids(seeded)
    message = await seeded.error("query($id: ID!) { researcher(id: $id) { id } }", id=ids["paper"])
    assert message == f"ID {ids['paper']!r} is a Paper, not a Researcher."


async def test_categories_list_the_whole_taxonomy_with_paper_counts(seeded: GraphQLClient) -> None:
    categories = (await seeded.data("{ categories { code name paperCount } }"))["categories"]
    by_code = {c["code"]: c for c in categories}
    assert len(categories) == 69
    assert by_code["cs.CL"] == {
        "code": "cs.CL",
        "name": "Computation and Language",
        "paperCount": 17,
    }
    assert by_code["math"]["paperCount"] == 0


async def test_corpus_stats_add_up_everything(seeded: GraphQLClient) -> None:
    corpus = (
        await seeded.data(
            "{ corpus { researcherCount paperCount citationCount papersByYear { year count }"
            " categories { category { code } count } } }"
        )
    )["corpus"]
    assert (corpus["researcherCount"], corpus["paperCount"], corpus["citationCount"]) == (90, 50, 0)
    assert sum(y["count"] for y in corpus["papersByYear"]) == 50
    assert corpus["categories"][0] == {"category": {"code": "cs.CL"}, "count": 17}


async def test_an_institution_lists_the_papers_that_print_it(seeded: GraphQLClient) -> None:
    data = await seeded.data(
        '{ institution(slug: "microsoft-research") { name papers { totalCount nodes { title } }'
        " researchers { totalCount } } }"
    )
    institution = data["institution"]
    assert institution["name"] == "Microsoft Research"
    assert institution["papers"]["totalCount"] == 2
    assert {n["title"] for n in institution["papers"]["nodes"]} == {
        "Linearity of Relation Decoding in Transformer Language Models",
        "FIND: A Function Description Benchmark for Evaluating Interpretability Methods",
    }
    # The profile prints institutions per paper without saying whose they are.
    assert institution["researchers"]["totalCount"] == 0
