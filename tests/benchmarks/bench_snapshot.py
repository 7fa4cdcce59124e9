"""Time to import a generated OpenAlex snapshot folder, and to run the same import again.

    python -m tests.benchmarks.bench_snapshot [--works 100000] [--database sqlite|postgresql|both]

Writes the folder once under build/bench/ in the published layout (works in
parts of 25,000 over two dates, an authors part with a record per author,
merged ids for works and authors), then imports it into a fresh, migrated
database of each kind as `scholargraph import openalex DIR` does, each run in
a process of its own; then runs it again (every part done: nothing to do).
The databases made here are dropped at the end, whatever happens.
"""

from __future__ import annotations

import asyncio
import resource
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from db.engine import create_engine, create_session_factory
from seeds.openalex_fixture import works as generated_works
from seeds.openalex_snapshot import import_snapshot
from tests.benchmarks.bench_api import BUILD
from tests.benchmarks.bench_import import arguments, run_children
from tests.seeds.snapshot_folder import SnapshotFolder

PART = 25_000


def write_snapshot(root: Path, count: int) -> None:
    folder = SnapshotFolder(root)
    works = list(generated_works(count, seed=1))
    half = len(works) // 2
    for date, chunk in (("2024-01-01", works[:half]), ("2024-06-01", works[half:])):
        for start in range(0, len(chunk), PART):
            folder.add_part("works", date, chunk[start : start + PART])
    people = {
        a["author"]["id"]: a["author"]["display_name"] for w in works for a in w["authorships"]
    }
    folder.add_part(
        "authors",
        "2024-03-01",
        [
            {
                "id": aid,
                "display_name": name,
                "works_count": 1,
                "cited_by_count": 1,
                "summary_stats": {"h_index": 1, "i10_index": 0, "2yr_mean_citedness": 0.5},
            }
            for aid, name in people.items()
        ],
    )
    ids = sorted(people)
    folder.add_merges(
        "authors",
        "2024-07-01",
        [
            (a.rsplit("/", 1)[1], b.rsplit("/", 1)[1])
            for a, b in zip(ids[:50], ids[50:100], strict=True)
        ],
    )
    folder.add_merges(
        "works",
        "2024-07-01",
        [(f"W{5_000_000_000 + i}", f"W{5_000_000_000 + i + 1}") for i in range(0, 100, 2)],
    )


async def run(url: str, root: Path) -> None:
    engine = create_engine(url)
    baseline_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:
        for attempt in ("first run", "rerun"):
            started, cpu_started = time.perf_counter(), time.process_time()
            summary = await import_snapshot(create_session_factory(engine), root)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            total = summary.total()
            done = total.created + total.updated + total.unchanged
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"{make_url(url).get_backend_name():11} {attempt:9} {elapsed:7.1f} s"
                f"  {len(summary.imported)} parts, {done:,} records"
                f" ({done / elapsed:,.0f}/s), {summary.parts_done_before} parts skipped,"
                f" {summary.merged_away} merged away; CPU here {cpu:.1f} s;"
                f" peak RSS {peak_mb:.0f} MB ({baseline_mb:.0f} MB before it started)",
                flush=True,
            )
    finally:
        await engine.dispose()


def main() -> None:
    args = arguments(__doc__)
    root = BUILD / f"openalex-snapshot-{args.works}"
    if args.into:
        asyncio.run(run(args.into, root))
        return
    if not (root / "data" / "works" / "manifest").exists():
        print(f"writing a snapshot of {args.works:,} generated works to {root} ...", flush=True)
        write_snapshot(root, args.works)
    run_children(args, "tests.benchmarks.bench_snapshot")


if __name__ == "__main__":
    main()
