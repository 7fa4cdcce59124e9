"""Bearer tokens: the command line that makes them, and the check every mutation passes first."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from api.cli import app as cli
from api.settings import get_settings
from db.engine import create_engine
from db.tables import api_token
from resolvers.auth import hash_secret
from tests.api.conftest import GraphQLClient, open_client
from tests.api.writes import CREATE_RESEARCHER, add_token, counts

CREATE = """mutation { createResearcher(input: {name: "Ada"}) { researcher { slug } userErrors {
  message } } }"""
TWO_WRITES = """mutation {
  a: createResearcher(input: {name: "Ada"}) { researcher { slug } }
  b: createResearcher(input: {name: "Bob"}) { researcher { slug } }
}"""
READ = "{ researchers(first: 5) { totalCount nodes { slug metrics { hIndex } } } }"


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[GraphQLClient]:
    async for opened in open_client(database_url):
        yield opened


async def _post(client: GraphQLClient, authorization: str | None) -> dict[str, Any]:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await client.http.post("/graphql", json={"query": CREATE}, headers=headers)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _error(body: dict[str, Any]) -> tuple[str, str]:
    assert body["data"] is None
    [error] = body["errors"]
    return error["extensions"]["code"], error["message"]


async def test_a_write_token_may_write(client: GraphQLClient) -> None:
    secret = await add_token(client.engine)
    assert secret.startswith("sg_")
    body = await _post(client, f"Bearer {secret}")
    assert body["data"] == {"createResearcher": {"researcher": {"slug": "ada"}, "userErrors": []}}
    assert "errors" not in body
    lowercase_scheme = await _post(client, f"bearer  {secret} ")
    assert lowercase_scheme["data"]["createResearcher"]["researcher"] == {"slug": "ada-2"}


@pytest.mark.parametrize(
    ("header", "code", "message"),
    [
        (
            None,
            "UNAUTHENTICATED",
            "Writes need an 'Authorization: Bearer <token>' header; create a token with "
            "`scholargraph token create NAME --scope write`.",
        ),
        (
            "Basic dXNlcjpwYXNz",
            "UNAUTHENTICATED",
            "Writes need an 'Authorization: Bearer <token>' header; create a token with "
            "`scholargraph token create NAME --scope write`.",
        ),
        ("Bearer sg_not-a-token", "UNAUTHENTICATED", "The bearer token is unknown or revoked."),
        ("Bearer {revoked}", "UNAUTHENTICATED", "The bearer token is unknown or revoked."),
        ("Bearer {read}", "FORBIDDEN", "The bearer token does not have the write scope."),
    ],
    ids=["missing", "not-bearer", "wrong", "revoked", "read-only"],
)
async def test_a_mutation_without_a_valid_write_token_writes_nothing(
    client: GraphQLClient, header: str | None, code: str, message: str
) -> None:
    secrets = {
        "revoked": await add_token(client.engine, "old"),
        "read": await add_token(client.engine, "reader", scopes=("read",)),
    }
    async with client.engine.begin() as connection:
        await connection.execute(
            api_token.update()
            .where(api_token.c.name == "old")
            .values(revoked_at=api_token.c.created_at)
        )
    before = await counts(client)
    body = await _post(client, None if header is None else header.format(**secrets))
    assert _error(body) == (code, message)
    assert await counts(client) == before


async def test_reads_look_a_token_up_only_to_count_it_at_most_once_a_minute(
    client: GraphQLClient,
) -> None:
    """Authorization is for writes; the rate limiter asks if a token is valid, then remembers."""
    secret = await add_token(client.engine)
    with client.counting() as anonymous:
        await client.data(READ)
    looked_up: list[list[str]] = []
    for token in (secret, secret, "wrong", "wrong"):
        client.http.headers["Authorization"] = f"Bearer {token}"
        with client.counting() as statements:
            await client.data(READ)
        assert [s for s in statements if "api_token" not in s] == anonymous
        looked_up.append([s.split()[0] for s in statements if "api_token" in s])
    assert looked_up == [["SELECT"], [], ["SELECT"], []]


async def test_one_request_checks_its_token_once_and_records_the_use(
    client: GraphQLClient,
) -> None:
    secret = await add_token(client.engine)
    client.http.headers["Authorization"] = f"Bearer {secret}"
    await client.data(READ)  # the rate limiter has looked the token up for this minute
    with client.counting() as statements:
        data = await client.data(TWO_WRITES)
    assert data == {"a": {"researcher": {"slug": "ada"}}, "b": {"researcher": {"slug": "bob"}}}
    # One look-up for two mutations (the use is recorded through the write engine).
    assert [s.split()[0] for s in statements if "api_token" in s] == ["SELECT"]
    used = await _last_used(client)
    assert used is not None
    # Within the minute the use is not written again.
    await client.data(CREATE_RESEARCHER, input={"name": "Cy"})
    assert await _last_used(client) == used


async def _last_used(client: GraphQLClient) -> Any:
    async with client.engine.connect() as connection:
        return (await connection.execute(select(api_token.c.last_used_at))).scalar_one()


def test_the_command_line_makes_lists_and_revokes_tokens(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCHOLARGRAPH_DATABASE_URL", database_url)
    get_settings.cache_clear()
    monkeypatch.setattr("api.settings.get_settings", get_settings)
    try:
        runner = CliRunner()
        made = runner.invoke(cli, ["token", "create", "ci", "--scope", "write"])
        assert made.exit_code == 0, made.output
        secret = re.search(r"sg_[A-Za-z0-9_-]{43}", made.stdout)
        assert secret is not None
        reader = runner.invoke(cli, ["token", "create", "dashboard"])
        assert reader.exit_code == 0
        assert "without --scope write it cannot run mutations." in reader.stderr
        taken = runner.invoke(cli, ["token", "create", "ci"])
        assert taken.exit_code == 1
        assert "a token named 'ci' exists already" in taken.stderr
        hashes = asyncio.run(_stored_hashes(database_url))
        assert hashes["ci"] == hash_secret(secret.group())
        assert re.fullmatch(r"[0-9a-f]{64}", hashes["dashboard"])
        assert asyncio.run(_create_with(database_url, secret.group())) == "ada"

        listed = runner.invoke(cli, ["token", "list"])
        assert listed.exit_code == 0
        assert secret.group() not in listed.stdout
        assert re.search(
            r"ci\s+│ write\s+│ \d{4}-\d\d-\d\d \d\d:\d\d │ -\s+│ \d{4}-", listed.stdout
        )
        assert re.search(
            r"dashboard\s+│ read\s+│ \d{4}-\d\d-\d\d \d\d:\d\d │ -\s+│ -", listed.stdout
        )

        revoked = runner.invoke(cli, ["token", "revoke", "ci"])
        assert (revoked.exit_code, revoked.stdout) == (0, "token 'ci' revoked\n")
        assert runner.invoke(cli, ["token", "revoke", "ci"]).exit_code == 1
        assert runner.invoke(cli, ["token", "create", "x", "--scope", "admin"]).exit_code == 1
        assert asyncio.run(_create_with(database_url, secret.group())) == "UNAUTHENTICATED"
    finally:
        get_settings.cache_clear()


async def _stored_hashes(url: str) -> dict[str, str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(select(api_token.c.name, api_token.c.secret_hash))
            return {row.name: row.secret_hash for row in rows}
    finally:
        await engine.dispose()


async def _create_with(url: str, secret: str) -> str:
    """The new researcher's slug, or the error code."""
    async with aclosing(open_client(url)) as clients:
        client = await anext(clients)
        body = await _post(client, f"Bearer {secret}")
    if body.get("errors"):
        return str(body["errors"][0]["extensions"]["code"])
    return str(body["data"]["createResearcher"]["researcher"]["slug"])
