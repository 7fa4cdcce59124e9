"""Works per second importing a generated OpenAlex file, on SQLite and on PostgreSQL.

    python -m tests.benchmarks.bench_import [--works 100000]

Writes the file once under build/bench/, then imports it into a fresh,
migrated database of each kind with the same code as `scholargraph import
openalex`, and prints the rate and the summary.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from seeds.importer import import_records, parsed
from seeds.jsonrecords import read_records
from seeds.openalex import work_from_openalex
from seeds.openalex_fixture import write_works
from tests.benchmarks.bench_api import BUILD, create_database

POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


async def run(url: str, path: Path) -> tuple[float, str]:
    engine = create_engine(url)
    try:
        started = time.perf_counter()
        summary = await import_records(
            create_session_factory(engine), parsed(read_records(path), work_from_openalex)
        )
        elapsed = time.perf_counter() - started
    finally:
        await engine.dispose()
    done = summary.created + summary.updated + summary.unchanged
    return done / elapsed, f"{summary.created} created, {summary.skipped} skipped, {elapsed:.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--works", type=int, default=100_000)
    args = parser.parse_args()
    BUILD.mkdir(parents=True, exist_ok=True)
    path = BUILD / f"openalex-{args.works}.jsonl.gz"
    if not path.exists():
        write_works(path, args.works, seed=1)
    stamp = int(time.time())
    sqlite = BUILD / f"import-{stamp}.db"
    targets = {"sqlite": f"sqlite+aiosqlite:///{sqlite}"}
    name = f"bench_import_{stamp}"
    asyncio.run(create_database(POSTGRES, name))
    targets["postgresql"] = POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    for kind, url in targets.items():
        upgrade(url)
        rate, summary = asyncio.run(run(url, path))
        print(f"{kind:11} {args.works:,} works: {rate:8.0f} works/s  ({summary})", flush=True)
    sqlite.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
