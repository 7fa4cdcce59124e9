"""The response cache: the profile page cold, answered from the cache, and as a 304.

    python -m tests.benchmarks.bench_cache [--database sqlite|postgresql] [--papers 200000]
        [--seconds 10] [--rounds 3] [--concurrency 1,8] [--workers 2] [--no-rate-limit]

Uses the corpus bench_api builds (and builds it the same way if missing). Two
scholargraph servers run as `scholargraph serve --workers N` with one Redis
(SCHOLARGRAPH_BENCH_REDIS_URL, default the local one; keys under a prefix of
this run, deleted at the end): one with the cache off
(SCHOLARGRAPH_CACHE_MAX_BYTES=0), whose every request runs the query (cold),
and one with it on. On the second, a POST of the same profile query again
and again is a hit (warm), and a GET whose If-None-Match names the answer's
ETag is a 304 without a body. wrk drives each in turn, round after round, as
in bench_api; the ratios to cold within each round are printed, their median
over rounds beside them. `make bench` measures warm and 304 too, beside
PostGraphile and a one-process scholargraph; this one compares them with the
same deployment serving cold.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import sys
from contextlib import ExitStack

from db.migrate import upgrade
from tests.benchmarks.bench_api import (
    Contender,
    Sample,
    Workload,
    cached_contenders,
    database_url,
    prepare,
    run_wrk,
    workloads,
)
from tests.benchmarks.servers import redis_prefix, scholargraph_workers


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
    page: Workload = workloads(profiles[:1])[0]  # the ~300-paper profile
    counting = {"SCHOLARGRAPH_RATE_LIMIT_ENABLED": "false"} if args.no_rate_limit else {}
    results: dict[tuple[str, int], list[Sample]] = {}
    with ExitStack() as stack:
        prefix = stack.enter_context(redis_prefix())
        cold = stack.enter_context(
            scholargraph_workers(
                "cold",
                url,
                workers=args.workers,
                redis_prefix=prefix + "cold:",
                SCHOLARGRAPH_CACHE_MAX_BYTES="0",
                **counting,
            )
        )
        cached = stack.enter_context(
            scholargraph_workers(
                "cached", url, workers=args.workers, redis_prefix=prefix, **counting
            )
        )
        contenders = cached_contenders(cached, [page], reference=cold)
        warm = contenders[0].drives[page.label]
        contenders.insert(0, Contender("cold", cold, {page.label: warm}))
        for clients in args.concurrency:
            for contender in contenders:  # warm-up
                run_wrk(contender.server, contender.drives[page.label], clients, 2)
        for _ in range(args.rounds):
            for clients in args.concurrency:
                for contender in contenders:
                    sample = run_wrk(
                        contender.server, contender.drives[page.label], clients, args.seconds
                    )
                    results.setdefault((contender.name, clients), []).append(sample)
    print(
        f"\n{page.label}, {args.database}, {args.papers:,} papers; "
        f"scholargraph serve --workers {args.workers} with Redis"
        f"{', no rate limit' if args.no_rate_limit else ''}; "
        f"{args.rounds} rounds of {args.seconds} s, wrk"
    )
    print(
        f"{'clients':>7} {'kind':>5} {'req/s':>9} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'cpu ms':>7} {'x cold':>7}"
    )
    for clients in args.concurrency:
        for contender in contenders:
            samples = results[contender.name, clients]
            ratios = [
                s.rate / c.rate for s, c in zip(samples, results["cold", clients], strict=True)
            ]
            rate = statistics.median(s.rate for s in samples)
            p50 = statistics.median(s.p50_ms for s in samples)
            p99 = statistics.median(s.p99_ms for s in samples)
            cpu = statistics.median(s.cpu_ms for s in samples)
            print(
                f"{clients:>7} {contender.name:>5} {rate:9.1f} {p50:7.2f} {p99:7.2f} "
                f"{cpu:7.2f} {statistics.median(ratios):7.1f}"
            )


if __name__ == "__main__":
    main()
