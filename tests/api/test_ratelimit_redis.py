"""Counting in Redis in one script agrees with the limits library counting there itself."""

from __future__ import annotations

from limits import parse

from api.ratelimit import RedisWindows, StorageWindows, redis_storage, windows_in
from api.redis_state import SharedState
from tests.conftest import RedisTarget


async def test_one_script_and_limits_share_the_same_counts(redis_target: RedisTarget) -> None:
    shared = SharedState(redis_target.url, redis_target.prefix)
    try:
        storage = redis_storage(shared, key_prefix=shared.key("ratelimit"))
        script, library = windows_in(storage), StorageWindows(storage)
        assert isinstance(script, RedisWindows)
        item = parse("3/minute")
        counters = [script, library, script, library, script]
        verdicts = [await c.count("address", item, "192.0.2.9") for c in counters]
    finally:
        await shared.aclose()
    assert [(v.allowed, v.remaining) for v in verdicts] == [
        (True, 2),
        (True, 1),
        (True, 0),
        (False, 0),
        (False, 0),
    ]
    assert all(v.limit == 3 and v.resource == "address" for v in verdicts)
    assert all(1 <= v.retry_after_s <= 60 for v in verdicts)
