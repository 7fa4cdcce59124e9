"""Writes made elsewhere reach the cache, and every worker hears of every write.

Commands (seed, imports, generate, refresh-indicators) run as processes of
their own, as a user runs them, with the server's Redis in their environment.
The change stream is read by subscribing to a worker's hub.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import pytest

from tests.api.test_response_cache import (
    CREATE_PAPER,
    CREATE_RESEARCHER,
    LEADERBOARD,
    PROFILE,
    SET_CITATION_COUNTS,
    read,
    serving,
    write,
)
from tests.conftest import RedisTarget


async def command(database_url: str, redis: RedisTarget, *args: str) -> None:
    env = {
        **os.environ,
        "SCHOLARGRAPH_DATABASE_URL": database_url,
        "SCHOLARGRAPH_REDIS_URL": redis.url,
        "SCHOLARGRAPH_REDIS_PREFIX": redis.prefix,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "api.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _out, err = await asyncio.wait_for(process.communicate(), timeout=180)
    assert process.returncode == 0, err.decode()


@pytest.mark.parametrize(
    "args",
    [
        ("generate", "--papers", "20", "--researchers", "5"),
        ("db", "refresh-indicators"),
        ("seed",),
    ],
    ids=["generate", "refresh-indicators", "seed"],
)
async def test_a_command_that_writes_drops_the_shared_cache(
    database_url: str, redis_target: RedisTarget, args: tuple[str, ...]
) -> None:
    shared = {"redis_url": redis_target.url, "redis_prefix": redis_target.prefix}
    async with serving(database_url, **shared) as client:
        await read(client, LEADERBOARD)
        assert (await read(client, LEADERBOARD))[0] == "hit"
        await command(database_url, redis_target, *args)
        outcome, data = await read(client, LEADERBOARD)
    assert outcome == "miss"
    if args[0] != "db":
        assert data["researchers"]["nodes"] != []


async def test_every_worker_hears_each_write_once_committed(
    database_url: str, redis_target: RedisTarget
) -> None:
    shared = {"redis_url": redis_target.url, "redis_prefix": redis_target.prefix}
    async with serving(database_url, **shared) as first, serving(database_url, **shared) as second:
        heard: list[dict[str, Any]] = []
        hub = second.http._transport.app.state.changes  # type: ignore[attr-defined]

        async def listen() -> None:
            async for event in hub.subscribe():
                heard.append(event)
                if len(heard) == 3:
                    return

        listening = asyncio.create_task(listen())
        await asyncio.sleep(0.2)  # subscribed before the writes
        ada = (await write(first, CREATE_RESEARCHER, input={"name": "Ada Lovelace"}))["researcher"]
        paper = (
            await write(
                first,
                CREATE_PAPER,
                input={"title": "Notes", "authors": [{"researcherId": ada["id"]}]},
            )
        )["paper"]
        await write(second, SET_CITATION_COUNTS, input=[{"paperId": paper["id"], "total": 3}])
        await asyncio.wait_for(listening, timeout=5)
        _, profile = await read(second, PROFILE, id=ada["id"])
    assert profile["node"]["metrics"]["citationCount"] == 3
    created, added, counted = heard
    assert [event["everything"] for event in heard] == [False, False, False]
    assert "researchers" in created["lists"]
    assert list(created["nodes"]) == ["Researcher"]
    assert "researcher-papers:" + created["nodes"]["Researcher"][0] in added["lists"]
    assert counted["nodes"]["Paper"] == added["nodes"]["Paper"]
    assert len({event["origin"] for event in heard}) == 2  # from both workers
