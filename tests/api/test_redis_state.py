"""A script called on connections of its own (api.redis_state.DirectScript) answers each call
with its own reply, whatever happened to the call before."""

from __future__ import annotations

import pytest
import redis.asyncio as redis
from redis.exceptions import TimeoutError as RedisTimeoutError

from api.redis_state import DirectScript, SharedState
from tests.conftest import RedisTarget
from tests.redis_proxy import RedisProxy

ECHO = "return ARGV[1] .. ':' .. KEYS[1]"


async def test_each_call_gets_its_own_reply_and_runs_again_once_redis_forgets_it(
    redis_target: RedisTarget,
) -> None:
    shared = SharedState(redis_target.url, redis_target.prefix)
    admin = redis.Redis.from_url(redis_target.url)
    echo = DirectScript(shared.client, ECHO)
    try:
        first = await echo([shared.key("a")], ["one"])
        await admin.script_flush()  # as a restarted Redis: no script known by its digest
        second = await echo([shared.key("b")], [2])
    finally:
        await admin.aclose()
        await shared.aclose()
    assert first == f"one:{shared.key('a')}".encode()
    assert second == f"2:{shared.key('b')}".encode()


async def test_a_call_that_timed_out_leaves_no_reply_behind_for_the_next(
    redis_target: RedisTarget,
    proxy: RedisProxy,
) -> None:
    shared = SharedState(proxy.url, redis_target.prefix)
    echo = DirectScript(shared.client, ECHO)
    try:
        assert await echo(["k"], ["warm"]) == b"warm:k"
        proxy.stall()
        with pytest.raises(RedisTimeoutError):
            await echo(["k"], ["lost"])  # its reply arrives only once the proxy flows again
        proxy.stall(False)
        after = [await echo(["k"], [f"after-{n}"]) for n in range(3)]
    finally:
        await shared.aclose()
    assert after == [b"after-0:k", b"after-1:k", b"after-2:k"]
