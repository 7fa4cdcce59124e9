"""A client that may write: the app over a database of the test's own, with a bearer token."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from db.queries import tokens
from db.queries.stats import row_counts
from resolvers.auth import hash_secret, new_secret
from tests.api.conftest import GraphQLClient, open_client


async def add_token(
    engine: AsyncEngine, name: str = "tester", scopes: Sequence[str] = ("write",)
) -> str:
    """A stored token; returns its secret."""
    secret = new_secret()
    async with engine.begin() as connection:
        await tokens.insert_token(
            connection,
            name=name,
            secret_hash=hash_secret(secret),
            scopes=scopes,
            now=datetime.now(UTC),
        )
    return secret


async def open_writer(url: str) -> AsyncIterator[GraphQLClient]:
    """A client whose requests carry a token with the write scope."""
    async for client in open_client(url):
        secret = await add_token(client.engine)
        client.http.headers["Authorization"] = f"Bearer {secret}"
        yield client


async def counts(client: GraphQLClient) -> dict[str, int]:
    """Rows per table, to show that a refused write wrote nothing."""
    async with client.engine.connect() as connection:
        return await row_counts(connection)


async def mutate(client: GraphQLClient, document: str, **variables: Any) -> dict[str, Any]:
    """The payload of a one-field mutation that ran (it may carry userErrors)."""
    data = await client.data(document, **variables)
    [payload] = data.values()
    assert isinstance(payload, dict)
    return payload


async def succeed(client: GraphQLClient, document: str, **variables: Any) -> dict[str, Any]:
    """The payload of a mutation that must write."""
    payload = await mutate(client, document, **variables)
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload


CREATE_RESEARCHER = """
mutation($input: CreateResearcherInput!) {
  createResearcher(input: $input) {
    researcher { id slug name orcid openalexId semanticScholarId homepage aliases }
    userErrors { field message code }
  }
}
"""

CREATE_PAPER = """
mutation($input: CreatePaperInput!) {
  createPaper(input: $input) {
    paper {
      id title abstract publishedOn year hasCode codeUrl arxivId doi citationCount
      authorsTruncated primaryCategory { code } categories { code }
      authors { position displayName researcher { id slug name } }
      institutions { slug name }
    }
    userErrors { field message code }
  }
}
"""

SET_CITATION_COUNTS = """
mutation($input: [CitationCountInput!]!) {
  setCitationCounts(input: $input) {
    papers { id citationCount citationsByYear { year count } }
    userErrors { field message code }
  }
}
"""


async def create_researcher(client: GraphQLClient, name: str, **fields: Any) -> dict[str, Any]:
    payload = await succeed(client, CREATE_RESEARCHER, input={"name": name, **fields})
    researcher: dict[str, Any] = payload["researcher"]
    return researcher


# A paper needs an author; tests that do not care about the byline get this one.
SOME_AUTHOR = {"name": "Sam Author"}


async def create_paper(client: GraphQLClient, title: str, **fields: Any) -> dict[str, Any]:
    fields.setdefault("authors", [SOME_AUTHOR])
    payload = await succeed(client, CREATE_PAPER, input={"title": title, **fields})
    paper: dict[str, Any] = payload["paper"]
    return paper
