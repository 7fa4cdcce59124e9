"""The GraphQL endpoint: Strawberry's ASGI view with our context."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.schema.base import BaseSchema
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from api import cache as response_cache
from api.caching import apply_cache_policy
from api.compiled_door import CompiledDoor
from api.execution import ExecutionThread
from api.graphiql import graphiql_html
from api.observability import RecordOperation, note_errors, request_record
from api.persisted import PersistedQueries, PersistedQueryError, resolve_query
from api.protection import planner_of, protection_extensions
from api.settings import Settings
from db.reads import announcing
from resolvers.bounds import ListBounds
from resolvers.context import Context
from schema import build_schema

GRAPHQL_RESPONSE = "application/graphql-response+json"
GET_MUTATION = "when using GET"  # the end of Strawberry's reason for refusing one


class GraphQLView(GraphQL[Context, None]):
    """POST and GET /graphql, as the GraphQL-over-HTTP spec says; GraphiQL for browsers.

    A client that accepts application/graphql-response+json gets it, and then
    a request error (the document does not parse or validate, the variables
    do not fit, a limit refuses it) is a 400 with no `data`; field errors stay
    200 with the data there is. Plain application/json clients keep 200.

    Queries may be persisted (api.persisted) and sent with GET; a successful
    GET is cacheable by browsers and proxies (api.caching). Multipart uploads
    are off: no field takes a file.
    """

    def __init__(
        self,
        schema: BaseSchema,
        *,
        graphiql: bool,
        persisted_queries: PersistedQueries,
        cache_max_age_s: int,
        door: CompiledDoor | None = None,
    ) -> None:
        super().__init__(
            schema, graphql_ide="graphiql" if graphiql else None, multipart_uploads_enabled=False
        )
        self.persisted_queries = persisted_queries
        self.cache_max_age_s = cache_max_age_s
        self.door = door

    async def get_context(
        self,
        request: Request | WebSocket,
        response: Response | Any,  # noqa: ARG002 - strawberry passes it by name
    ) -> Context:
        state = request.app.state
        return Context.for_request(
            state.graphql_engine,
            write_engine=state.write_engine,
            authorization=request.headers.get("authorization"),
            request_id=getattr(request.state, "request_id", None),
        )

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.request = request  # type: ignore[attr-defined]  # for create_response
        return sub_response

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A persisted query's GET has no `query` parameter, yet it is not a browser's visit.
        return "extensions" not in request.query_params and super().should_render_graphql_ide(
            request
        )

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        try:
            query, outcome = await resolve_query(
                request_data.query, request_data.extensions, self.persisted_queries
            )
        except PersistedQueryError as error:
            request_record().persisted_query = "miss" if error.status == 200 else "invalid"
            sub_response.status_code = error.status
            return ExecutionResult(data=None, errors=[error])
        request_record().persisted_query = outcome
        if await self.answered_from_cache(request, query or "", request_data):
            return ExecutionResult(data=None, errors=None)
        # On the execution thread's loop (api.execution), so that this one stays free.
        execution: ExecutionThread = request.app.state.execution
        try:
            return await execution.run(
                super().execute_single(
                    request=request,
                    request_adapter=request_adapter,
                    sub_response=sub_response,
                    context=context,
                    root_value=root_value,
                    request_data=dataclasses.replace(request_data, query=query),
                )
            )
        finally:
            # A request cancelled mid-read (its time limit, a shutdown) never reaches the
            # operation's own clean-up: its connection goes back to the pool here.
            await execution.run(context.close())

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        cache = request.app.state.response_cache
        if cache is not None:  # a hit needs no parsing, no context, no execution
            media_type = negotiated(request)
            content_type = (
                f"{GRAPHQL_RESPONSE}; charset=utf-8" if media_type == "gql" else "application/json"
            )
            early = await response_cache.answered_early(
                cache, request, media_type, content_type, self.cache_max_age_s
            )
            if early is not None:
                return early
        elif self.door is not None and accepts_json(request.headers.get("accept", "")):
            media_type = negotiated(request)
            content_type = (
                f"{GRAPHQL_RESPONSE}; charset=utf-8" if media_type == "gql" else "application/json"
            )
            answered = await self.door.answer(request, content_type)
            if answered is not None:
                return answered
        try:
            response = await super().run(request, context, root_value)
            if cache is None or not isinstance(response, Response):
                return response
            return await response_cache.after_response(cache, request, response)
        except HTTPException as error:
            if error.status_code != 405:
                raise
            # A 405 must say which methods would do (RFC 9110, 15.5.6).
            allow = "POST" if error.reason.endswith(GET_MUTATION) else "GET, POST"
            return PlainTextResponse(error.reason, 405, headers={"allow": allow})

    async def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().execute_operation(*args, **kwargs)
        except HTTPException as error:
            # The spec asks for 405 when a GET carries a mutation; Strawberry answers 400.
            if error.status_code == 400 and error.reason.endswith(GET_MUTATION):
                raise HTTPException(405, error.reason) from error
            raise

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        note_errors([e for e in result.errors or () if not isinstance(e, PersistedQueryError)])
        request_error = (
            result.data is None
            and bool(result.errors)
            and all(error.path is None for error in result.errors or ())
        )
        if request_error:
            response.pop("data", None)  # nothing was executed: there is no data to speak of
        request.state.graphql_request_error = request_error
        return response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        request: Request | None = getattr(sub_response, "request", None)
        hit = None if request is None else getattr(request.state, "cache_hit", None)
        if hit is None:
            response = super().create_response(response_data, sub_response)
        else:  # the stored bytes, with the headers a fresh answer would have
            response = Response(hit.body or b"", 200, media_type="application/json")
        if request is not None and accepts_graphql_response(request.headers.get("accept", "")):
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
            if (
                getattr(request.state, "graphql_request_error", False)
                and not sub_response.status_code
            ):
                response.status_code = 400
        if request is None:
            return response
        has_errors = isinstance(response_data, list) or bool(response_data.get("errors"))
        request.state.cache_has_errors = has_errors
        return apply_cache_policy(
            request,
            response,
            has_errors=has_errors,
            max_age=self.cache_max_age_s,
            tag=None if hit is None else hit.tag,
        )

    # The response cache (api.cache): a hit skips execution; every request may announce writes.

    async def answered_from_cache(
        self, request: Request, query: str, request_data: GraphQLRequestData
    ) -> bool:
        state = request.app.state
        announcing(state.changes.announce)  # writes drop cached answers before responding
        cache = state.response_cache
        if cache is None or not response_cache.cacheable_request(request):
            return False
        media_type = negotiated(request)
        hit = await response_cache.before_execution(cache, request, query, request_data, media_type)
        if hit is None:
            return False
        record = request_record()
        record.operation_name, record.operation_type = request_data.operation_name, "query"
        return True

    def encode_json(self, data: object) -> bytes:
        # Strawberry's compact json.dumps, five to ten times faster: on a page of papers it
        # was a sixth of the request's CPU. Text is sent as UTF-8 rather than \u escapes.
        return orjson.dumps(data)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:  # noqa: ARG002
        # Strawberry's page loads GraphiQL from a CDN; ours is served by this app.
        return HTMLResponse(graphiql_html())


def negotiated(request: Request) -> str:
    """Which of the two media types the answer takes (part of a cached answer's key)."""
    return "gql" if accepts_graphql_response(request.headers.get("accept", "")) else "js"


def accepts_json(accept: str) -> bool:
    """The Accept header lets the answer be JSON of either media type (or says nothing)."""
    return not accept or "json" in accept or "*/*" in accept


def accepts_graphql_response(accept: str) -> bool:
    """True when the Accept header prefers the GraphQL response media type to plain JSON."""
    weights: dict[str, float] = {}
    for item in accept.split(","):
        kind, *params = (part.strip() for part in item.split(";"))
        quality = next((p[2:] for p in params if p.startswith("q=")), "1")
        try:
            weights[kind.lower()] = float(quality)
        except ValueError:
            continue
    wanted = weights.get(GRAPHQL_RESPONSE, 0.0)
    return wanted > 0 and wanted >= weights.get("application/json", 0.0)


def create_graphql_view(
    settings: Settings, bounds: Callable[[], ListBounds], persisted_queries: PersistedQueries
) -> GraphQLView:
    """The endpoint for these settings: the schema with the server's extensions."""
    planner = planner_of(settings)
    served = build_schema(extensions=[*protection_extensions(planner, bounds), RecordOperation])
    return GraphQLView(
        served,
        graphiql=settings.graphiql,
        persisted_queries=persisted_queries,
        cache_max_age_s=settings.cache_max_age_s,
        door=CompiledDoor(served, planner, bounds, settings.cache_max_age_s),
    )
