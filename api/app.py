"""The Starlette application: routes, middleware and the lifespan that owns the engine."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator

from limits.aio.storage import Storage
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from api.cache import create_cache
from api.changes import ChangeHub
from api.execution import YOUNG_ONLY_THRESHOLDS, ExecutionThread
from api.graphiql import graphiql_routes
from api.graphql import create_graphql_view
from api.landing import landing_routes
from api.middleware import RequestLog, cors
from api.observability import Metrics, count_statements, metrics_page
from api.persisted import PersistedQueries
from api.profile_page import profile_page_routes
from api.protection import BodySizeLimit, TimeLimit
from api.ratelimit import RateLimit, RateLimiter
from api.redis_state import shared_state
from api.request_ids import RequestIds
from api.settings import Settings, get_settings
from db.engine import create_engine, create_session_factory, create_write_engine, read_pool
from db.migrate import current_revision, declared_head
from resolvers.bounds import BoundsWatch


def create_served_app() -> Starlette:
    """The app as `scholargraph serve` runs it: a long-lived process, its collector tuned.

    Everything made while starting (the schema, the tables' metadata, the
    modules) lives as long as the process; the garbage collector walking it at
    every full collection paused the whole process (every thread, /health too)
    for 100-200 ms under load. It is frozen once started, out of the collector's
    reach; while requests run only young objects are collected, full collections
    wait for an idle moment (api.execution says why).
    """
    return create_app(tune_collector=True)


def create_app(
    settings: Settings | None = None,
    *,
    rate_limit_storage: Storage | None = None,
    tune_collector: bool = False,
) -> Starlette:
    """The app for these settings; the database engine lives as long as the app runs.

    `rate_limit_storage` replaces the store SCHOLARGRAPH_RATE_LIMIT_STORAGE names,
    for callers that build their own (and for tests of a store shared by two apps).
    """
    settings = settings or get_settings()
    # The longest lists in the data, read at start and every few minutes: what costs count.
    bounds = BoundsWatch(every_s=settings.list_bounds_refresh_s)
    metrics = Metrics()
    persisted_queries = PersistedQueries(settings.persisted_queries_max, metrics=metrics)
    limiter = rate_limiter(settings, rate_limit_storage, metrics)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # The server loop's engine: /ready, the rate limiter's token look-ups.
        engine = create_engine(
            settings.database_url, statement_timeout_ms=settings.statement_timeout_ms
        )
        app.state.engine = engine
        app.state.sessions = create_session_factory(engine)
        # Small compiled reads run here, on the server's loop (api.compiled_door): no ping
        # per checkout, as the execution thread's read engine. As many connections kept as
        # reads may run at once, and none opened past them: a read of a millisecond waits
        # for one rather than open (and close) its own, which took half of a leaderboard's
        # CPU at 8 clients with 4 kept.
        reads = read_pool(settings.database_url, settings.read_pool_size)
        inline_engine = create_engine(
            settings.database_url,
            statement_timeout_ms=settings.statement_timeout_ms,
            pre_ping=False,
            pool_size=reads.size,
            max_overflow=0,
        )
        app.state.inline_engine = inline_engine
        # GraphQL runs on a loop of its own (api.execution) with engines of its own;
        # mutations write through one more (db/engine.py says why).
        execution = ExecutionThread("graphql", full_collections_when_idle=tune_collector)
        # Only read snapshots (and token look-ups through them) use it: no ping per checkout.
        # Connections kept for as many requests as usually run at once: past the pool, each
        # request opened a connection of its own and closed it again (on SQLite, none past).
        graphql_engine = create_engine(
            settings.database_url,
            statement_timeout_ms=settings.statement_timeout_ms,
            pre_ping=False,
            pool_size=reads.size,
            max_overflow=reads.overflow,
        )
        write_engine = create_write_engine(
            settings.database_url, statement_timeout_ms=settings.statement_timeout_ms
        )
        app.state.execution = execution
        app.state.graphql_engine = graphql_engine
        app.state.write_engine = write_engine
        # Into each request's log line.
        count_statements(engine, inline_engine, graphql_engine, write_engine)
        # Redis, when configured: what workers and hosts share (api.redis_state).
        shared = app.state.shared = shared_state(settings)
        if shared is not None:
            persisted_queries.share(shared)
            if limiter is not None:
                limiter.share(shared)
        # The response cache and the change stream (api.cache, api.changes).
        app.state.response_cache = create_cache(
            settings.cache_max_bytes, shared, settings.cache_in_process, metrics.registry
        )
        app.state.changes = ChangeHub(app.state.response_cache, shared)
        try:
            async with execution.running(), bounds.running(engine), app.state.changes.running():
                if tune_collector:
                    freeze_what_started()
                try:
                    yield
                finally:
                    await execution.cancel_running()
                    await execution.run(write_engine.dispose())
                    await execution.run(graphql_engine.dispose())
        finally:
            await inline_engine.dispose()
            await engine.dispose()
            if limiter is not None:
                await limiter.aclose()
            if shared is not None:
                await shared.aclose()
            metrics.close()

    routes = [
        Route("/health", health, methods=["GET", "HEAD"]),
        Route("/ready", ready, methods=["GET", "HEAD"]),
        Route("/metrics", metrics_page, methods=["GET"]),
        Route("/graphql", create_graphql_view(settings, lambda: bounds.current, persisted_queries)),
        *graphiql_routes(),
        *landing_routes(),
        *profile_page_routes(),
    ]
    middleware = [
        # Outermost first: every response, even a refusal, carries its request id.
        Middleware(RequestIds),
        Middleware(RequestLog, metrics=metrics),
        *cors(settings.cors_origins),
        *rate_limit(limiter),
        Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes),
        Middleware(TimeLimit, seconds=settings.request_timeout_s),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.settings = settings
    app.state.metrics = metrics
    return app


def freeze_what_started() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*YOUNG_ONLY_THRESHOLDS)  # full collections when idle (api.execution)


def rate_limiter(
    settings: Settings, storage: Storage | None, metrics: Metrics
) -> RateLimiter | None:
    if not settings.rate_limit_enabled:
        return None
    return RateLimiter.from_settings(settings, storage, metrics)


def rate_limit(limiter: RateLimiter | None) -> list[Middleware]:
    # Inside CORS, so that a browser page can read a 429 and its headers.
    return [] if limiter is None else [Middleware(RateLimit, limiter=limiter)]


async def health(_request: Request) -> JSONResponse:
    """The process answers; says nothing about the database (that is /ready)."""
    return JSONResponse({"status": "ok"})


async def ready(request: Request) -> JSONResponse:
    """The database answers and its schema is at the newest migration."""
    try:
        async with request.app.state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            revision = await current_revision(connection)
    except Exception as error:
        return JSONResponse({"status": "unavailable", "reason": type(error).__name__}, 503)
    expected = declared_head()
    if revision != expected:
        body = {"status": "migrations pending", "revision": revision, "expected": expected}
        return JSONResponse(body, 503)
    return JSONResponse({"status": "ready", "revision": revision})
