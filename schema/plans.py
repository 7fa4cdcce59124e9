"""Each distinct document is planned once: parsed, validated and measured, then reused.

`Planner.plan_for(text)` returns the `DocumentPlan` of a document text, from an
LRU cache keyed by the text. A plan holds the parsed document, the errors
validation found (graphql-core's rules, then our depth and alias limits), and
what the cost counter needs. The `OperationPlans` extension hands the plan to
Strawberry in place of its own parse and validate, then counts the cost of the
operation with the request's variables before anything runs.

Nothing here walks a fragment twice (schema.analysis), so a document of N
bytes costs O(N) to plan, and a document seen before costs a dict lookup.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
)
from graphql.execution.values import get_variable_values
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from resolvers.bounds import ListBounds
from resolvers.errors import InvalidArgumentError
from schema.admission import CostBudget
from schema.analysis import CostCounter, DocumentShape, fragments_of, operation_named
from schema.compiled import CompiledPlans
from schema.fast import FastExecutor, runs_fast


@dataclass(frozen=True, slots=True)
class Limits:
    """What one document may ask for; refusals name the limit and the figure."""

    max_depth: int
    max_aliases: int
    max_tokens: int
    max_cost: int


@dataclass(slots=True)
class DocumentPlan:
    """One document, parsed and checked once; `errors` empty means it may run."""

    document: DocumentNode | None
    errors: list[GraphQLError]
    fragments: dict[str, Any] = field(default_factory=dict)
    # Per operation (by id): may the fast path try it (schema.fast.runs_fast)?
    runs_fast: dict[int, bool] = field(default_factory=dict)
    # Its operations compiled into row-shaping steps (schema.compiled), made when first run.
    compiled: CompiledPlans | None = None


class Planner:
    """Plans documents for one schema and set of limits, keeping the latest `maxsize`."""

    def __init__(
        self,
        limits: Limits,
        *,
        maxsize: int = 256,
        fast_path: bool = True,
        compiled_reads: bool = True,
    ) -> None:
        self.limits = limits
        self.maxsize = maxsize
        self.fast_path = fast_path
        self.compiled_reads = compiled_reads and fast_path
        self._plans: OrderedDict[str, DocumentPlan] = OrderedDict()
        self._fast: FastExecutor | None = None
        # Cost executing at once in this process (schema.admission).
        self.budget = CostBudget(limits.max_cost)

    def fast_executor(self, schema: strawberry.Schema) -> FastExecutor | None:
        """The fast path for reads (schema.fast), when it is on."""
        if not self.fast_path:
            return None
        if self._fast is None or self._fast.schema is not schema:
            self._fast = FastExecutor(schema)
        return self._fast

    def planned(self, text: str) -> DocumentPlan | None:
        """The plan of a document already planned (by `plan_for`), without planning it.

        Called on the server's loop while `plan_for` runs on the execution thread: the
        plan may leave the cache between the look-up and the move, and is still good.
        """
        plan = self._plans.get(text)
        if plan is not None:
            with contextlib.suppress(KeyError):
                self._plans.move_to_end(text)
        return plan

    def plan_for(self, schema: GraphQLSchema, text: str, rules: tuple[Any, ...]) -> DocumentPlan:
        plan = self._plans.get(text)
        if plan is not None:
            self._plans.move_to_end(text)
            return plan
        plan = self._plans[text] = self._make(schema, text, rules)
        if len(self._plans) > self.maxsize:
            self._plans.popitem(last=False)
        return plan

    def _make(self, schema: GraphQLSchema, text: str, rules: tuple[Any, ...]) -> DocumentPlan:
        try:
            document = parse(text, max_tokens=self.limits.max_tokens)
        except GraphQLError as error:
            return DocumentPlan(document=None, errors=[error])
        if _widest_selection(document) > MAX_SELECTIONS:
            # graphql-core's check that fields merge compares every pair in a selection:
            # 2,000 fields cost it half a second before it gives up.
            return DocumentPlan(document=document, errors=[_too_complex()])
        errors = validate_document(schema, document, rules)
        if errors:
            return DocumentPlan(document=document, errors=[_explained(e) for e in errors])
        shape = DocumentShape(fragments_of(document))
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        for operation in operations:
            errors.extend(self._shape_errors(shape, operation))
        return DocumentPlan(document=document, errors=errors, fragments=shape.fragments)

    def _shape_errors(
        self, shape: DocumentShape, operation: OperationDefinitionNode
    ) -> list[GraphQLError]:
        name = operation.name.value if operation.name else "anonymous"
        found = []
        depth = shape.depth(operation)
        if depth > self.limits.max_depth:
            message = (
                f"'{name}' exceeds maximum operation depth of {self.limits.max_depth} "
                f"(it is {depth} deep)"
            )
            found.append(GraphQLError(message, operation, extensions={"code": "TOO_DEEP"}))
        aliases = shape.aliases(operation)
        if aliases > self.limits.max_aliases:
            message = f"{aliases} aliases found. Allowed: {self.limits.max_aliases}"
            found.append(GraphQLError(message, operation, extensions={"code": "TOO_MANY_ALIASES"}))
        return found

    def cost(
        self,
        schema: GraphQLSchema,
        plan: DocumentPlan,
        operation_name: str | None,
        variables: dict[str, Any],
        bounds: ListBounds,
    ) -> int | None:
        """Nodes the operation may return with these variables; None when it cannot run."""
        if plan.document is None or plan.errors:
            return None
        operation = operation_named(plan.document, operation_name)
        if operation is None:
            return None
        coerced = get_variable_values(schema, operation.variable_definitions or (), variables)
        if isinstance(coerced, list):
            return None  # execution refuses the variables before anything runs
        root = schema.get_root_type(operation.operation)
        if root is None:
            return None
        return CostCounter(schema, plan.fragments, coerced, bounds).count(root, operation)


# The most selections one selection set may hold (fields, spreads, inline fragments);
# a profile page's widest holds 13.
MAX_SELECTIONS = 300


def _widest_selection(document: DocumentNode) -> int:
    """The most selections any one selection set of the document holds (one pass, no spread
    followed: each fragment's own sets are measured where it is defined)."""
    widest = 0
    stack: list[Any] = list(document.definitions)
    while stack:
        node = stack.pop()
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            widest = max(widest, len(selection_set.selections))
            stack.extend(selection_set.selections)
    return widest


def _explained(error: GraphQLError) -> GraphQLError:
    """graphql-core's bare "Validation aborted." (its checks ran out of depth), said plainly."""
    if error.message != "Validation aborted.":
        return error
    return _too_complex()


def _too_complex() -> GraphQLError:
    return GraphQLError(
        "This document is too large to check: too many fields in one selection, or nested "
        "too deeply. Ask for fewer fields at once, or split the query.",
        extensions={"code": "DOCUMENT_TOO_COMPLEX"},
    )


class OperationPlans(SchemaExtension):
    """Strawberry's parse and validate, served from the planner; the cost checked per request."""

    def __init__(self, *, planner: Planner, bounds: Callable[[], ListBounds]) -> None:
        self.planner = planner
        self.bounds = bounds
        self.plan: DocumentPlan | None = None
        self.cost: int | None = None

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.planner.limits.max_tokens
        if context.query:
            rules = tuple(context.validation_rules)
            self.plan = self.planner.plan_for(context.schema._schema, context.query, rules)
            # A document that does not parse is left to Strawberry, which reports the error.
            context.graphql_document = self.plan.document
        yield

    def on_validate(self) -> Iterator[None]:
        if self.plan is not None and self.plan.document is not None:
            self.execution_context.pre_execution_errors = list(self.plan.errors)
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        if self.plan is not None and context.result is None:
            self._check_cost()
        if self.plan is None or context.result is not None:
            yield
            return
        async with self.planner.budget.spending(self.cost or 0):
            await self._run_fast(self.plan)
            yield

    async def _run_fast(self, plan: DocumentPlan) -> None:
        """Answer here when the fast path can; otherwise leave it to graphql-core."""
        context = self.execution_context
        fast = self.planner.fast_executor(context.schema)
        document = plan.document
        operation = operation_named(document, context.operation_name) if document else None
        if fast is None or document is None or operation is None:
            return
        if not plan.runs_fast.setdefault(id(operation), runs_fast(document, operation)):
            return
        raw_variables = context.variables or {}
        if self.planner.compiled_reads:
            data = await self._run_compiled(plan, document, operation, raw_variables)
            if data is not None:
                context.result = ExecutionResult(data=data, errors=None)
                return
        try:
            data = await fast.execute(document, operation, raw_variables, context.context)
        except Exception:
            return
        context.result = ExecutionResult(data=data, errors=None)

    async def _run_compiled(
        self,
        plan: DocumentPlan,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        raw_variables: dict[str, Any],
    ) -> dict[str, Any] | None:
        """The data from the compiled operation; None when the fast path must answer."""
        context = self.execution_context
        variables = get_variable_values(
            context.schema._schema, operation.variable_definitions or (), raw_variables
        )
        if isinstance(variables, list):
            return None
        if plan.compiled is None or plan.compiled.schema is not context.schema:
            plan.compiled = CompiledPlans(context.schema, document)
        compiled = plan.compiled.for_operation(operation, variables)
        if compiled is None:
            return None
        try:
            return await compiled.run(context.context, variables)
        except Exception:
            return None

    def _check_cost(self) -> None:
        context = self.execution_context
        if self.plan is not None:
            try:
                self.cost = self.planner.cost(
                    context.schema._schema,
                    self.plan,
                    context.operation_name,
                    context.variables or {},
                    self.bounds(),
                )
            except InvalidArgumentError as error:
                context.result = ExecutionResult(data=None, errors=[error])
            else:
                if self.cost is not None and self.cost > self.planner.limits.max_cost:
                    context.result = ExecutionResult(data=None, errors=[self._refusal(self.cost)])

    def _refusal(self, cost: int) -> GraphQLError:
        limit = self.planner.limits.max_cost
        return GraphQLError(
            f"This query may return {cost:,} nodes; the limit is {limit:,}. "
            "Ask for fewer items with first/last, or split the query.",
            extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "limit": limit},
        )

    def get_results(self) -> dict[str, Any]:
        if self.cost is None:
            return {}
        return {"cost": {"nodes": self.cost, "limit": self.planner.limits.max_cost}}
