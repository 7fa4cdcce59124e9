"""Done when: a client with a token builds a researcher's record from nothing through the API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.api.conftest import GraphQLClient, open_client
from tests.api.writes import (
    CREATE_PAPER,
    CREATE_RESEARCHER,
    SET_CITATION_COUNTS,
    add_token,
    counts,
    succeed,
)

H_INDEX = """
query($id: ID!) {
  node(id: $id) { ... on Researcher { metrics { hIndex paperCount citationCount } } }
}
"""
COAUTHORS = """
query($id: ID!) {
  node(id: $id) {
    ... on Researcher { coauthors(first: 5) { edges { sharedPaperCount node { name } } } }
  }
}
"""


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[GraphQLClient]:
    async for opened in open_client(database_url):
        yield opened


async def _h_index(client: GraphQLClient, researcher_id: str) -> int:
    data = await client.data(H_INDEX, id=researcher_id)
    return int(data["node"]["metrics"]["hIndex"])


async def _refused(client: GraphQLClient, authorization: str | None) -> str:
    headers = {} if authorization is None else {"Authorization": authorization}
    body = (
        await client.http.post(
            "/graphql",
            json={"query": CREATE_RESEARCHER, "variables": {"input": {"name": "Intruder"}}},
            headers=headers,
        )
    ).json()
    assert body["data"] is None
    return str(body["errors"][0]["extensions"]["code"])


async def test_a_client_with_a_token_builds_a_record_and_watches_the_h_index_grow(
    client: GraphQLClient,
) -> None:
    # Without a valid token nothing can be written.
    reader = await add_token(client.engine, "reader", scopes=("read",))
    empty = await counts(client)
    assert await _refused(client, None) == "UNAUTHENTICATED"
    assert await _refused(client, "Bearer sg_guessed") == "UNAUTHENTICATED"
    assert await _refused(client, f"Bearer {reader}") == "FORBIDDEN"
    assert await counts(client) == empty

    client.http.headers["Authorization"] = f"Bearer {await add_token(client.engine)}"
    marie = (await succeed(client, CREATE_RESEARCHER, input={"name": "Marie Curie"}))["researcher"]
    assert await _h_index(client, marie["id"]) == 0

    papers = []
    for title, coauthors in [
        ("Radioactive substances", ["Pierre Curie"]),
        ("On a new radioactive substance", ["Pierre Curie", "Gustave Bémont"]),
        ("Traité de radioactivité", []),
    ]:
        byline = [{"researcherId": marie["id"]}, *({"name": name} for name in coauthors)]
        payload = await succeed(
            client,
            CREATE_PAPER,
            input={"title": title, "authors": byline, "publishedOn": "1904-01-01"},
        )
        papers.append(payload["paper"]["id"])
    assert await _h_index(client, marie["id"]) == 0  # counts are unknown, not zero

    await succeed(client, SET_CITATION_COUNTS, input=[{"paperId": papers[0], "total": 5}])
    assert await _h_index(client, marie["id"]) == 1
    await succeed(
        client,
        SET_CITATION_COUNTS,
        input=[{"paperId": papers[1], "total": 3}, {"paperId": papers[2], "total": 1}],
    )
    assert await _h_index(client, marie["id"]) == 2
    metrics = (await client.data(H_INDEX, id=marie["id"]))["node"]["metrics"]
    assert metrics == {"hIndex": 2, "paperCount": 3, "citationCount": 9}
    coauthors = (await client.data(COAUTHORS, id=marie["id"]))["node"]["coauthors"]["edges"]
    assert coauthors == [
        {"sharedPaperCount": 2, "node": {"name": "Pierre Curie"}},
        {"sharedPaperCount": 1, "node": {"name": "Gustave Bémont"}},
    ]

    # A revoked or read-only token cannot undo any of it.
    client.http.headers["Authorization"] = f"Bearer {reader}"
    body = (
        await client.http.post(
            "/graphql",
            json={
                "query": SET_CITATION_COUNTS,
                "variables": {"input": [{"paperId": papers[0], "total": 0}]},
            },
        )
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await _h_index(client, marie["id"]) == 2
