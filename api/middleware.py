"""Request logging: one JSON line and the metrics for every HTTP request, refused ones too."""

from __future__ import annotations

import logging
import time

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.observability import Metrics, RequestRecord, current_request
from api.ratelimit import RATE_LIMIT_HEADERS

logger = logging.getLogger("scholargraph.requests")


class RequestLog:
    """Opens the request's record, then logs and measures it when the response has gone.

    Sits inside RequestIds (the record takes its id) and outside everything
    that may refuse a request, so a 413 or a 503 is logged like a 200.
    """

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record = RequestRecord(request_id=scope.get("state", {}).get("request_id"))
        token = current_request.set(record)
        status = 500  # what the server answers when the app raises before responding
        started = time.perf_counter()

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            seconds = time.perf_counter() - started
            self.metrics.observe(record, status=status, seconds=seconds)
            log_request(record, scope, status=status, seconds=seconds)
            current_request.reset(token)


def log_request(record: RequestRecord, scope: Scope, *, status: int, seconds: float) -> None:
    line = {
        "request_id": record.request_id,
        "method": scope["method"],
        "path": scope["path"],
        "status": status,
        "operation_name": record.operation_name,
        "operation_type": record.operation_type,
        "duration_ms": round(seconds * 1000, 3),
        "sql_statements": record.statement_count,
        "errors": record.error_kinds,
    }
    if record.persisted_query is not None:
        line["persisted_query"] = record.persisted_query
    logger.info("%s %s %s", scope["method"], scope["path"], status, extra=line)


def cors(origins: list[str]) -> list[Middleware]:
    """CORS for pages on these origins; none (no CORS headers at all) when the list is empty.

    Callers authenticate with a bearer token, never a cookie, so credentials
    stay off; a page may read the request id, the ETag and the rate-limit headers.
    """
    if not origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type", "x-request-id"],
            expose_headers=["x-request-id", "etag", "retry-after", *RATE_LIMIT_HEADERS],
            max_age=600,
        )
    ]
