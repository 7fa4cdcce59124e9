"""An HTTP client over the real ASGI app, and a counter of the SQL statements it runs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from api.app import create_app
from api.settings import Settings
from db.queries import researchers as researcher_queries
from tests.redis_proxy import proxy  # noqa: F401  (a fixture: a Redis a test can cut off)


class GraphQLClient:
    """Posts GraphQL documents to /graphql and counts the statements each one costs."""

    def __init__(
        self, http: httpx.AsyncClient, engine: AsyncEngine, *, counted: Sequence[AsyncEngine] = ()
    ) -> None:
        """`engine` is the test's own way into the database; `counted`, the engines the app
        runs GraphQL on (api.execution), whose statements are counted."""
        self.http = http
        self.engine = engine
        self.graphql_engine = counted[0] if counted else engine
        self.inline_engine = self.graphql_engine  # the app's, when open_client made it
        self.statements: list[str] = []
        for each in counted or (engine,):
            event.listen(each.sync_engine, "before_cursor_execute", self._count)

    def _count(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement)

    async def post(self, document: str, /, **variables: Any) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql", json={"query": document, "variables": variables}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, document: str, /, **variables: Any) -> dict[str, Any]:
        """The data of a query that must succeed."""
        body = await self.post(document, **variables)
        assert body.get("errors") is None, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def error(self, document: str, /, **variables: Any) -> str:
        """The one error message of a query that must fail."""
        body = await self.post(document, **variables)
        [error] = body["errors"]
        return str(error["message"])

    @contextmanager
    def counting(self) -> Iterator[list[str]]:
        """The statements run inside the block."""
        start = len(self.statements)
        seen: list[str] = []
        yield seen
        seen.extend(self.statements[start:])


async def open_client(url: str) -> AsyncIterator[GraphQLClient]:
    app: Starlette = create_app(Settings(database_url=url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            # Reads: GraphQL's engine, the server loop's (the rate limiter's token look-ups)
            # and its engine for small compiled reads (api.compiled_door).
            counted = (app.state.graphql_engine, app.state.engine, app.state.inline_engine)
            client = GraphQLClient(http, app.state.engine, counted=counted)
            client.inline_engine = app.state.inline_engine
            yield client


def graphql_engines(app: Starlette) -> tuple[AsyncEngine, AsyncEngine]:
    """The engines GraphQL requests read and write through (on the execution thread)."""
    return app.state.graphql_engine, app.state.write_engine


@pytest.fixture
async def seeded(seeded_url: str) -> AsyncIterator[GraphQLClient]:
    """A client of the app over the shared seeded database (read only)."""
    async for client in open_client(seeded_url):
        yield client


@pytest.fixture
async def blank(database_url: str) -> AsyncIterator[GraphQLClient]:
    """A client of the app over an empty database of this test's own."""
    async for client in open_client(database_url):
        yield client


def patch_researcher_lookups(
    monkeypatch: pytest.MonkeyPatch, wrap: Callable[[Callable[..., Any]], Callable[..., Any]]
) -> None:
    """Replace every look-up of a researcher by a unique key (the resolvers' and compiled
    reads', db.queries.researchers) by `wrap(original)`: a fault or a delay in all of them."""
    for name in ("researcher_by", "researcher_with_columns"):
        monkeypatch.setattr(researcher_queries, name, wrap(getattr(researcher_queries, name)))
