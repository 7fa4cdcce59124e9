"""createResearcher, updateResearcher and mergeResearchers over HTTP, on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from db.tables import (
    authorship,
    authorship_institution,
    institution,
    reported_metrics,
    researcher_alias,
    researcher_institution,
)
from resolvers.nodes import decode_id_of
from tests.api.conftest import GraphQLClient
from tests.api.writes import (
    CREATE_RESEARCHER,
    counts,
    create_paper,
    create_researcher,
    mutate,
    open_writer,
    succeed,
)

UPDATE_RESEARCHER = """
mutation($input: UpdateResearcherInput!) {
  updateResearcher(input: $input) {
    researcher { id slug name orcid openalexId semanticScholarId homepage aliases }
    userErrors { field message code }
  }
}
"""

MERGE = """
mutation($source: ID!, $target: ID!) {
  mergeResearchers(sourceId: $source, targetId: $target) {
    researcher {
      id slug name orcid openalexId semanticScholarId aliases
      papers(orderBy: {field: TITLE, direction: ASC}) {
        nodes { title authors { position displayName researcher { slug } } }
      }
      reportedMetrics { source hIndex }
    }
    userErrors { field message code }
  }
}
"""


@pytest.fixture
async def writer(database_url: str) -> AsyncIterator[GraphQLClient]:
    async for client in open_writer(database_url):
        yield client


async def test_create_researcher_normalises_ids_and_makes_a_slug(writer: GraphQLClient) -> None:
    created = await create_researcher(
        writer,
        " Renée J. Miller ",
        orcid="https://orcid.org/0000-0002-1825-0097",
        openalexId="https://openalex.org/a5023888391",
        semanticScholarId="1741101",
        homepage="https://example.org/~renee",
    )
    assert {k: v for k, v in created.items() if k != "id"} == {
        "slug": "renee-j-miller",
        "name": "Renée J. Miller",
        "orcid": "0000-0002-1825-0097",
        "openalexId": "A5023888391",
        "semanticScholarId": "1741101",
        "homepage": "https://example.org/~renee",
        "aliases": [],
    }
    found = await writer.data('{ researchers(query: "renee") { nodes { id } } }')
    assert found["researchers"]["nodes"] == [{"id": created["id"]}]


async def test_create_researcher_reports_bad_and_taken_ids(writer: GraphQLClient) -> None:
    await create_researcher(writer, "Holder", orcid="0000-0002-1825-0097", semanticScholarId="42")
    before = await counts(writer)
    payload = await mutate(
        writer,
        CREATE_RESEARCHER,
        input={
            "name": "",
            "orcid": "0000-0002-1825-0098",  # wrong check digit
            "openalexId": "W123",
            "semanticScholarId": "42",
            "homepage": "javascript:alert(1)",
        },
    )
    assert payload["researcher"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "name"], "INVALID"),
        (["input", "orcid"], "INVALID"),
        (["input", "openalexId"], "INVALID"),
        (["input", "homepage"], "INVALID"),
        (["input", "semanticScholarId"], "CONFLICT"),
    ]
    assert await counts(writer) == before


async def test_a_nul_character_in_a_write_is_refused_and_nothing_is_written(
    writer: GraphQLClient,
) -> None:
    # PostgreSQL's text cannot hold NUL: a masked fault there, stored on SQLite (the fuzz run's).
    before = await counts(writer)
    body = await writer.post(CREATE_RESEARCHER, input={"name": "Ada\x00Lovelace"})
    assert "data" not in body
    assert [e["message"] for e in body["errors"]] == [
        "Variable $input: text may not contain the NUL character (U+0000)."
    ]
    assert await counts(writer) == before


async def test_update_researcher_renames_keeps_the_slug_and_replaces_aliases(
    writer: GraphQLClient,
) -> None:
    created = await create_researcher(writer, "Jon Smith", homepage="https://jon.example")
    payload = await succeed(
        writer,
        UPDATE_RESEARCHER,
        input={
            "id": created["id"],
            "name": "Jonathan Smith",
            "homepage": None,
            "aliases": ["J. Smith", "Jon Smith"],
        },
    )
    assert payload["researcher"] == {
        **created,
        "name": "Jonathan Smith",
        "homepage": None,
        "aliases": ["J. Smith", "Jon Smith"],
    }
    # The new name and the aliases match by key: papers by "J Smith" or "jonathan smith" are his.
    for printed in ("J Smith", "jonathan  SMITH"):
        paper = await create_paper(writer, printed, authors=[{"name": printed}])
        [author] = paper["authors"]
        assert author["displayName"] == printed
        assert author["researcher"]["id"] == created["id"]
    replaced = await succeed(writer, UPDATE_RESEARCHER, input={"id": created["id"], "aliases": []})
    assert replaced["researcher"]["aliases"] == []


async def test_update_researcher_reports_every_problem(writer: GraphQLClient) -> None:
    holder = await create_researcher(writer, "Holder", orcid="0000-0002-1825-0097")
    other = await create_researcher(writer, "Other")
    before = await counts(writer)
    payload = await mutate(
        writer,
        UPDATE_RESEARCHER,
        input={
            "id": other["id"],
            "name": None,
            "orcid": "0000-0002-1825-0097",
            "aliases": ["Al", " ", "AL"],
        },
    )
    assert payload["userErrors"] == [
        {"field": ["input", "name"], "message": "The name cannot be null.", "code": "INVALID"},
        {"field": ["input", "aliases", "1"], "message": "The alias is empty.", "code": "INVALID"},
        {
            "field": ["input", "aliases", "2"],
            "message": "The same name as alias 1.",
            "code": "INVALID",
        },
        {
            "field": ["input", "orcid"],
            "message": f"Researcher {holder['id']} already has this ORCID iD.",
            "code": "CONFLICT",
        },
    ]
    missing = await mutate(writer, UPDATE_RESEARCHER, input={"id": "UmVzZWFyY2hlcjo5OTk"})
    assert missing["userErrors"] == [
        {"field": ["input", "id"], "message": "No researcher has this ID.", "code": "NOT_FOUND"}
    ]
    assert await counts(writer) == before


async def _rows(client: GraphQLClient, statement: Any) -> list[tuple[Any, ...]]:
    async with client.engine.connect() as connection:
        return [tuple(row) for row in (await connection.execute(statement)).all()]


async def test_merge_moves_everything_onto_the_target_and_deletes_the_source(
    writer: GraphQLClient,
) -> None:
    target = await create_researcher(writer, "David Bau", orcid="0000-0002-1825-0097")
    source = await create_researcher(
        writer, "D. Bau", openalexId="A1", semanticScholarId="7", orcid="0000-0001-5109-3700"
    )
    await succeed(writer, UPDATE_RESEARCHER, input={"id": source["id"], "aliases": ["Dave Bau"]})
    shared = await create_paper(
        writer, "Shared", authors=[{"researcherId": source["id"]}, {"name": "Coauthor"}]
    )
    # On the shared paper the target's place is unknown: add the target at no position.
    await _add_unplaced(writer, shared["id"], target["id"])
    await create_paper(writer, "Only source", authors=[{"researcherId": source["id"]}])
    await create_paper(writer, "Only target", authors=[{"researcherId": target["id"]}])
    before = await counts(writer)

    payload = await succeed(writer, MERGE, source=source["id"], target=target["id"])
    merged = payload["researcher"]
    assert {k: v for k, v in merged.items() if k != "papers"} == {
        "id": target["id"],
        "slug": "david-bau",
        "name": "David Bau",
        "orcid": "0000-0002-1825-0097",  # the target's own stays
        "openalexId": "A1",
        "semanticScholarId": "7",
        "aliases": ["Dave Bau", "D. Bau"],  # moved first, then the name
        "reportedMetrics": None,
    }
    assert merged["papers"]["nodes"] == [
        {
            "title": "Only source",
            "authors": [
                {"position": 1, "displayName": "D. Bau", "researcher": {"slug": "david-bau"}}
            ],
        },
        {
            "title": "Only target",
            "authors": [
                {"position": 1, "displayName": "David Bau", "researcher": {"slug": "david-bau"}}
            ],
        },
        {
            "title": "Shared",
            "authors": [
                {"position": 1, "displayName": "David Bau", "researcher": {"slug": "david-bau"}},
                {"position": 2, "displayName": "Coauthor", "researcher": {"slug": "coauthor"}},
            ],
        },
    ]
    after = await counts(writer)
    assert after["researcher"] == before["researcher"] - 1
    assert after["authorship"] == before["authorship"] - 1
    gone = await writer.data("query($id: ID!) { node(id: $id) { id } }", id=source["id"])
    assert gone == {"node": None}
    assert await _rows(writer, select(researcher_alias.c.alias_key).order_by("alias_key")) == [
        ("d bau",),
        ("dave bau",),
    ]


async def _add_unplaced(client: GraphQLClient, paper_gid: str, researcher_gid: str) -> None:
    async with client.engine.begin() as connection:
        await connection.execute(
            authorship.insert().values(
                paper_id=decode_id_of(paper_gid, "Paper"),
                researcher_id=decode_id_of(researcher_gid, "Researcher"),
                position=None,
                display_name="David Bau",
            )
        )


async def test_merge_keeps_the_targets_reported_metrics_from_the_same_source(
    writer: GraphQLClient,
) -> None:
    target = await create_researcher(writer, "T")
    source = await create_researcher(writer, "S")
    t, s = decode_id_of(target["id"], "Researcher"), decode_id_of(source["id"], "Researcher")
    async with writer.engine.begin() as connection:
        await connection.execute(
            reported_metrics.insert(),
            [
                {"researcher_id": t, "source": "page", "h_index": 1},
                {"researcher_id": s, "source": "page", "h_index": 2},
                {"researcher_id": s, "source": "other", "h_index": 3},
            ],
        )
    await succeed(writer, MERGE, source=source["id"], target=target["id"])
    rows = await _rows(
        writer,
        select(
            reported_metrics.c.researcher_id, reported_metrics.c.source, reported_metrics.c.h_index
        ).order_by(reported_metrics.c.source),
    )
    assert rows == [(t, "other", 3), (t, "page", 1)]


async def test_merge_refuses_itself_and_unknown_researchers(writer: GraphQLClient) -> None:
    one = await create_researcher(writer, "One")
    before = await counts(writer)
    itself = await mutate(writer, MERGE, source=one["id"], target=one["id"])
    assert itself == {
        "researcher": None,
        "userErrors": [
            {
                "field": ["targetId"],
                "message": "A researcher cannot be merged into itself.",
                "code": "INVALID",
            }
        ],
    }
    missing = await mutate(writer, MERGE, source="UmVzZWFyY2hlcjo5OTk", target=one["id"])
    assert missing["userErrors"] == [
        {"field": ["sourceId"], "message": "No researcher has this ID.", "code": "NOT_FOUND"}
    ]
    wrong = await mutate(writer, MERGE, source=one["id"], target="UGFwZXI6MQ")
    assert wrong["userErrors"] == [
        {
            "field": ["targetId"],
            "message": "ID 'UGFwZXI6MQ' is a Paper, not a Researcher.",
            "code": "INVALID",
        }
    ]
    assert await counts(writer) == before


async def test_merge_carries_affiliations_over_without_duplicates(writer: GraphQLClient) -> None:
    target = await create_researcher(writer, "Target")
    source = await create_researcher(writer, "Source")
    shared = await create_paper(
        writer,
        "Shared",
        authors=[{"researcherId": target["id"]}, {"researcherId": source["id"]}],
        institutions=["mit", "stanford"],
    )
    t, s = (decode_id_of(x["id"], "Researcher") for x in (target, source))
    p = decode_id_of(shared["id"], "Paper")
    async with writer.engine.begin() as connection:
        ids = dict((await connection.execute(select(institution.c.slug, institution.c.id))).all())
        rows = (await connection.execute(select(authorship.c.researcher_id, authorship.c.id))).all()
        authorships = {row.researcher_id: row.id for row in rows}
        await connection.execute(
            authorship_institution.insert(),
            [
                {"authorship_id": authorships[t], "institution_id": ids["mit"]},
                {"authorship_id": authorships[s], "institution_id": ids["mit"]},
                {"authorship_id": authorships[s], "institution_id": ids["stanford"]},
            ],
        )
        await connection.execute(
            researcher_institution.insert(),
            [
                {"researcher_id": t, "institution_id": ids["mit"]},
                {"researcher_id": s, "institution_id": ids["mit"]},
                {"researcher_id": s, "institution_id": ids["stanford"]},
            ],
        )
    await succeed(writer, MERGE, source=source["id"], target=target["id"])
    assert await _rows(
        writer,
        select(
            authorship_institution.c.authorship_id, authorship_institution.c.institution_id
        ).order_by(authorship_institution.c.institution_id),
    ) == [(authorships[t], ids["mit"]), (authorships[t], ids["stanford"])]
    assert await _rows(
        writer,
        select(
            researcher_institution.c.researcher_id, researcher_institution.c.institution_id
        ).order_by(researcher_institution.c.institution_id),
    ) == [(t, ids["mit"]), (t, ids["stanford"])]
    assert await _rows(writer, select(authorship.c.paper_id, authorship.c.researcher_id)) == [
        (p, t)
    ]
