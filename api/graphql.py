"""The GraphQL endpoint: Strawberry's ASGI view with our context."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from api.graphiql import graphiql_html
from api.protection import protection_extensions
from api.settings import Settings
from resolvers.context import Context
from schema import ExtensionFactory, build_schema


class GraphQLView(GraphQL[Context, None]):
    """POST and GET /graphql; GraphiQL for browsers."""

    async def get_context(
        self,
        request: Request | WebSocket,
        response: Response | Any,  # noqa: ARG002 - strawberry passes it by name
    ) -> Context:
        state = request.app.state
        return Context.for_request(
            state.engine,
            write_engine=state.write_engine,
            authorization=request.headers.get("authorization"),
            request_id=getattr(request.state, "request_id", None),
        )

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:  # noqa: ARG002
        # Strawberry's page loads GraphiQL from a CDN; ours is served by this app.
        return HTMLResponse(graphiql_html())


def create_graphql_view(settings: Settings) -> GraphQLView:
    """The endpoint for these settings: the schema with the server's extensions."""
    served = build_schema(extensions=server_extensions(settings))
    return GraphQLView(served, graphql_ide="graphiql" if settings.graphiql else None)


def server_extensions(settings: Settings) -> list[ExtensionFactory]:
    """Extensions that depend on how the server is configured (limits, logging)."""
    return protection_extensions(settings)
