"""Compiled reads at the door (api.compiled_door): what a client sees is what the full path gives.

tests/api/test_fast_path.py holds the door's bodies to the reference executor's
for every case and generated query (each is asked twice). Here: that the door
really answers the pages clients ask for most, with the statements and the
transaction the read needs and no more, that it never answers from before a
write, and that what it does not handle still gets the full path's answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request

from api.compiled_door import CompiledDoor
from tests.api.conftest import GraphQLClient, open_client
from tests.api.writes import create_researcher, open_writer, succeed
from tests.benchmarks.pages import SCHOLARGRAPH_LEADERBOARD, SCHOLARGRAPH_PROFILE

NAME = "query Name($slug: String!) { researcher(slug: $slug) { name metrics { hIndex } } }"
RENAME = """
mutation($input: UpdateResearcherInput!) {
  updateResearcher(input: $input) { researcher { name } userErrors { message } }
}
"""


@pytest.fixture
def door(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The operation names the door answered, in order."""
    seen: list[str] = []
    original = CompiledDoor.answer

    async def spy(self: CompiledDoor, request: Request, *args: Any) -> Any:
        response = await original(self, request, *args)
        if response is not None:
            seen.append((await request.json()).get("operationName") or "")
        return response

    monkeypatch.setattr(CompiledDoor, "answer", spy)
    return seen


@pytest.fixture
async def reader(seeded_url: str) -> AsyncIterator[GraphQLClient]:
    async for client in open_client(seeded_url):
        yield client


@contextmanager
def transactions(engine: AsyncEngine) -> Iterator[list[str]]:
    """The transactions SQLAlchemy began on the engine, and every statement, in order."""
    seen: list[str] = []

    def begin(*_args: Any) -> None:
        seen.append("BEGIN")

    def statement(_conn: Any, _cursor: Any, text: str, *_args: Any) -> None:
        seen.append(text.split()[0])

    event.listen(engine.sync_engine, "begin", begin)
    event.listen(engine.sync_engine, "before_cursor_execute", statement)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "begin", begin)
        event.remove(engine.sync_engine, "before_cursor_execute", statement)


async def post(client: GraphQLClient, document: str, name: str | None, **variables: Any) -> Any:
    body = {"query": document, "operationName": name, "variables": variables}
    response = await client.http.post("/graphql", json=body)
    assert response.status_code == 200, response.text
    return response


async def test_the_profile_page_is_answered_at_the_door_in_one_snapshot(
    reader: GraphQLClient, door: list[str]
) -> None:
    first = await post(reader, SCHOLARGRAPH_PROFILE, "Profile", slug="david-bau")
    assert door == []  # planned and compiled by the full path first
    with transactions(reader.graphql_engine) as seen:
        again = await post(reader, SCHOLARGRAPH_PROFILE, "Profile", slug="david-bau")
    assert door == ["Profile"]
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    # The researcher with the kept figures, the page of papers, their bylines: one snapshot.
    assert seen == ["BEGIN", "SELECT", "SELECT", "SELECT"]


async def test_the_leaderboard_reads_one_statement_and_no_transaction(
    reader: GraphQLClient, door: list[str]
) -> None:
    first = await post(reader, SCHOLARGRAPH_LEADERBOARD, None)
    with (
        transactions(reader.graphql_engine) as on_execution_thread,
        transactions(reader.inline_engine) as seen,
    ):
        again = await post(reader, SCHOLARGRAPH_LEADERBOARD, None)
    assert door == [""]
    assert again.content == first.content
    assert seen == ["SELECT"]  # one statement is its own snapshot
    # A read this small runs on the server's loop, not handed to the execution thread.
    assert on_execution_thread == []


async def test_a_read_after_a_write_sees_the_write(database_url: str, door: list[str]) -> None:
    async for writer in open_writer(database_url):
        created = await create_researcher(writer, "Ada Door")
        slug = created["slug"]
        before = (await post(writer, NAME, "Name", slug=slug)).json()
        again = (await post(writer, NAME, "Name", slug=slug)).json()
        await succeed(writer, RENAME, input={"id": created["id"], "name": "Ada Renamed"})
        after = (await post(writer, NAME, "Name", slug=slug)).json()
    assert before == again
    assert before["data"]["researcher"]["name"] == "Ada Door"
    assert after["data"]["researcher"]["name"] == "Ada Renamed"
    assert door == ["Name", "Name"]


async def test_what_the_door_does_not_answer_gets_the_full_path_s_answer(
    reader: GraphQLClient, door: list[str]
) -> None:
    await post(reader, NAME, "Name", slug="david-bau")
    # Variables that do not fit, a slug with no researcher (a null), several operations.
    wrong = await reader.http.post(
        "/graphql", json={"query": NAME, "operationName": "Name", "variables": {"slug": 3}}
    )
    assert wrong.status_code == 200
    [error] = wrong.json()["errors"]
    assert error["message"].startswith("Variable '$slug' has invalid value")
    missing = await post(reader, NAME, "Name", slug="no-such-person")
    assert missing.json()["data"] == {"researcher": None}
    two = NAME + " query Other { researchers(first: 1) { nodes { name } } }"
    await post(reader, two, "Other")
    chosen = await post(reader, two, "Other")
    assert chosen.json()["data"]["researchers"]["nodes"][0]["name"]
    unchosen = await reader.http.post("/graphql", json={"query": two})  # which one?
    assert unchosen.json()["errors"]
    # The null came from the compiled plan too; the refusals from the full path.
    assert door == ["Name", "Other"]
