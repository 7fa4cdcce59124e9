"""Limits that keep one request from taking the whole server.

Before execution: the document's tokens, depth and aliases, measured once
per document, and its cost, counted per request the way GitHub's GraphQL API
counts nodes (schema.plans and schema.analysis say how). A request over a
limit is refused before any SQL runs, with the figure in the error; an
accepted request reports its cost in the response's `extensions`.

Around the request, as ASGI middleware: a size limit on the body and a time
limit on the whole request.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.observability import request_record
from api.settings import Settings
from resolvers.bounds import ListBounds
from resolvers.deadline import deadline_in
from schema import ExtensionFactory
from schema.plans import Limits, OperationPlans, Planner


def planner_of(settings: Settings) -> Planner:
    """The planner of the configured limits: each document planned once (schema.plans)."""
    limits = Limits(
        max_depth=settings.max_depth,
        max_aliases=settings.max_aliases,
        max_tokens=settings.max_tokens,
        max_cost=settings.max_cost,
    )
    return Planner(
        limits,
        maxsize=settings.planned_documents_max,
        fast_path=settings.fast_path,
        compiled_reads=settings.compiled_reads,
    )


def protection_extensions(
    planner: Planner, bounds: Callable[[], ListBounds]
) -> list[ExtensionFactory]:
    """The pre-execution limits, as the planner holds them."""
    return [lambda: OperationPlans(planner=planner, bounds=bounds)]


class BodySizeLimit:
    """Refuses request bodies over `max_bytes` with 413, declared or streamed."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self._message = f"The request body is over {max_bytes:,} bytes."

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await send_error(send, 413, self._message, code="BODY_TOO_LARGE")
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise _TooLargeError
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLargeError:
            await send_error(send, 413, self._message, code="BODY_TOO_LARGE")


class _TooLargeError(Exception):
    """A streamed body went over the limit."""


class TimeLimit:
    """Ends a request that runs longer than `seconds` with 503 and a GraphQL-shaped error.

    Two things stop the work: an asyncio timeout cancels whatever the request
    awaits (a statement, a lock), and the deadline set here stops the GraphQL
    executor at its next field (schema.execution), which an asyncio timeout
    cannot do while the work never awaits. An answer that is ready only after
    the deadline is replaced by the 503, so no late answer looks like a success.
    """

    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self.app = app
        self.seconds = seconds
        self.message = f"The request took longer than {seconds:g} s and was stopped."

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = late = False

        async def watched(message: Message) -> None:
            nonlocal started, late
            if message["type"] == "http.response.start" and time.monotonic() >= deadline:
                late = True
            if late:
                return
            started = True
            await send(message)

        with deadline_in(self.seconds) as deadline:
            try:
                async with asyncio.timeout_at(_loop_time(deadline)):
                    await self.app(scope, receive, watched)
            except TimeoutError:
                late = not started
        if late:
            await send_error(send, 503, self.message, code="TIMEOUT")


def _loop_time(monotonic_at: float) -> float:
    """The event loop's clock reading at a time.monotonic() reading."""
    return asyncio.get_running_loop().time() + (monotonic_at - time.monotonic())


async def send_error(
    send: Send,
    status: int,
    message: str,
    *,
    code: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Answer with a GraphQL-shaped error from middleware, where no GraphQL response exists.

    The code, lower-cased, is also the error's kind in the request's log line and metrics.
    """
    request_record().error_kinds.append(code.lower())
    error = {"message": message, "extensions": {"code": code}}
    body = json.dumps({"errors": [error]}).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send(
        {"type": "http.response.start", "status": status, "headers": [*head, *(headers or [])]}
    )
    await send({"type": "http.response.body", "body": body})
