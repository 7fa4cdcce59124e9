"""The response cache: the profile page cold, answered from the cache, and as a 304.

    python -m tests.benchmarks.bench_cache [--database sqlite|postgresql] [--papers 200000]
        [--seconds 10] [--rounds 3] [--concurrency 1,8] [--workers 2] [--no-rate-limit]

Uses the corpus bench_api builds (and builds it the same way if missing). Two
scholargraph servers run as `scholargraph serve --workers N` with one Redis
(SCHOLARGRAPH_REDIS_URL, default the local one; keys under a prefix of this
run, deleted at the end): one with the cache off
(SCHOLARGRAPH_CACHE_MAX_BYTES=0), whose every request runs the query (cold),
and one with it on. On the second, a POST of the same profile query again
and again is a hit (warm), and a GET whose If-None-Match names the answer's
ETag is a 304 without a body. wrk drives each in turn, round after round, as
in bench_api; the ratios to cold within each round are printed, their median
over rounds beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlencode

import httpx
import redis

from db.migrate import upgrade
from tests.benchmarks.bench_api import BUILD, WRK_SCRIPT, Sample, database_url, prepare
from tests.benchmarks.pages import SCHOLARGRAPH_PROFILE
from tests.benchmarks.servers import ROOT, Running, _process, free_port

REDIS_URL = os.environ.get("SCHOLARGRAPH_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


@contextmanager
def scholargraph(name: str, url: str, workers: int, prefix: str, **env: str) -> Iterator[Running]:
    """`scholargraph serve --workers N` over the corpus, sharing Redis under `prefix`."""
    port = free_port()
    environment = {
        **os.environ,
        "SCHOLARGRAPH_DATABASE_URL": url,
        "SCHOLARGRAPH_REDIS_URL": REDIS_URL,
        "SCHOLARGRAPH_REDIS_PREFIX": prefix,
        "SCHOLARGRAPH_RATE_LIMIT_PER_ADDRESS": "1000000000/minute",
        "SCHOLARGRAPH_LOG_LEVEL": "warning",
        **env,
    }
    command = [sys.executable, "-m", "api.cli", "serve", "--workers", str(workers)]
    command += ["--port", str(port)]
    with _process(name, command, port, env=environment, cwd=ROOT) as running:
        yield running


def wrk(
    base_url: str, path: str, *, body: Path | None, header: str | None, clients: int, seconds: int
) -> Sample:
    command = ["wrk", "-t1", f"-c{clients}", f"-d{seconds}s", "--timeout", "60s"]
    if header is not None:
        command += ["-H", header]
    command += ["-s", str(WRK_SCRIPT), base_url + path]
    if body is not None:
        command += ["--", str(body)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    figures = json.loads(output.strip().splitlines()[-1])
    if figures["errors"] or not figures["requests"]:
        raise SystemExit(f"wrk saw errors or no answers:\n{output}")
    return Sample(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        cpu_ms=0.0,
        client_cpu_ms=0.0,
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--papers", type=int, default=200_000)
    parser.add_argument("--researchers", type=int, help="default: papers / 10")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--no-rate-limit",
        action="store_true",
        help="serve without counting requests (SCHOLARGRAPH_RATE_LIMIT_ENABLED=false)",
    )
    parser.add_argument(
        "--concurrency", type=lambda t: [int(n) for n in t.split(",")], default=[1, 8]
    )
    args = parser.parse_args()
    if args.researchers is None:
        args.researchers = args.papers // 10
    return args


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args = parse_args()
    url = database_url(args.database, args.papers, args.researchers, args.seed)
    upgrade(url)
    profiles = asyncio.run(prepare(url, args.papers, args.researchers, args.seed))
    slug, size = profiles[0]  # the ~300-paper profile
    prefix = f"sg-bench:{uuid.uuid4().hex[:8]}:"
    query = {"query": SCHOLARGRAPH_PROFILE, "variables": {"slug": slug}}
    body = BUILD / "requests" / "cache-profile.json"
    body.parent.mkdir(parents=True, exist_ok=True)
    body.write_text(json.dumps(query))
    get_path = "/graphql?" + urlencode(
        {"query": SCHOLARGRAPH_PROFILE, "variables": json.dumps({"slug": slug})}
    )
    kinds = ["cold", "warm", "304"]
    counting = {"SCHOLARGRAPH_RATE_LIMIT_ENABLED": "false"} if args.no_rate_limit else {}
    results: dict[tuple[str, int], list[Sample]] = {}
    try:
        with ExitStack() as stack:
            cold = stack.enter_context(
                scholargraph(
                    "cold",
                    url,
                    args.workers,
                    prefix + "cold:",
                    SCHOLARGRAPH_CACHE_MAX_BYTES="0",
                    **counting,
                )
            )
            cached = stack.enter_context(
                scholargraph("cached", url, args.workers, prefix, **counting)
            )
            with httpx.Client(timeout=120) as client:
                answers = [client.post(s.base_url + "/graphql", json=query) for s in (cold, cached)]
                answers.append(client.post(cached.base_url + "/graphql", json=query))
                if len({a.content for a in answers}) != 1:
                    raise SystemExit("the cached answer differs from the cold one")
                tag = client.get(cached.base_url + get_path).headers["etag"]
                revalidated = client.get(cached.base_url + get_path, headers={"If-None-Match": tag})
                assert revalidated.status_code == 304, revalidated.status_code
            print(f"answers checked: cold, warm and GET equal; 304 for If-None-Match {tag}")
            runs = {
                "cold": (cold.base_url, "/graphql", body, None),
                "warm": (cached.base_url, "/graphql", body, None),
                "304": (cached.base_url, get_path, None, f"If-None-Match: {tag}"),
            }
            for clients in args.concurrency:
                for kind in kinds:  # warm-up
                    base, path, sent, header = runs[kind]
                    wrk(base, path, body=sent, header=header, clients=clients, seconds=2)
            for _ in range(args.rounds):
                for clients in args.concurrency:
                    for kind in kinds:
                        base, path, sent, header = runs[kind]
                        sample = wrk(
                            base,
                            path,
                            body=sent,
                            header=header,
                            clients=clients,
                            seconds=args.seconds,
                        )
                        results.setdefault((kind, clients), []).append(sample)
    finally:
        shared = redis.Redis.from_url(REDIS_URL)
        keys = list(shared.scan_iter(match=prefix + "*", count=1000))
        if keys:
            shared.delete(*keys)
        shared.close()
    print(
        f"\nprofile of {slug} ({size} papers), {args.database}, {args.papers:,} papers; "
        f"scholargraph serve --workers {args.workers} with Redis"
        f"{', no rate limit' if args.no_rate_limit else ''}; "
        f"{args.rounds} rounds of {args.seconds} s, wrk"
    )
    print(f"{'clients':>7} {'kind':>5} {'req/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'x cold':>7}")
    for clients in args.concurrency:
        for kind in kinds:
            samples = results[kind, clients]
            ratios = [
                s.rate / c.rate for s, c in zip(samples, results["cold", clients], strict=True)
            ]
            rate = statistics.median(s.rate for s in samples)
            p50 = statistics.median(s.p50_ms for s in samples)
            p99 = statistics.median(s.p99_ms for s in samples)
            print(
                f"{clients:>7} {kind:>5} {rate:9.1f} {p50:7.2f} {p99:7.2f} "
                f"{statistics.median(ratios):7.1f}"
            )


if __name__ == "__main__":
    main()
