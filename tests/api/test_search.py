"""Search over HTTP: the same order on both databases, repeated words, and the limits."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import GraphQLClient
from tests.api.factories import add_researcher_with_papers

PAPERS = """
query($query: String!, $first: Int, $after: String) {
  papers(query: $query, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { title }
  }
}
"""
RESEARCHERS = """
query($query: String!) { researchers(query: $query, first: 100) { nodes { name } } }
"""


async def titles(client: GraphQLClient, query: str) -> list[str]:
    data = await client.data(PAPERS, query=query, first=100)
    return [node["title"] for node in data["papers"]["nodes"]]


async def refusal(client: GraphQLClient, query: str) -> dict[str, Any]:
    body = await client.post(PAPERS, query=query)
    assert body["data"] is None
    [error] = body["errors"]
    return {"message": error["message"], "code": error["extensions"]["code"]}


# The README's examples give one order, whichever the database: each test runs on both.


async def test_the_readme_paper_search_ranks_the_same_on_both_databases(
    seeded: GraphQLClient,
) -> None:
    assert await titles(seeded, "diffusion concept erasure") == [
        # Two of the words in each title: the shortest title is the tightest match.
        "Erasing Concepts from Diffusion Models",
        "Unified Concept Editing in Diffusion Models",
        "When Are Concepts Erased From Diffusion Models?",
    ]


async def test_more_words_in_the_title_rank_first_then_shorter_titles(
    seeded: GraphQLClient,
) -> None:
    assert (await titles(seeded, "language models"))[:6] == [
        "Function Vectors in Large Language Models",
        "Language Models use Lookbacks to Track Beliefs",
        "Discovering Forbidden Topics in Language Models",
        "Testing Language Model Agents Safely in the Wild",
        "Linearity of Relation Decoding in Transformer Language Models",
        "The Dual Mechanisms of Spatial Reasoning in Vision-Language Models",
    ]


async def test_search_pages_by_cursor_through_the_same_order(seeded: GraphQLClient) -> None:
    everything = await titles(seeded, "language models")
    paged: list[str] = []
    after = None
    while True:
        page = (await seeded.data(PAPERS, query="language models", first=4, after=after))["papers"]
        paged += [node["title"] for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert paged == everything
    assert len(everything) == 25


async def test_the_readme_researcher_search_orders_by_name_on_both_databases(
    blank: GraphQLClient,
) -> None:
    for name in ["Renee Zhao", "Marie-Renée Dupont", "Renée J. Miller", "René Ebert", "Renee Ahn"]:
        await add_researcher_with_papers(blank.engine, name, [])
    data = await blank.data(RESEARCHERS, query="renee")
    assert [node["name"] for node in data["researchers"]["nodes"]] == [
        "Marie-Renée Dupont",
        "Renee Ahn",
        "Renée J. Miller",
        "Renee Zhao",
    ]


# Repeated words count once; the limits are refused with what they are.


async def test_a_word_repeated_6000_times_finds_what_the_word_finds(seeded: GraphQLClient) -> None:
    for word in ("a", "model", "Relighting"):
        repeated = await seeded.data(PAPERS, query=" ".join([word] * 6000), first=100)
        single = await seeded.data(PAPERS, query=word, first=100)
        assert repeated == single, word
    assert await titles(seeded, "relighting RELIGHTING local Relighting") == [
        "Local Relighting of Real Scenes"
    ]


async def test_a_search_of_stop_words_only_finds_nothing_on_both_databases(
    seeded: GraphQLClient,
) -> None:
    for query in ("a", " ".join(["a"] * 6000), "the of and", "A"):
        data = await seeded.data(PAPERS, query=query, first=100)
        assert data["papers"]["totalCount"] == 0, query
        assert data["papers"]["nodes"] == []
    # Beside other words, a stop word is dropped, not required.
    assert await titles(seeded, "a diffusion concept erasure of the") == await titles(
        seeded, "diffusion concept erasure"
    )


async def test_more_than_32_distinct_words_are_refused(seeded: GraphQLClient) -> None:
    words = [f"w{n}" for n in range(33)]
    assert await refusal(seeded, " ".join(words)) == {
        "message": "Search text is too long: 33 distinct words, 121 characters; a search may"
        " hold at most 32 words and 500 characters (a repeated word counts once).",
        "code": "BAD_USER_INPUT",
    }
    assert await titles(seeded, " ".join(words[:32])) == []


async def test_more_than_500_characters_of_words_are_refused(seeded: GraphQLClient) -> None:
    assert await refusal(seeded, "x" * 501) == {
        "message": "Search text is too long: 1 distinct word, 501 characters; a search may"
        " hold at most 32 words and 500 characters (a repeated word counts once).",
        "code": "BAD_USER_INPUT",
    }
    assert await titles(seeded, "x" * 500) == []
