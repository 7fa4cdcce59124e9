"""The hardening issue's attacks, replayed against a running server, with what each cost.

    python -m tests.benchmarks.bench_attacks [--database sqlite|postgresql] [--copies 3]
    python -m tests.benchmarks.bench_attacks --url http://127.0.0.1:PORT [--copies 3]

Starts `scholargraph serve` over the benchmark corpus (200,000 papers, the one
`make bench` generates), or, with `--url`, targets a server already running
(`make run`, say: `scholargraph serve` over the seeded database, its limits as
configured; leave its rate limit on and a few cases may see 429s). Sends each
small anonymous request of the attack suite (tests/api/test_attacks.py holds
the same cases as tests), `--copies` at once, and prints for each: the status
and first error code, the slowest copy's time, and the slowest `/health`
answer while they ran. Every case must be refused or answered within its
bound while /health stays under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from resolvers.nodes import encode_global_id
from tests.api.test_attacks import VARIABLE_DEFAULTS, fan_out
from tests.benchmarks.bench_api import database_url, prepare
from tests.benchmarks.bench_cost import free_port, health_polled, serve, wait_until_up

HCORE_RECURSION = """{ researchers(first: 20) { nodes { metrics { hCore { authors {
  researcher { metrics { hCore { authors { researcher { name } } } } } } } } } } }"""
CASES: dict[str, tuple[str, dict[str, object]]] = {
    "fragment fan-out, 30 levels": (fan_out(30), {}),
    "variable defaults (cost 20,100)": (VARIABLE_DEFAULTS, {}),
    "negative first under a null parent": (
        '{ researcher(slug: "no-such-person") { papers(first: -2000000) { totalCount } } }',
        {},
    ),
    "hCore inside hCore": (HCORE_RECURSION, {}),
    "nodes with 1,000 ids": (
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {"ids": [encode_global_id("Paper", n) for n in range(1, 1001)]},
    ),
    "nodes with 100 ids": (
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {"ids": [encode_global_id("Paper", n) for n in range(1, 101)]},
    ),
    "search: 'a' 6,000 times": ('{ papers(query: "' + "a " * 6000 + '") { totalCount } }', {}),
    "an 80 KB cursor": (
        '{ papers(after: "' + base64.urlsafe_b64encode(b"x" * 60_000).decode() + '") '
        "{ totalCount } }",
        {},
    ),
    "1,990 __typename": ("{ " + " ".join(["__typename"] * 1990) + " }", {}),
}


def replay(base: str, document: str, variables: dict[str, object], copies: int) -> str:
    body = {"query": document, "variables": variables}

    def send() -> tuple[float, httpx.Response]:
        with httpx.Client(timeout=120) as client:
            started = time.perf_counter()
            response = client.post(f"{base}/graphql", json=body)
            return time.perf_counter() - started, response

    with health_polled(base) as health, ThreadPoolExecutor(max_workers=copies) as pool:
        answers = list(pool.map(lambda _: send(), range(copies)))
    health_ms = health.slowest_ms
    seconds = max(elapsed for elapsed, _ in answers)
    response = answers[0][1]
    answer = response.json()
    errors = answer.get("errors") or []
    code = errors[0].get("extensions", {}).get("code", "-") if errors else "-"
    message = errors[0]["message"][:60] if errors else ""
    return (
        f"{response.status_code:4} {code:22} {seconds * 1000:9.1f} {health_ms:9.1f} "
        f"{len(response.content):8,}  {message}"
    )


def replay_all(base: str, copies: int) -> None:
    print(f"{'case':36} {'HTTP':>4} {'code':22} {'ms':>9} {'health ms':>9} {'bytes':>8}")
    for name, (document, variables) in CASES.items():
        print(f"{name:36} {replay(base, document, variables, copies)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--papers", type=int, default=200_000)
    parser.add_argument("--researchers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--copies", type=int, default=3)
    parser.add_argument("--url", help="a running server's base URL; none is started")
    args = parser.parse_args()
    if args.url:
        base = args.url.rstrip("/")
        wait_until_up(base)
        print(f"the server at {base}, {args.copies} copies of each at once")
        replay_all(base, args.copies)
        return
    url = database_url(args.database, args.papers, args.researchers, args.seed)
    asyncio.run(prepare(url, args.papers, args.researchers, args.seed))
    port = free_port()
    server = serve(url, port, limited=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base)
        print(f"{args.database}, {args.papers:,} papers, {args.copies} copies of each at once")
        replay_all(base, args.copies)
    finally:
        server.terminate()
        server.wait()
    print(json.dumps({"server_exit": server.returncode}))


if __name__ == "__main__":
    main()
