"""What the server tells its operators: one JSON log line per request, and Prometheus metrics.

Each HTTP request gets a RequestRecord, reachable from anywhere in the
request through a context variable: the GraphQL view notes the errors and the
persisted-query outcome, a schema extension the operation's name and type, a
SQLAlchemy listener counts the statements. The request middleware
(api.middleware) turns the finished record into the log line and the metrics.

The metrics live in a registry of the app's own. With several workers
(`scholargraph serve --workers N`), prometheus_client's multiprocess mode is
on: `serve` gives the workers a fresh directory in PROMETHEUS_MULTIPROC_DIR,
each worker writes its figures to files there, and a scrape of any worker
answers the sum over all of them (the figures of workers that have stopped
included, as counters should). A gauge added here needs a `multiprocess_mode`
saying how workers' values combine (livesum, max ...). Per-process figures
(CPU, memory, file descriptors) are left out in that mode: summed they would
mean nothing.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLError
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    values,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response
from strawberry.extensions import SchemaExtension

from schema.masking import is_unexpected


@dataclass(slots=True)
class RequestRecord:
    """What one request did, filled in while it runs."""

    request_id: str | None = None
    operation_name: str | None = None
    operation_type: str | None = None  # query, mutation or subscription; None if not GraphQL
    statement_count: int = 0
    error_kinds: list[str] = field(default_factory=list)  # masked, validation or user
    persisted_query: str | None = None  # hit, miss, stored or invalid, when one was sent


# Set per request by the middleware; a mutable record so that tasks spawned
# inside the request (DataLoader batches) add to the same counts.
current_request: ContextVar[RequestRecord | None] = ContextVar("current_request", default=None)


def request_record() -> RequestRecord:
    """This request's record; a detached one outside a request, so callers need not check."""
    return current_request.get() or RequestRecord()


def count_statements(*engines: AsyncEngine) -> None:
    """Count every SQL statement these engines run into the current request's record."""
    for engine in engines:
        event.listen(engine.sync_engine, "before_cursor_execute", _count_statement)


def _count_statement(*_args: Any) -> None:
    record = current_request.get()
    if record is not None:
        record.statement_count += 1


def error_kind(error: GraphQLError) -> str:
    """masked (our fault), validation (the request as a whole) or user (a field's argument)."""
    code = (error.extensions or {}).get("code")
    if is_unexpected(error) or code == "INTERNAL_SERVER_ERROR":
        return "masked"
    return "validation" if error.path is None else "user"


def note_errors(errors: Sequence[GraphQLError]) -> None:
    request_record().error_kinds.extend(error_kind(error) for error in errors)


class RecordOperation(SchemaExtension):
    """Notes the operation's name and type in the request record once the document is parsed."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        record = request_record()
        record.operation_name = context.operation_name
        if context.graphql_document is not None:
            try:
                record.operation_type = context.operation_type.value
            except RuntimeError:  # several operations and no operationName to choose one
                record.operation_type = None


MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def metrics_of_workers(workers: int) -> Iterator[None]:
    """While `workers` processes serve: a fresh directory for their metrics, removed after.

    A directory named by the operator (PROMETHEUS_MULTIPROC_DIR already set) is
    used as it is, and left for them to empty between runs.
    """
    if workers == 1 or MULTIPROCESS_VARIABLE in os.environ:
        yield
        return
    with tempfile.TemporaryDirectory(prefix="scholargraph-metrics-") as directory:
        # Worker processes start afresh and read it as they import prometheus_client.
        os.environ[MULTIPROCESS_VARIABLE] = directory
        try:
            yield
        finally:
            del os.environ[MULTIPROCESS_VARIABLE]


class Metrics:
    """The app's Prometheus metrics, in a registry of its own (see the module docstring)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # prometheus_client chose when first imported how every metric keeps its value: in
        # this process, or (PROMETHEUS_MULTIPROC_DIR set) in a file there for all to sum.
        self.multiprocess_dir = (
            None if values.ValueClass is values.MutexValue else os.environ[MULTIPROCESS_VARIABLE]
        )
        if self.multiprocess_dir:
            # A registry apart, for scrapes: what every worker wrote, summed.
            self.scraped = CollectorRegistry()
            MultiProcessCollector(self.scraped, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        else:
            self.scraped = self.registry
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
        self.requests = Counter(
            "scholargraph_http_requests",
            "HTTP requests by GraphQL operation type (none: not a GraphQL operation) and status.",
            ["operation_type", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "scholargraph_http_request_duration_seconds",
            "Time from the request's arrival to the end of its response, by operation type.",
            ["operation_type"],
            registry=self.registry,
        )
        self.errors = Counter(
            "scholargraph_graphql_errors",
            "GraphQL errors in responses: masked (our fault), validation, user (an argument).",
            ["kind"],
            registry=self.registry,
        )
        self.persisted_queries = Counter(
            "scholargraph_persisted_queries",
            "Automatic persisted queries: hit, miss (the client must send it), stored, invalid.",
            ["result"],
            registry=self.registry,
        )

        self._requests_by: dict[tuple[str, int], Counter] = {}
        self._latency_by: dict[str, Histogram] = {}
        self.redis_outages = Counter(
            "scholargraph_redis_outages",
            "Times Redis stopped answering one use of it (persisted_queries, rate_limit).",
            ["use"],
            registry=self.registry,
        )
        self.redis_fallbacks = Counter(
            "scholargraph_redis_fallbacks",
            "Requests served without Redis: persisted queries from memory, counts in memory.",
            ["use"],
            registry=self.registry,
        )

    def close(self) -> None:
        """The process is stopping: its live gauges no longer count (counters stay summed)."""
        if self.multiprocess_dir:
            mark_process_dead(os.getpid(), self.multiprocess_dir)  # type: ignore[no-untyped-call]

    def observe(self, record: RequestRecord, *, status: int, seconds: float) -> None:
        operation_type = record.operation_type or "none"
        # The labelled children, kept: prometheus_client finds them under a lock each time.
        counted = self._requests_by.get((operation_type, status))
        if counted is None:
            counted = self._requests_by[operation_type, status] = self.requests.labels(
                operation_type, str(status)
            )
        counted.inc()
        timed = self._latency_by.get(operation_type)
        if timed is None:
            timed = self._latency_by[operation_type] = self.latency.labels(operation_type)
        timed.observe(seconds)
        for kind in record.error_kinds:
            self.errors.labels(kind).inc()
        if record.persisted_query is not None:
            self.persisted_queries.labels(record.persisted_query).inc()


async def metrics_page(request: Request) -> Response:
    """GET /metrics: the metrics in Prometheus's text format, summed over workers if several."""
    metrics: Metrics = request.app.state.metrics
    return Response(generate_latest(metrics.scraped), media_type=CONTENT_TYPE_PLAIN_0_0_4)


# The attributes every LogRecord has; anything else on a record came through `extra=`.
# uvicorn's color_message is its message again, with terminal colours.
_STANDARD = {
    *vars(logging.LogRecord("", 0, "", 0, "", None, None)),
    *("message", "asctime", "color_message"),
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the `extra=` fields, traceback.

    A record logged inside a request carries that request's id, so every line
    about a request can be found from the id a client quotes.
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request = current_request.get()
        if request is not None and request.request_id is not None:
            line["request_id"] = request.request_id
        line.update((k, v) for k, v in vars(record).items() if k not in _STANDARD)
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def logging_config(level: str) -> dict[str, Any]:
    """dictConfig for `scholargraph serve`: JSON lines on stderr; our request line replaces
    uvicorn's access log."""
    json_handler = {"handlers": ["json"], "level": level.upper(), "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "json": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "scholargraph": json_handler,
            "uvicorn": json_handler,
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
