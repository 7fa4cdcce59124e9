"""Find-or-create under concurrent writers: one row per natural key, on both databases.

Each test fires its requests at once through the ASGI app, as
test_mutations_concurrency does. On PostgreSQL the writers run side by side
and queue on advisory locks of the keys they find or create (db.writes.locks);
on SQLite BEGIN IMMEDIATE queues them. Either way the end state is what the
requests would have made one after another, and a loser of a race for a
unique value hears CONFLICT, never a fault.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from db.tables import institution, researcher
from tests.api.conftest import GraphQLClient
from tests.api.writes import CREATE_PAPER, CREATE_RESEARCHER, counts, mutate, open_writer

WRITERS = 30
IMPORT = """
mutation($input: ImportProfileInput!) {
  importProfile(input: $input) { researcher { name } userErrors { field message code } }
}
"""


@pytest.fixture
async def writer(database_url: str) -> AsyncIterator[GraphQLClient]:
    async for client in open_writer(database_url):
        yield client


async def _all(client: GraphQLClient, requests: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    return await asyncio.gather(*(mutate(client, doc, input=given) for doc, given in requests))


async def _names(client: GraphQLClient) -> Counter[str]:
    async with client.engine.connect() as connection:
        return Counter((await connection.execute(select(researcher.c.name))).scalars())


async def _institution_slugs(client: GraphQLClient) -> Counter[str]:
    async with client.engine.connect() as connection:
        return Counter((await connection.execute(select(institution.c.slug))).scalars())


def _problems(payloads: list[dict[str, Any]]) -> set[tuple[tuple[str, ...], str, str]]:
    return {
        (tuple(error["field"]), error["code"], error["message"])
        for payload in payloads
        for error in payload["userErrors"]
    }


async def test_thirty_papers_naming_the_same_new_authors_make_one_researcher_each(
    writer: GraphQLClient,
) -> None:
    byline = [{"name": "Racer One"}, {"name": "Racer Two"}]
    requests = [(CREATE_PAPER, {"title": f"Race {k}", "authors": byline}) for k in range(WRITERS)]
    payloads = await _all(writer, requests)
    assert [p["userErrors"] for p in payloads] == [[]] * WRITERS
    assert await _names(writer) == {"Racer One": 1, "Racer Two": 1}
    bylines = {
        tuple((a["position"], a["researcher"]["slug"]) for a in p["paper"]["authors"])
        for p in payloads
    }
    assert bylines == {((1, "racer-one"), (2, "racer-two"))}


async def test_authors_named_in_any_order_by_many_papers_are_each_made_once(
    writer: GraphQLClient,
) -> None:
    """Bylines sharing names in opposite orders queue without a deadlock."""
    names = ["Ana Ahn", "Ben Bo", "Cy Chu"]
    requests = [
        (
            CREATE_PAPER,
            {"title": f"Shuffled {k}", "authors": [{"name": n} for n in names[k % 3 :] + names]},
        )
        for k in range(WRITERS)
    ]
    # Each byline names someone twice; drop the repeats so every request is valid.
    for _, given in requests:
        given["authors"] = list({a["name"]: a for a in given["authors"]}.values())
    payloads = await _all(writer, requests)
    assert [p["userErrors"] for p in payloads] == [[]] * WRITERS
    assert await _names(writer) == dict.fromkeys(names, 1)


async def test_papers_naming_one_new_institution_at_once_share_one_institution(
    writer: GraphQLClient,
) -> None:
    requests = [
        (
            CREATE_PAPER,
            {
                "title": f"Lab paper {k}",
                "authors": [{"name": f"Member {k}"}],
                "institutions": ["new-lab", "other-lab"] if k % 2 else ["other-lab", "new-lab"],
            },
        )
        for k in range(WRITERS)
    ]
    payloads = await _all(writer, requests)
    assert [p["userErrors"] for p in payloads] == [[]] * WRITERS
    assert await _institution_slugs(writer) == {"new-lab": 1, "other-lab": 1}
    assert (await counts(writer))["paper_institution"] == 2 * WRITERS


@pytest.mark.parametrize(
    ("field", "value", "label"),
    [
        ("doi", "10.1000/contested", "DOI"),
        ("arxivId", "2101.00001", "arXiv id"),
    ],
)
async def test_papers_with_one_identifier_at_once_make_one_paper_and_conflicts(
    writer: GraphQLClient, field: str, value: str, label: str
) -> None:
    requests = [
        (CREATE_PAPER, {"title": f"Claim {k}", "authors": [{"name": "Claimant"}], field: value})
        for k in range(WRITERS)
    ]
    payloads = await _all(writer, requests)
    [winner] = [p["paper"] for p in payloads if p["paper"] is not None]
    assert _problems(payloads) == {
        (("input", field), "CONFLICT", f"Paper {winner['id']} has this {label}.")
    }
    after = await counts(writer)
    assert (after["paper"], after["researcher"]) == (1, 1)


@pytest.mark.parametrize(
    ("field", "value", "label"),
    [
        ("orcid", "0000-0002-1825-0097", "ORCID iD"),
        ("openalexId", "A5023888391", "OpenAlex id"),
        ("semanticScholarId", "1741101", "Semantic Scholar id"),
    ],
)
async def test_researchers_with_one_external_id_at_once_make_one_and_conflicts(
    writer: GraphQLClient, field: str, value: str, label: str
) -> None:
    requests = [
        (CREATE_RESEARCHER, {"name": f"Claimant {k}", field: value}) for k in range(WRITERS)
    ]
    payloads = await _all(writer, requests)
    [winner] = [p["researcher"] for p in payloads if p["researcher"] is not None]
    assert winner[field] == value
    assert _problems(payloads) == {
        (("input", field), "CONFLICT", f"Researcher {winner['id']} already has this {label}.")
    }
    assert (await counts(writer))["researcher"] == 1


async def test_profile_imports_beside_papers_with_the_same_new_authors_share_them(
    writer: GraphQLClient,
) -> None:
    """Two profiles whose bylines name each other, imported beside papers naming both."""
    ada = _profile(
        "Ada Lovelace", "Notes on the Analytical Engine", "Ada Lovelace, Charles Babbage"
    )
    charles = _profile(
        "Charles Babbage", "On the Difference Engine", "Charles Babbage, Ada Lovelace"
    )
    byline = [{"name": "Charles Babbage"}, {"name": "Ada Lovelace"}]
    requests: list[tuple[str, dict[str, Any]]] = [
        (CREATE_PAPER, {"title": f"Letter {k}", "authors": byline, "institutions": ["cambridge"]})
        for k in range(WRITERS - 2)
    ]
    requests[5:5] = [(IMPORT, {"format": "PROFILE_TEXT", "text": ada, "undatedYear": 2026})]
    requests[20:20] = [(IMPORT, {"format": "PROFILE_TEXT", "text": charles, "undatedYear": 2026})]
    payloads = await _all(writer, requests)
    assert [p["userErrors"] for p in payloads] == [[]] * WRITERS
    assert await _names(writer) == {"Ada Lovelace": 1, "Charles Babbage": 1}
    assert await _institution_slugs(writer) == {"cambridge": 1}
    after = await counts(writer)
    assert (after["paper"], after["authorship"]) == (WRITERS, 2 * WRITERS)


def _profile(owner: str, title: str, byline: str, *, place: str | None = "cambridge") -> str:
    """A one-paper profile page in the seed's format."""
    header = f"{owner}\n\nCV\nh-index1\n1papers\n\n1 Papers\n\n"
    printed = f"{byline} · {place}" if place else byline
    return f"{header}LGMar 3\n{title}\n{printed}\nAn abstract.\n"


async def test_profiles_listing_one_paper_at_once_store_it_once(writer: GraphQLClient) -> None:
    """Papers of a profile match on title and year; imports queue on that key even when
    the (cut) bylines share no name."""
    texts = [
        _profile(owner, "Notes on the Analytical Engine", f"{first} et al.", place=None)
        for owner, first in (
            ("Ada Lovelace", "Luigi Menabrea"),
            ("Mary Somerville", "John Herschel"),
        )
    ]
    requests = [
        (IMPORT, {"format": "PROFILE_TEXT", "text": texts[k % 2], "undatedYear": 2026})
        for k in range(10)
    ]
    payloads = await _all(writer, requests)
    assert [p["userErrors"] for p in payloads] == [[]] * 10
    after = await counts(writer)
    assert (after["paper"], after["researcher"], after["authorship"]) == (1, 4, 4)
