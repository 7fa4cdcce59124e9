"""Limits that keep one request from taking the whole server.

Before execution: the document's tokens, depth and aliases (Strawberry's
limiters) and its cost, counted the way GitHub's GraphQL API counts nodes:
every connection may return as many items as its `first`/`last` asks (20
when neither is given), once for each item its parent connections may
return, so `researchers(first: 100) { papers(first: 50) }` may return
100 + 100 * 50 = 5,100 nodes. A request over the budget is refused before
any SQL runs, with its cost in the error; an accepted request reports its
cost in the response's `extensions`.

Around the request, as ASGI middleware: a size limit on the body and a time
limit on the whole request.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from api.observability import request_record
from api.settings import Settings
from resolvers.pages import DEFAULT_PAGE_SIZE
from schema import ExtensionFactory


def protection_extensions(settings: Settings) -> list[ExtensionFactory]:
    """The pre-execution limits, as configured."""
    return [
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: QueryDepthLimiter(max_depth=settings.max_depth),
        lambda: MaxAliasesLimiter(max_alias_count=settings.max_aliases),
        lambda: QueryCost(max_cost=settings.max_cost),
    ]


class QueryCost(SchemaExtension):
    """Refuses operations that may return more nodes than the budget; reports the cost."""

    def __init__(self, *, max_cost: int) -> None:
        self.max_cost = max_cost
        self.cost: int | None = None

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        operation = _operation(document, context.operation_name) if document else None
        if document is not None and operation is not None:
            counter = _CostCounter(context.schema._schema, document, context.variables or {})
            root = context.schema._schema.get_root_type(operation.operation)
            self.cost = counter.count(root, operation.selection_set, 1)
            if self.cost > self.max_cost:
                context.result = ExecutionResult(data=None, errors=[self._refusal()])
        yield

    def _refusal(self) -> GraphQLError:
        return GraphQLError(
            f"This query may return {self.cost:,} nodes; the limit is {self.max_cost:,}. "
            "Ask for fewer items with first/last, or split the query.",
            extensions={"code": "QUERY_TOO_COSTLY", "cost": self.cost, "limit": self.max_cost},
        )

    def get_results(self) -> dict[str, Any]:
        return {} if self.cost is None else {"cost": {"nodes": self.cost, "limit": self.max_cost}}


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is not None:
        return next((o for o in operations if o.name and o.name.value == name), None)
    return operations[0] if len(operations) == 1 else None


class _CostCounter:
    """Walks an operation, counting the nodes its connections may return."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any]):
        self.schema = schema
        self.variables = variables
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def count(
        self, parent: GraphQLNamedType | None, selections: SelectionSetNode | None, above: int
    ) -> int:
        """Nodes the selections may return when `above` parent items each ask for them."""
        if selections is None or not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self._field(parent, selection, above)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                narrowed = self.schema.get_type(condition.name.value) if condition else parent
                total += self.count(narrowed, selection.selection_set, above)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    narrowed = self.schema.get_type(fragment.type_condition.name.value)
                    total += self.count(narrowed, fragment.selection_set, above)
        return total

    def _field(
        self, parent: GraphQLObjectType | GraphQLInterfaceType, field: FieldNode, above: int
    ) -> int:
        definition = parent.fields.get(field.name.value)
        if definition is None:
            return 0
        returned = get_named_type(definition.type)
        if returned.name.endswith("Connection"):
            items = above * self._page_size(field)
            return items + self.count(returned, field.selection_set, items)
        return self.count(returned, field.selection_set, above)

    def _page_size(self, field: FieldNode) -> int:
        for argument in field.arguments or ():
            if argument.name.value in ("first", "last"):
                value = argument.value
                if isinstance(value, IntValueNode):
                    return int(value.value)
                if isinstance(value, VariableNode):
                    given = self.variables.get(value.name.value)
                    return given if isinstance(given, int) else DEFAULT_PAGE_SIZE
        return DEFAULT_PAGE_SIZE


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
    """Ends a request that runs longer than `seconds` with 503 and a GraphQL-shaped error."""

    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            async with asyncio.timeout(self.seconds):
                await self.app(scope, receive, watched)
        except TimeoutError:
            if not started:
                message = f"The request took longer than {self.seconds:g} s and was stopped."
                await send_error(send, 503, message, code="TIMEOUT")


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
