"""Milliseconds per search over /graphql (through the ASGI app), on the databases given.

    python -m tests.benchmarks.bench_search URL [URL ...] [--rounds 5]
    python -m tests.benchmarks.bench_search --corpus sqlite --corpus postgresql

Each URL is a migrated database that holds data (`scholargraph seed`, or a
corpus from `scholargraph generate`); `--corpus` names the 200,000-paper
benchmark corpus (the one `make bench` generates) on a database. Prints the
best of `--rounds` for each search: the README's examples, a stop word alone
and repeated 6,000 times (nothing to search: it must cost nothing), a word
repeated 6,000 times beside the word alone (it must cost what the word
costs), a one-letter prefix, a word every generated abstract holds ("study":
the whole corpus to count and rank), and a search over the limits (refused
before any SQL).
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

from api.app import create_app
from api.settings import Settings
from tests.benchmarks.bench_api import database_url

DOCUMENT = "query($q: String!) { papers(query: $q, first: 20) { totalCount nodes { title } } }"
SEARCHES = {
    "diffusion concept erasure": "diffusion concept erasure",
    "a": "a",
    "a x 6,000": " ".join(["a"] * 6000),
    "a a ... b (6,000 words)": " ".join(["a"] * 6000 + ["b"]),
    "model": "model",
    "model x 6,000": " ".join(["model"] * 6000),
    "study": "study",
    "33 distinct words (refused)": " ".join(f"w{n}" for n in range(33)),
}


async def measure(url: str, rounds: int) -> None:
    app = create_app(Settings(database_url=url, rate_limit_enabled=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            for name, text in SEARCHES.items():
                best = float("inf")
                for _ in range(rounds):
                    start = time.perf_counter()
                    response = await http.post(
                        "/graphql", json={"query": DOCUMENT, "variables": {"q": text}}
                    )
                    best = min(best, time.perf_counter() - start)
                body = response.json()
                outcome = (
                    f"{body['data']['papers']['totalCount']} found"
                    if body.get("data")
                    else body["errors"][0]["extensions"]["code"]
                )
                print(f"{name:30} {best * 1000:8.1f} ms  {outcome}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="*", help="database URLs")
    parser.add_argument(
        "--corpus",
        action="append",
        default=[],
        choices=["sqlite", "postgresql"],
        help="the 200,000-paper benchmark corpus on this database (repeatable)",
    )
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    corpora = [database_url(kind, 200_000, 20_000, 1) for kind in arguments.corpus]
    if not arguments.urls and not corpora:
        parser.error("give database URLs or --corpus")
    for url in [*arguments.urls, *corpora]:
        print(url)
        asyncio.run(measure(url, arguments.rounds))


if __name__ == "__main__":
    main()
