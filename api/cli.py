"""The `scholargraph` command: serve, migrate, seed and import.

What a user can fix (a bad file, a bad line, a cut-short gzip) ends a command
with the file, the line and the reason. Anything else is a fault of ours: it
ends with one line that names the log file holding the traceback (under the
temporary directory, scholargraph/error-<pid>.log), never with the traceback,
which may quote SQL and the rows being written.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import tempfile
import traceback
from collections.abc import Awaitable, Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
import uvicorn
from rich.console import Console
from rich.progress import Progress
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from api.changes import command_announcements
from api.observability import logging_config, metrics_of_workers
from api.settings import get_settings
from api.tokens import token_app
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from db.queries.stats import is_empty, row_counts
from db.writes import indexes
from db.writes.indicators import refresh_indicators
from seeds.generate import GeneratedCounts, generate_corpus
from seeds.importer import ImportSummary, StrictImportError, import_records
from seeds.jsonrecords import Line, UnreadableFileError
from seeds.load import LoadResult, import_profile_text
from seeds.manifest import read_manifest
from seeds.openalex import author_from_openalex, work_from_openalex
from seeds.openalex_snapshot import (
    Part,
    RecordCountError,
    SnapshotError,
    SnapshotSummary,
    import_snapshot,
)
from seeds.parse_worker import parsed_aside
from seeds.profile_text import ProfileFormatError, decode_profile
from seeds.seed import seed_database
from seeds.semanticscholar import record_from_s2


class _Command(typer.Typer):
    """The root command: an unexpected fault ends it with one line, its traceback in a log."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except Exception as error:  # every expected failure exits through typer.Exit
            _fail_unexpectedly(error)


app = _Command(
    help="scholargraph: researcher profiles and bibliometrics over GraphQL.",
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.")
import_app = typer.Typer(help="Load records from files.")
app.add_typer(db_app, name="db")
app.add_typer(import_app, name="import")
app.add_typer(token_app, name="token")

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema.graphql"

console = Console()
errors = Console(stderr=True)
T = TypeVar("T")


def run_with_sessions(
    work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]], *, writes: bool = False
) -> T:
    """Run `work` against the configured database, disposing of the engine afterwards.

    `writes`: what it writes drops the shared response cache's answers (api.changes).
    """

    async def main() -> T:
        engine = create_engine(get_settings().database_url)
        try:
            if not writes:
                return await work(create_session_factory(engine))
            async with command_announcements(get_settings()):
                return await work(create_session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(main())


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind.")] = None,
    port: Annotated[
        int | None, typer.Option(help="Port; default SCHOLARGRAPH_PORT or 8000.")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Server processes.")] = 1,
) -> None:
    """Serve the API (GraphQL at /graphql) until interrupted; logs are JSON lines on stderr.

    On SIGTERM the server stops accepting connections and lets the requests in
    flight finish, for at most SCHOLARGRAPH_SHUTDOWN_TIMEOUT_S seconds. Workers
    share persisted queries and rate-limit counts through SCHOLARGRAPH_REDIS_URL
    when it is set; /metrics sums all of them.
    """
    settings = get_settings()
    _announce(host or settings.host, port or settings.port)
    # Several workers: each writes its metrics where any of them can sum them for /metrics.
    with metrics_of_workers(workers):
        uvicorn.run(
            "api.app:create_served_app",
            factory=True,
            host=host or settings.host,
            port=port or settings.port,
            workers=workers,
            forwarded_allow_ips=settings.forwarded_allow_ips,
            log_level=settings.log_level,
            log_config=logging_config(settings.log_level),
            access_log=False,  # the app logs every request itself, as JSON (api.middleware)
            timeout_graceful_shutdown=settings.shutdown_timeout_s,
            # A worker answers its supervisor's pings only once it has imported what the
            # command imports (it is the worker's __main__): 13 s on a loaded two-core
            # machine, where uvicorn's 5 s killed every worker before it could start.
            timeout_worker_healthcheck=60,
        )


def _announce(host: str, port: int) -> None:
    """Where to point a browser, before uvicorn's own JSON lines start."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, f"[{host}]" if ":" in host else host)
    base = f"http://{shown}:{port}"
    console.print(
        f"scholargraph: open {base}/ in a browser once the server is running\n"
        f"  {base}/                       the start page\n"
        f"  {base}/researchers/david-bau  a profile page (the seed)\n"
        f"  {base}/graphql                GraphiQL\n"
        "logs follow as JSON lines; Ctrl-C stops the server",
        highlight=False,
        soft_wrap=True,
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create the database if needed and migrate it to the newest schema."""
    done = upgrade(get_settings().database_url)
    if done.before == done.after:
        console.print(f"database already at the newest migration ({done.after})")
    elif done.before is None:
        console.print(f"created the schema at revision {done.after}")
    else:
        console.print(f"upgraded the database from revision {done.before} to {done.after}")

    async def restore(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
        async with sessions() as session, session.begin():
            return await indexes.restore(await session.connection())

    if built := run_with_sessions(restore):
        console.print(
            f"built {', '.join(built)}: an import that did not finish had left them to its end",
            highlight=False,
            soft_wrap=True,
        )


@db_app.command("refresh-indicators")
def db_refresh_indicators() -> None:
    """Recompute every researcher's leaderboard figures (after changing rows by hand)."""

    async def work(sessions: async_sessionmaker[AsyncSession]) -> None:
        async with sessions() as session, session.begin():
            await refresh_indicators(await session.connection())

    run_with_sessions(work, writes=True)
    console.print("leaderboard figures recomputed")


@app.command()
def seed(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing when papers or researchers exist.")
    ] = False,
) -> None:
    """Load every profile listed in seeds/manifest.toml (idempotent)."""

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[LoadResult] | None:
        async with sessions() as session:
            if if_empty and not await is_empty(await session.connection()):
                return None
        return await seed_database(sessions)

    results = _or_exit(lambda: run_with_sessions(work, writes=True))
    if results is None:
        console.print("database already holds data; seed skipped")
        return
    for item, result in zip(read_manifest().profiles, results, strict=True):
        _report(item.path.name, result)


@import_app.command("profile")
def import_profile(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    undated_year: Annotated[
        int, typer.Option(help="Year of entries dated without one (the year of capture).")
    ],
    source: Annotated[
        str | None, typer.Option(help="Name of the source; default the file name.")
    ] = None,
) -> None:
    """Load a profile page's text; nothing is written if any line does not parse."""

    async def work(sessions: async_sessionmaker[AsyncSession]) -> LoadResult:
        text = decode_profile(file.read_bytes())
        async with sessions() as session, session.begin():
            return await import_profile_text(
                session,
                text,
                undated_year=undated_year,
                source=source or file.name,
                institution_names=read_manifest().institution_names,
            )

    _report(file.name, _or_exit(lambda: run_with_sessions(work, writes=True), file=file))


@app.command()
def generate(
    papers: Annotated[int, typer.Option(min=0, help="Papers to create.")] = 10_000,
    researchers: Annotated[int, typer.Option(min=1, help="Researchers to create.")] = 1_000,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same corpus.")
    ] = 1,
) -> None:
    """Add a synthetic, heavy-tailed corpus (for benchmarks and trying leaderboards)."""

    async def work(sessions: async_sessionmaker[AsyncSession]) -> GeneratedCounts:
        async with sessions() as session, session.begin():
            connection = await session.connection()
            return await generate_corpus(
                connection, papers=papers, researchers=researchers, seed=seed
            )

    counts = run_with_sessions(work, writes=True)
    console.print(
        f"generated {counts.researchers:,} researchers, {counts.papers:,} papers, "
        f"{counts.authorships:,} authorships, {counts.citation_years:,} per-year counts"
    )


@app.command("export-schema")
def export_schema(
    path: Annotated[Path, typer.Argument(help="Where to write the SDL.")] = SCHEMA_PATH,
) -> None:
    """Write the served GraphQL schema, sorted, to schema.graphql (for typed clients)."""
    from schema import sorted_sdl  # the schema is only built by the commands that need it

    path.write_text(sorted_sdl(), encoding="utf-8")
    console.print(f"wrote {path}")


def _import_bibliographic(
    files: list[Path], mapper: Callable[[Path], Iterator[tuple[Line, Any]]], *, strict: bool
) -> None:
    """Stream the files' records into the database and print what happened."""
    tally = _Tally()

    async def work(sessions: async_sessionmaker[AsyncSession]) -> ImportSummary:
        records = tally.reading(itertools.chain.from_iterable(mapper(path) for path in files))
        with Progress(transient=True, disable=not console.is_terminal) as progress:
            task = progress.add_task("importing", total=None)

            def written(count: int) -> None:
                tally.written += count
                progress.advance(task, count)

            return await import_records(sessions, records, strict=strict, progress=written)

    try:
        summary = run_with_sessions(work, writes=True)
    except StrictImportError as error:
        errors.print(
            f"[red]error:[/red] {error} (--strict: nothing of this batch was written)",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(code=1) from error
    except UnreadableFileError as error:
        tally.print_problems()
        errors.print(f"[red]error:[/red] {error}", highlight=False, soft_wrap=True)
        errors.print(
            f"{tally.written_before()}; once the file is whole, run the same command again:"
            " what was written is matched, not duplicated",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(code=1) from error
    except Exception as error:
        tally.print_problems()
        _fail_unexpectedly(error, tally.written_before())
    for problem in summary.problems:
        errors.print(f"skipped {problem}", highlight=False, soft_wrap=True)
    console.print(_counts(summary), highlight=False)
    if summary.indexes_deferred:
        console.print(
            "(the indexes on papers' dates and citations and on researchers' papers were"
            " built once at the end rather than kept up row by row)",
            highlight=False,
            soft_wrap=True,
        )


class _Tally:
    """What an import has read and written, for a report when it stops half way."""

    def __init__(self) -> None:
        self.read = 0
        self.written = 0
        self.problems: list[str] = []

    def reading(self, records: Iterable[tuple[Line, Any]]) -> Iterator[tuple[Line, Any]]:
        for line, record in records:
            self.read += 1
            if isinstance(record, str):
                self.problems.append(f"{line.file}:{line.line}: {record}")
            yield line, record

    def print_problems(self) -> None:
        for problem in self.problems:
            errors.print(f"skipped {problem}", highlight=False, soft_wrap=True)

    def written_before(self) -> str:
        waiting = self.read - len(self.problems) - self.written
        return (
            f"{self.written:,} records were written before it stopped"
            f" ({waiting:,} more were read and not written)"
        )


Files = Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, readable=True)]
Strict = Annotated[
    bool, typer.Option("--strict", help="Stop at the first bad record; write nothing of its batch.")
]


@import_app.command("openalex")
def import_openalex(
    files: Annotated[
        list[Path],
        typer.Argument(
            exists=True,
            readable=True,
            metavar="FILES... | DIR",
            help="Works files, or one snapshot folder as OpenAlex publishes it.",
        ),
    ],
    authors: Annotated[
        list[Path] | None,
        typer.Option("--authors", exists=True, dir_okay=False, help="OpenAlex author records."),
    ] = None,
    strict: Strict = False,
) -> None:
    """Load OpenAlex works (JSON lines or saved responses, plain or gzip), or a snapshot folder.

    A folder (data/works/manifest, data/works/updated_date=.../part_000.gz,
    data/authors/..., data/merged_ids/...) is imported part by part in order of
    date, merged ids applied; a rerun skips the parts already imported.
    """
    folders = [path for path in files if path.is_dir()]
    if folders:
        if len(files) > 1 or authors:
            errors.print(
                "[red]error:[/red] give one snapshot folder, or files (with --authors), not both",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(code=2)
        _import_snapshot(folders[0], strict=strict)
        return

    def records(path: Path) -> Iterator[tuple[Line, Any]]:
        mapper = author_from_openalex if path in (authors or []) else work_from_openalex
        return parsed_aside(path, mapper)

    _import_bibliographic([*files, *(authors or [])], records, strict=strict)


def _import_snapshot(folder: Path, *, strict: bool) -> None:
    """Import an OpenAlex snapshot folder; one line per part, then what was done in all."""

    def finished(part: Part, summary: ImportSummary) -> None:
        for problem in summary.problems:
            errors.print(f"skipped {problem}", highlight=False, soft_wrap=True)
        console.print(f"{part.name}: {_counts(summary)}", highlight=False, soft_wrap=True)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> SnapshotSummary:
        with Progress(transient=True, disable=not console.is_terminal) as progress:
            task = progress.add_task("importing", total=None)
            return await import_snapshot(
                sessions,
                folder,
                strict=strict,
                on_part=finished,
                progress=lambda count: progress.advance(task, count),
            )

    try:
        summary = run_with_sessions(work, writes=True)
    except (SnapshotError, UnreadableFileError, StrictImportError) as error:
        problems = error.problems if isinstance(error, SnapshotError) else [str(error)]
        for problem in problems[:_PROBLEMS_SHOWN]:
            errors.print(f"[red]error:[/red] {problem}", highlight=False, soft_wrap=True)
        if len(problems) > _PROBLEMS_SHOWN:
            errors.print(f"... and {len(problems) - _PROBLEMS_SHOWN:,} more", highlight=False)
        if not isinstance(error, SnapshotError) or isinstance(error, RecordCountError):
            fix = (
                "without --strict or once the record is fixed"
                if isinstance(error, StrictImportError)
                else "once the file is whole"
            )
            errors.print(
                f"the parts before it are imported and recorded; {fix}, run the"
                " same command again: it skips them and starts this part over",
                highlight=False,
                soft_wrap=True,
            )
        raise typer.Exit(code=1) from error
    _report_snapshot(summary)


def _report_snapshot(summary: SnapshotSummary) -> None:
    if summary.unlisted:
        console.print(
            f"{len(summary.unlisted):,} files not in a manifest were left alone"
            f" (the first: {summary.unlisted[0]})",
            highlight=False,
            soft_wrap=True,
        )
    if summary.not_imported:
        console.print(
            f"{len(summary.not_imported):,} institutions parts not read: an institution is"
            " stored as the authors and works that name it give it",
            highlight=False,
            soft_wrap=True,
        )
    if summary.nothing_to_do:
        console.print(
            f"nothing to import: all {summary.parts_done_before:,} parts and"
            f" {summary.merges_done_before:,} merged-ids files were imported before",
            highlight=False,
        )
        return
    if summary.merge_files:
        merges = ", ".join(
            f"{entity}: {summary.folded.get(entity, 0):,} folded into their targets,"
            f" {summary.renamed.get(entity, 0):,} took their new id"
            for entity in sorted(set(summary.folded) | set(summary.renamed))
        )
        console.print(
            f"{summary.merge_files:,} merged-ids files applied ({merges})",
            highlight=False,
            soft_wrap=True,
        )
    if summary.merged_away:
        console.print(
            f"{summary.merged_away:,} records left out: their ids were merged into others'",
            highlight=False,
        )
    console.print(
        f"{len(summary.imported):,} parts imported ({_counts(summary.total())}),"
        f" {summary.parts_done_before:,} skipped as imported before",
        highlight=False,
        soft_wrap=True,
    )


def _counts(summary: ImportSummary) -> str:
    return (
        f"{summary.created:,} created, {summary.updated:,} updated,"
        f" {summary.unchanged:,} unchanged, {summary.skipped:,} skipped"
    )


_PROBLEMS_SHOWN = 10


@import_app.command("s2")
def import_s2(files: Files, strict: Strict = False) -> None:
    """Load Semantic Scholar papers and authors (with their nested papers)."""
    _import_bibliographic(files, lambda path: parsed_aside(path, record_from_s2), strict=strict)


@app.command()
def stats() -> None:
    """Print the number of rows in every table."""

    async def work(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
        async with sessions() as session:
            return await row_counts(await session.connection())

    for table, count in run_with_sessions(work).items():
        console.print(f"{table:24} {count:>10,}")


def _or_exit(action: Callable[[], T], *, file: Path | None = None) -> T:
    """Run an import; a file that does not parse ends the command with its reason."""
    try:
        return action()
    except ProfileFormatError as error:
        where = f"{file.name}:{error.line}: {error.reason}" if file else str(error)
        errors.print(f"[red]error:[/red] {where}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=1) from error


def _fail_unexpectedly(error: Exception, note: str | None = None) -> NoReturn:
    """End the command on a fault of ours: one line for the user, the traceback in a file."""
    log = Path(tempfile.gettempdir()) / "scholargraph" / f"error-{os.getpid()}.log"
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as out:
            out.write(f"{datetime.now(UTC).isoformat()} scholargraph {' '.join(sys.argv[1:])}\n")
            out.write("".join(traceback.format_exception(error)))
        details = f"the details are in {log}"
    except OSError as unwritable:
        details = f"the details could not be written to {log} ({unwritable.strerror})"
    summary = (str(error).strip().splitlines() or [""])[0][:_SUMMARY_LIMIT]
    errors.print(
        f"[red]error:[/red] unexpected fault, {type(error).__name__}: {summary}; {details}",
        highlight=False,
        soft_wrap=True,
    )
    if note:
        errors.print(note, highlight=False, soft_wrap=True)
    raise SystemExit(1)


_SUMMARY_LIMIT = 200  # a database error's first line may go on to quote SQL and rows


def _report(name: str, result: LoadResult) -> None:
    console.print(
        f"{name}: {result.papers_created} papers created, {result.papers_updated} updated, "
        f"{result.papers_unchanged} unchanged",
        highlight=False,
    )


if __name__ == "__main__":
    app()
