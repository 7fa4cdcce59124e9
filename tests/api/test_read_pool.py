"""Reads share a bounded pool of connections (db.engine.read_pool): more requests at once
than connections all get their answers, and on SQLite a worker opens no more than two
read connections (each one a thread of its own)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from sqlalchemy import event

from tests.api.conftest import GraphQLClient
from tests.benchmarks.pages import SCHOLARGRAPH_LEADERBOARD, SCHOLARGRAPH_PROFILE

AT_ONCE = 12


async def test_more_reads_at_once_than_connections_all_get_their_answers(
    seeded: GraphQLClient,
) -> None:
    opened: Counter[str] = Counter()
    engines = {"graphql": seeded.graphql_engine, "inline": seeded.inline_engine}
    for name, engine in engines.items():
        event.listen(engine.sync_engine, "connect", lambda *_, name=name: opened.update([name]))
    one_profile = await seeded.data(SCHOLARGRAPH_PROFILE, slug="david-bau")
    one_leaderboard = await seeded.data(SCHOLARGRAPH_LEADERBOARD)

    asked: list[Any] = [seeded.data(SCHOLARGRAPH_PROFILE, slug="david-bau") for _ in range(AT_ONCE)]
    asked += [seeded.data(SCHOLARGRAPH_LEADERBOARD) for _ in range(AT_ONCE)]
    answers = await asyncio.gather(*asked)

    assert one_profile["researcher"]["name"] == "David Bau"
    assert answers[:AT_ONCE] == [one_profile] * AT_ONCE
    assert answers[AT_ONCE:] == [one_leaderboard] * AT_ONCE
    if seeded.graphql_engine.dialect.name == "sqlite":
        assert opened["graphql"] <= 2, opened
        assert opened["inline"] <= 2, opened
