"""Works per second and peak memory importing a generated OpenAlex file, on SQLite and PostgreSQL.

    python -m tests.benchmarks.bench_import [--works 100000] [--database sqlite|postgresql|both]
        [--batch 4000]

Writes the file once under build/bench/, then imports it into a fresh,
migrated database of each kind with the same code as `scholargraph import
openalex`, each import in a process of its own so that its peak resident
memory is its own. The PostgreSQL server is the one `make bench` uses
(SCHOLARGRAPH_BENCH_POSTGRES_URL, default the local server); the databases
made here are dropped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from seeds.importer import DEFAULT_BATCH, import_records
from seeds.openalex import work_from_openalex
from seeds.openalex_fixture import write_works
from seeds.parse_worker import parsed_aside
from tests.benchmarks.bench_api import BUILD, create_database, libpq_url


def server_url() -> str:
    return os.environ.get(
        "SCHOLARGRAPH_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    )


async def drop_database(name: str) -> None:
    connection = await asyncpg.connect(libpq_url(server_url()))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def run(url: str, path: Path, batch_size: int = DEFAULT_BATCH) -> None:
    """Import the file into the database at `url`; print the rate, the summary and peak memory.

    Beside the wall-clock rate it prints the CPU the import cost: this
    process's, its reader's (seeds.parse_worker), and on PostgreSQL the server
    backends' it used (read from /proc, the server being local). The reader's
    peak memory is not its children's ru_maxrss: that counts the copy of this
    process a fork makes before it runs the reader (80 MB; the reader itself
    stays at 17 MB, /usr/bin/time -f %M). On a shared machine the wall clock
    measures the neighbours too; works per CPU-second does not. The server's
    share counts the backends still open at the end and, through the CPU the
    postmaster has collected from children that exited meanwhile, those the
    import closed (a pool's overflow, the workers of a parallel index build,
    autovacuum on the tables it filled).
    """
    engine = create_engine(url)
    try:
        postgres = "postgresql" in url
        postmaster = parent_pid((await backend_pids(engine))[0]) if postgres else None
        reaped = exited_children_cpu(postmaster)
        started, cpu_started = time.perf_counter(), time.process_time()
        reader_started = _children_cpu()
        summary = await import_records(
            create_session_factory(engine),
            parsed_aside(path, work_from_openalex),
            batch_size=batch_size,
        )
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        reader_cpu = _children_cpu() - reader_started
        server_cpu = 0.0
        if postgres:
            server_cpu = cpu_seconds(await backend_pids(engine))
            server_cpu += exited_children_cpu(postmaster) - reaped
    finally:
        await engine.dispose()
    done = summary.created + summary.updated + summary.unchanged
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{make_url(url).get_backend_name():11} {done:,} works: {done / elapsed:8.0f} works/s"
        f"   peak RSS {peak_mb:5.0f} MB"
        f"   CPU {cpu:.1f} s here + {reader_cpu:.1f} s reader + {server_cpu:.1f} s server"
        f" = {done / (cpu + reader_cpu + server_cpu):,.0f} works per CPU-second"
        f"   ({summary.created} created, {summary.updated} updated,"
        f" {summary.unchanged} unchanged, {summary.skipped} skipped, {elapsed:.1f} s)",
        flush=True,
    )


def _children_cpu() -> float:
    """User and system CPU of this process's children that have exited (the file's reader)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def backend_pids(engine: AsyncEngine) -> list[int]:
    """The server backends serving this database's scholargraph connections."""
    statement = text(
        "SELECT pid FROM pg_stat_activity"
        " WHERE datname = current_database() AND application_name = 'scholargraph'"
    )
    async with engine.connect() as connection:
        return list((await connection.execute(statement)).scalars())


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU of these local processes, from /proc."""
    return sum(_stat_seconds(pid, 11) for pid in pids)


def exited_children_cpu(pid: int | None) -> float:
    """The CPU of the children this process has collected after they exited."""
    return 0.0 if pid is None else _stat_seconds(pid, 13)


def parent_pid(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[1]) if fields else None


def _stat_seconds(pid: int, first: int) -> float:
    """Fields `first` and the next of /proc/PID/stat (counted after the name), in seconds."""
    fields = _stat_fields(pid)
    if not fields:
        return 0.0
    return (int(fields[first]) + int(fields[first + 1])) / os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []  # a server on another host: its CPU is not ours to read


def arguments(doc: str | None) -> argparse.Namespace:
    """--works, --database and the child's --into: the arguments of this and bench_snapshot."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--works", type=int, default=100_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="records per batch")
    parser.add_argument("--into", help=argparse.SUPPRESS)  # the child process: import into URL
    return parser.parse_args()


@contextmanager
def fresh_database(kind: str, name: str) -> Iterator[str]:
    """The URL of a new, migrated database of this kind; dropped afterwards, whatever happens."""
    if kind == "sqlite":
        sqlite = BUILD / f"{name}.db"
        url = f"sqlite+aiosqlite:///{sqlite}"
    else:
        asyncio.run(create_database(server_url(), name))
        url = make_url(server_url()).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        if kind == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{sqlite}{suffix}").unlink(missing_ok=True)
        else:
            asyncio.run(drop_database(name))


def run_children(args: argparse.Namespace, module: str) -> None:
    """`python -m module --into URL --works N` once per database asked for, each into a
    fresh database and in a process of its own, so that its peak memory is its own."""
    stamp = int(time.time())
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    for kind in kinds:
        with fresh_database(kind, f"{module.rsplit('.', 1)[-1]}_{stamp}") as url:
            command = [sys.executable, "-m", module, "--into", url, "--works", str(args.works)]
            command += ["--batch", str(args.batch)]
            subprocess.run(command, check=True)


def main() -> None:
    args = arguments(__doc__)
    BUILD.mkdir(parents=True, exist_ok=True)
    path = BUILD / f"openalex-{args.works}.jsonl.gz"
    if args.into:
        asyncio.run(run(args.into, path, args.batch))
        return
    if not path.exists():
        print(f"writing {args.works:,} generated works to {path} ...", flush=True)
        write_works(path, args.works, seed=1)
    run_children(args, "tests.benchmarks.bench_import")


if __name__ == "__main__":
    main()
