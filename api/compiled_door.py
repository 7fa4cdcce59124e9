"""Compiled reads answered at the door: a planned query runs without Strawberry's request cycle.

Once a document has been planned and its operation compiled (schema.plans,
schema.compiled) by a request that went the whole way, later requests of the
same document (any variables) need none of what Strawberry does per request:
parsing the HTTP request into its own types, the extensions' hooks, building
an ExecutionResult and encoding it again. `CompiledDoor.answer` takes a POST
whose JSON body names such an operation, checks what the full path would
check (the variables against their definitions, the cost against the limit
and the admission budget), runs the compiled operation on the execution
thread and writes the same bytes and headers the full path would: the data,
then `extensions.cost`.

Anything else is left to the full path by answering None: a document not
planned yet or refused, a mutation, persisted queries, another media type, an
answer cache in front (api.cache), and any failure while running (reads have
no effects, so running the request again from the start is safe).
tests/api/test_compiled_door.py holds both paths to the same bytes.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

import orjson
from graphql import OperationType
from graphql.execution.values import get_variable_values
from starlette.requests import Request
from starlette.responses import Response

from api.caching import apply_cache_policy
from api.execution import ExecutionThread
from api.observability import request_record
from resolvers.bounds import ListBounds
from resolvers.context import Context
from schema.analysis import operation_named
from schema.compiled import CompiledOperation
from schema.plans import DocumentPlan, Planner

JSON_BODY = "application/json"
REQUEST_KEYS = frozenset({"query", "variables", "operationName"})
COSTS_KEPT = 4096  # (document, variables) pairs whose cost is remembered
# Reads of at most this many nodes (a leaderboard, a header) run on the server's loop.
INLINE_MAX_COST = 100


class CompiledDoor:
    """Answers planned, compiled queries ahead of the full GraphQL request cycle."""

    def __init__(self, schema: Any, planner: Planner, bounds: Any, cache_max_age_s: int) -> None:
        self.schema = schema  # the Strawberry schema the plans were compiled for
        self.planner = planner
        self.bounds = bounds
        self.cache_max_age_s = cache_max_age_s
        self._costs: OrderedDict[tuple[Any, ...], int | None] = OrderedDict()

    async def answer(self, request: Request, content_type: str) -> Response | None:
        """The response, or None when the full path must answer."""
        if not self.planner.compiled_reads or request.method != "POST":
            return None
        if request.headers.get("content-type", "").partition(";")[0].strip() != JSON_BODY:
            return None
        try:
            payload = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return None
        if not isinstance(payload, dict) or not payload.keys() <= REQUEST_KEYS:
            return None
        query, variables = payload.get("query"), payload.get("variables")
        name = payload.get("operationName")
        if not isinstance(query, str) or not isinstance(name, str | None):
            return None
        if variables is None:
            variables = {}
        elif not isinstance(variables, dict):
            return None
        try:
            found = self._compiled(query, name, variables)
        except Exception:
            return None  # whatever went wrong, the full path says it in its own terms
        if found is None:
            return None
        compiled, coerced, cost, operation_name = found
        state = request.app.state
        inline = cost <= INLINE_MAX_COST
        context = Context.for_request(
            state.inline_engine if inline else state.graphql_engine,
            write_engine=state.write_engine,
            authorization=request.headers.get("authorization"),
            request_id=getattr(request.state, "request_id", None),
        )
        try:
            if inline:
                data = await self._run_inline(compiled, context, coerced)
            else:
                execution: ExecutionThread = state.execution
                data = await execution.run(self._run(compiled, context, coerced, cost))
        except Exception:
            return None  # the full path answers, in its own terms
        record = request_record()
        record.operation_name, record.operation_type = operation_name, "query"
        limit = self.planner.limits.max_cost
        body = orjson.dumps({"data": data, "extensions": {"cost": {"nodes": cost, "limit": limit}}})
        response = Response(body, 200, media_type=content_type)
        request.state.graphql_request_error = False
        return apply_cache_policy(request, response, has_errors=False, max_age=self.cache_max_age_s)

    def _compiled(
        self, query: str, name: str | None, variables: dict[str, Any]
    ) -> tuple[CompiledOperation, Any, int, str | None] | None:
        plan = self.planner.planned(query)
        if plan is None or plan.document is None or plan.errors or plan.compiled is None:
            return None
        operation = operation_named(plan.document, name)
        if operation is None or operation.operation != OperationType.QUERY:
            return None
        if not plan.runs_fast.get(id(operation), False):
            return None
        graphql_schema = self.schema._schema
        coerced = get_variable_values(
            graphql_schema, operation.variable_definitions or (), variables
        )
        if isinstance(coerced, list):
            return None
        compiled = plan.compiled.for_operation(operation, coerced)
        if compiled is None:
            return None
        cost = self._cost(plan, query, name, variables)
        if cost is None or cost > self.planner.limits.max_cost:
            return None
        return compiled, coerced, cost, operation.name.value if operation.name else None

    def _cost(
        self, plan: DocumentPlan, query: str, name: str | None, variables: dict[str, Any]
    ) -> int | None:
        """The operation's cost with these variables: counted once, then remembered."""
        bounds: ListBounds = self.bounds()
        key = (query, name, orjson.dumps(variables, option=orjson.OPT_SORT_KEYS), bounds)
        costs = self._costs
        if key in costs:
            costs.move_to_end(key)
            return costs[key]
        try:
            cost = self.planner.cost(self.schema._schema, plan, name, variables, bounds)
        except Exception:
            return None
        costs[key] = cost
        if len(costs) > COSTS_KEPT:
            costs.popitem(last=False)
        return cost

    async def _run_inline(
        self, compiled: CompiledOperation, context: Context, variables: Any
    ) -> dict[str, Any]:
        """A small read on the server's own loop: no hand-over to the execution thread.

        The hand-over costs two wake-ups of the other loop (a write to its self-pipe
        each), as much CPU as a leaderboard's shaping. A read of at most
        INLINE_MAX_COST nodes holds the loop for well under a millisecond, and takes
        next to nothing of the admission budget, which is the execution loop's own.
        """
        try:
            return await compiled.run(context, variables)
        finally:
            await asyncio.shield(context.close())

    async def _run(
        self, compiled: CompiledOperation, context: Context, variables: Any, cost: int
    ) -> dict[str, Any]:
        try:
            async with self.planner.budget.spending(cost):
                return await compiled.run(context, variables)
        finally:
            await context.close()
