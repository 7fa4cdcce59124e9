"""The fast path for reads: the schema's own resolvers, without graphql-core's work per field.

graphql-core is the reference executor. For every field it builds a resolve
info, a path, a middleware chain and Strawberry's wrapper, checks what came
back, and gathers awaitables; on a profile page of 1,500 fields that is most
of the request's CPU. This executor answers the same queries by calling the
same resolvers (so the same DataLoaders batch the same statements), but a
field that only reads an attribute is an attribute read, a leaf is its
scalar's own `serialize`, and the fields of a selection are collected by
graphql-core's own `collect_fields` (aliases, fragments, @skip/@include and
field merging exactly as the reference does them), once per selection.

It answers only what it can answer exactly. Anything else raises
`FallbackError` and the reference executor runs the request from the start:
mutations, introspection (`__schema`, `__type`), an error anywhere (a
resolver raising, a null in a non-null field), variables that do not
coerce. Reads have no effects, so running again is safe; a differential test
(tests/api/test_fast_path.py) holds both executors to byte-identical answers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from types import SimpleNamespace
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLAbstractType,
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
)
from graphql.execution.collect_fields import (
    FieldDetails,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.pyutils import Path, is_awaitable
from graphql.type.definition import GraphQLResolveInfoHelpers

from resolvers.deadline import current_deadline

Getter = Callable[[Any, "_Run", GraphQLObjectType, list[FieldDetails], str], Any]


class FallbackError(Exception):
    """The fast path cannot give the exact answer; the reference executor must run."""


def runs_fast(document: DocumentNode, operation: OperationDefinitionNode) -> bool:
    """True for a query the fast path may try: no introspection, no fragment variables."""
    if operation.operation is not OperationType.QUERY:
        return False
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode) and definition.variable_definitions:
            return False
    return not _has_introspection(document)


def _has_introspection(document: DocumentNode) -> bool:
    stack: list[Any] = list(document.definitions)
    while stack:
        node = stack.pop()
        if isinstance(node, FieldNode) and node.name.value in ("__schema", "__type"):
            return True
        selections = getattr(node, "selection_set", None)
        if selections is not None:
            stack.extend(selections.selections)
    return False


class FastExecutor:
    """Executes queries over one schema; field getters are worked out once per field."""

    def __init__(self, schema: strawberry.Schema) -> None:
        self.schema = schema
        self.graphql_schema: GraphQLSchema = schema._schema
        self._getters: dict[tuple[str, str], Getter] = {}

    async def execute(
        self,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        raw_variables: dict[str, Any],
        context: Any,
    ) -> dict[str, Any]:
        """The response's `data`; FallbackError when only the reference executor can answer."""
        variables = get_variable_values(
            self.graphql_schema, operation.variable_definitions or (), raw_variables
        )
        if isinstance(variables, list):
            raise FallbackError("variables do not coerce")
        run = _Run(self, document, operation, variables, context)
        root = self.graphql_schema.query_type
        assert root is not None
        groups = collect_fields(
            self.graphql_schema, run.fragments, variables, root, operation
        ).grouped_field_set
        data = run.object_of(root, None, groups)
        if isinstance(data, dict):
            return data
        return await data

    def getter(self, parent: GraphQLObjectType, name: str) -> Getter:
        key = (parent.name, name)
        found = self._getters.get(key)
        if found is None:
            found = self._getters[key] = self._make_getter(parent, name)
        return found

    def _make_getter(self, parent: GraphQLObjectType, name: str) -> Getter:
        field = parent.fields[name]
        definition = self.schema.get_field_for_type(name, parent.name)
        plain = (
            definition is not None
            and definition.base_resolver is None
            and not definition.permission_classes
            and not definition.extensions
            and not field.args
        )
        if plain:
            attribute = definition.python_name  # type: ignore[union-attr]

            def read(source: Any, *_: Any) -> Any:
                return getattr(source, attribute)

            return read
        if field.resolve is None:
            raise FallbackError(f"{parent.name}.{name} has no resolver")
        return _resolver_call(field)


def _resolver_call(field: GraphQLField) -> Getter:
    resolve = field.resolve
    assert resolve is not None

    def call(
        source: Any,
        run: _Run,
        parent: GraphQLObjectType,
        details: list[FieldDetails],
        key: str,
    ) -> Any:
        node = details[0].node
        arguments = (
            get_argument_values(field, node, run.variables) if field.args or node.arguments else {}
        )
        info = GraphQLResolveInfo(
            node.name.value,
            [d.node for d in details],
            field.type,
            parent,
            Path(None, key, parent.name),
            run.schema,
            run.fragment_definitions,
            None,
            run.operation,
            run.variables,
            run.context,
            is_awaitable,
            None,
            run.helpers,
        )
        return resolve(source, info, **arguments)

    return call


class _Run:
    """One request's execution: its variables, fragments, context and deadline."""

    def __init__(
        self,
        executor: FastExecutor,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: VariableValues,
        context: Any,
    ) -> None:
        self.executor = executor
        self.schema = executor.graphql_schema
        self.operation = operation
        self.variables = variables
        self.context = context
        self.fragment_definitions = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.fragments = {
            name: FragmentDetails(definition, None)
            for name, definition in self.fragment_definitions.items()
        }
        self.deadline = current_deadline()
        self.helpers = GraphQLResolveInfoHelpers(gather=_gather, track=_refuse_tracking)
        self._subfields: dict[tuple[str, tuple[int, ...]], dict[str, list[FieldDetails]]] = {}

    def object_of(
        self,
        type_: GraphQLObjectType,
        source: Any,
        groups: dict[str, list[FieldDetails]],
    ) -> dict[str, Any] | Awaitable[dict[str, Any]]:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise FallbackError("past the deadline")  # the reference stops and says so
        result: dict[str, Any] = {}
        pending: list[tuple[str, Awaitable[Any]]] = []
        for key, details in groups.items():
            name = details[0].node.name.value
            if name == "__typename":
                result[key] = type_.name
                continue
            field = type_.fields.get(name)
            if field is None:
                raise FallbackError(f"no field {type_.name}.{name}")
            value = self.executor.getter(type_, name)(source, self, type_, details, key)
            if is_awaitable(value):
                result[key] = None
                pending.append((key, self._complete_later(field.type, details, value)))
                continue
            completed = self.complete(field.type, details, value)
            result[key] = completed
            if is_awaitable(completed):
                pending.append((key, completed))
        if not pending:
            return result
        return self._fill(result, pending)

    async def _fill(
        self, result: dict[str, Any], pending: list[tuple[str, Awaitable[Any]]]
    ) -> dict[str, Any]:
        if len(pending) == 1:  # one field to wait for: no task needed to run it beside others
            key, awaitable = pending[0]
            result[key] = await awaitable
            return result
        values = await _gather([awaitable for _, awaitable in pending])
        for (key, _), value in zip(pending, values, strict=True):
            result[key] = value
        return result

    async def _complete_later(
        self, type_: GraphQLOutputType, details: list[FieldDetails], value: Awaitable[Any]
    ) -> Any:
        completed = self.complete(type_, details, await value)
        return await completed if is_awaitable(completed) else completed

    def complete(self, type_: GraphQLOutputType, details: list[FieldDetails], value: Any) -> Any:
        if isinstance(type_, GraphQLNonNull):
            if value is None:
                raise FallbackError("null in a non-null field")
            return self.complete(type_.of_type, details, value)
        if value is None:
            return None
        if isinstance(value, Exception):
            raise FallbackError("a resolver returned an error")
        if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
            serialized = type_.serialize(value)
            if serialized is None:
                raise FallbackError("a leaf serialised to null")
            return serialized
        if isinstance(type_, GraphQLList):
            return self._list(type_.of_type, details, value)
        if isinstance(type_, GraphQLAbstractType):
            type_ = self._runtime_type(type_, details, value)
        assert isinstance(type_, GraphQLObjectType)
        return self.object_of(type_, value, self._subfields_of(type_, details))

    def _list(self, item_type: GraphQLOutputType, details: list[FieldDetails], items: Any) -> Any:
        completed = [self.complete(item_type, details, item) for item in items]
        waiting = [i for i, item in enumerate(completed) if is_awaitable(item)]
        if not waiting:
            return completed

        async def fill() -> list[Any]:
            values = await _gather([completed[i] for i in waiting])
            for index, value in zip(waiting, values, strict=True):
                completed[index] = value
            return completed

        return fill()

    def _runtime_type(
        self, abstract: GraphQLAbstractType, details: list[FieldDetails], value: Any
    ) -> GraphQLObjectType:
        resolve_type = abstract.resolve_type
        if resolve_type is None:
            raise FallbackError("no type resolver")
        # Strawberry's resolver reads only these two of the info for our own types.
        info = SimpleNamespace(schema=self.schema, field_name=details[0].node.name.value)
        name = resolve_type(value, info, abstract)  # type: ignore[arg-type]
        runtime = self.schema.get_type(name) if isinstance(name, str) else None
        if not isinstance(runtime, GraphQLObjectType) or not self.schema.is_sub_type(
            abstract, runtime
        ):
            raise FallbackError("the runtime type is not resolved here")
        return runtime

    def _subfields_of(
        self, type_: GraphQLObjectType, details: list[FieldDetails]
    ) -> dict[str, list[FieldDetails]]:
        key = (type_.name, tuple(id(d.node) for d in details))
        groups = self._subfields.get(key)
        if groups is None:
            groups = self._subfields[key] = collect_subfields(
                self.schema, self.fragments, self.variables, self.operation, type_, details
            ).grouped_field_set
        return groups


async def _gather(awaitables: Sequence[Awaitable[Any]]) -> list[Any]:
    return list(await asyncio.gather(*awaitables))


def _refuse_tracking(_awaitables: Any) -> None:
    raise FallbackError("a resolver left work running")
