"""The response cache when Redis fails: reads go on uncached, writes go on, nothing stale after.

Redis failing is a TCP proxy to the test Redis that the test stops and starts
again (every connection cut, nothing listening), or a URL to a port where
nothing listens; the Redis service itself is never touched.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from tests.api.conftest import GraphQLClient
from tests.api.test_response_cache import (
    CREATE_RESEARCHER,
    PROFILE,
    UPDATE_RESEARCHER,
    metric,
    read,
    serving,
    write,
)
from tests.conftest import RedisTarget
from tests.redis_proxy import RedisProxy, free_port


async def name_seen(client: GraphQLClient, researcher_id: str) -> tuple[str, str]:
    outcome, data = await read(client, PROFILE, id=researcher_id)
    return outcome, str(data["node"]["name"])


async def test_an_outage_serves_uncached_and_no_entry_from_before_outlives_a_write_in_it(
    database_url: str,
    redis_target: RedisTarget,
    proxy: RedisProxy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="scholargraph.cache")
    shared: dict[str, Any] = {"redis_url": proxy.url, "redis_prefix": redis_target.prefix}
    async with (
        serving(database_url, **shared) as first,
        serving(database_url, **shared) as second,
        serving(database_url, **shared) as idle,
    ):
        ada = (await write(first, CREATE_RESEARCHER, input={"name": "Ada Lovelace"}))["researcher"][
            "id"
        ]
        before = [await name_seen(first, ada), await name_seen(second, ada)]
        await proxy.stop()
        during = [await name_seen(first, ada)]
        await write(second, UPDATE_RESEARCHER, input={"id": ada, "name": "Ada King"})
        during += [await name_seen(first, ada), await name_seen(second, ada)]
        await proxy.start()
        # The worker that made no request meanwhile: its change-stream connection dropped.
        after = [await name_seen(idle, ada)]
        await asyncio.sleep(1.2)  # past the second a worker waits before trying Redis again
        after += [await name_seen(first, ada), await name_seen(second, ada)]
        after += [await name_seen(first, ada), await name_seen(idle, ada)]
        bypassed = await metric(first, "bypassed") + await metric(second, "bypassed")
        outages = [await metric(w, "redis_outages") for w in (first, second, idle)]
    assert before == [("miss", "Ada Lovelace"), ("hit", "Ada Lovelace")]
    assert during == [("miss", "Ada Lovelace"), ("miss", "Ada King"), ("miss", "Ada King")]
    assert [name for _, name in after] == ["Ada King"] * 5
    assert [outcome for outcome, _ in after][-2:] == ["hit", "hit"]  # the cache is back in use
    assert bypassed >= 2
    assert outages == [1.0, 1.0, 1.0]
    messages = [r.getMessage() for r in caplog.records if r.name == "scholargraph.cache"]
    assert sum(m.startswith("Redis unavailable") for m in messages) == 3  # once per worker
    assert sum(m.startswith("Redis available again") for m in messages) == 3


async def test_with_nothing_listening_reads_and_writes_go_on_uncached(database_url: str) -> None:
    nowhere = {"redis_url": f"redis://127.0.0.1:{free_port()}/0", "redis_prefix": "sg-nowhere:"}
    async with serving(database_url, **nowhere) as client:
        ada = (await write(client, CREATE_RESEARCHER, input={"name": "Ada Lovelace"}))[
            "researcher"
        ]["id"]
        seen = [await name_seen(client, ada), await name_seen(client, ada)]
        await write(client, UPDATE_RESEARCHER, input={"id": ada, "name": "Ada King"})
        seen.append(await name_seen(client, ada))
    assert seen == [("miss", "Ada Lovelace"), ("miss", "Ada Lovelace"), ("miss", "Ada King")]


async def test_a_redis_that_hangs_costs_a_read_its_timeout_and_nothing_stale_after(
    database_url: str, redis_target: RedisTarget, proxy: RedisProxy
) -> None:
    shared: dict[str, Any] = {"redis_url": proxy.url, "redis_prefix": redis_target.prefix}
    async with serving(database_url, **shared) as client:
        ada = (await write(client, CREATE_RESEARCHER, input={"name": "Ada Lovelace"}))[
            "researcher"
        ]["id"]
        before = [await name_seen(client, ada), await name_seen(client, ada)]
        proxy.stall()
        during = [await name_seen(client, ada)]
        await write(client, UPDATE_RESEARCHER, input={"id": ada, "name": "Ada King"})
        during.append(await name_seen(client, ada))
        proxy.stall(False)
        await asyncio.sleep(1.2)
        after = [await name_seen(client, ada), await name_seen(client, ada)]
    assert before == [("miss", "Ada Lovelace"), ("hit", "Ada Lovelace")]
    assert during == [("miss", "Ada Lovelace"), ("miss", "Ada King")]
    assert after == [("miss", "Ada King"), ("hit", "Ada King")]


async def test_a_worker_that_lost_redis_for_a_moment_still_drops_what_its_write_changed(
    database_url: str, redis_target: RedisTarget, proxy: RedisProxy
) -> None:
    # Redis failed for one worker only (a connect that timed out under load): that worker
    # counts itself in an outage, and the other goes on using the cache. A write on the
    # first must still drop the other's entries before it answers.
    async with (
        serving(database_url, redis_url=proxy.url, redis_prefix=redis_target.prefix) as cut,
        serving(
            database_url, redis_url=redis_target.url, redis_prefix=redis_target.prefix
        ) as other,
    ):
        ada = (await write(cut, CREATE_RESEARCHER, input={"name": "Ada Lovelace"}))["researcher"][
            "id"
        ]
        before = [await name_seen(other, ada), await name_seen(other, ada)]
        await proxy.stop()
        during = [await name_seen(cut, ada)]  # the cut worker finds Redis gone
        await proxy.start()
        await write(cut, UPDATE_RESEARCHER, input={"id": ada, "name": "Ada King"})
        after = [await name_seen(other, ada)]
        lost = await metric(cut, "invalidations_lost")
    assert before == [("miss", "Ada Lovelace"), ("hit", "Ada Lovelace")]
    assert during == [("miss", "Ada Lovelace")]
    assert after == [("miss", "Ada King")]
    assert lost == 0


async def test_a_write_waits_out_a_short_outage_to_drop_what_it_changed(
    database_url: str, redis_target: RedisTarget, proxy: RedisProxy
) -> None:
    async with (
        serving(database_url, redis_url=proxy.url, redis_prefix=redis_target.prefix) as cut,
        serving(
            database_url, redis_url=redis_target.url, redis_prefix=redis_target.prefix
        ) as other,
    ):
        ada = (await write(cut, CREATE_RESEARCHER, input={"name": "Ada Lovelace"}))["researcher"][
            "id"
        ]
        before = [await name_seen(other, ada), await name_seen(other, ada)]
        await proxy.stop()

        async def back_soon() -> None:
            await asyncio.sleep(0.3)  # well inside the time a write keeps trying
            await proxy.start()

        restored = asyncio.create_task(back_soon())
        await write(cut, UPDATE_RESEARCHER, input={"id": ada, "name": "Ada King"})
        await restored
        after = [await name_seen(other, ada)]
        lost = await metric(cut, "invalidations_lost")
    assert before == [("miss", "Ada Lovelace"), ("hit", "Ada Lovelace")]
    assert after == [("miss", "Ada King")]
    assert lost == 0


async def test_a_write_that_cannot_reach_redis_answers_and_says_so(
    database_url: str,
    redis_target: RedisTarget,
    proxy: RedisProxy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="scholargraph.cache")
    async with serving(database_url, redis_url=proxy.url, redis_prefix=redis_target.prefix) as cut:
        ada = (await write(cut, CREATE_RESEARCHER, input={"name": "Ada Lovelace"}))["researcher"][
            "id"
        ]
        await proxy.stop()
        await write(cut, UPDATE_RESEARCHER, input={"id": ada, "name": "Ada King"})
        seen = await name_seen(cut, ada)
        lost = await metric(cut, "invalidations_lost")
    assert seen == ("miss", "Ada King")
    assert lost == 1
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("could not reach Redis" in m for m in errors), errors
