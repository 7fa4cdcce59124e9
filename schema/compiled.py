"""Compiled reads: an operation turned once into steps that shape database rows into the response.

The fast path (schema.fast) still calls a resolver per field and builds a
Strawberry object per row: on a profile page of 1,500 fields that is most of
the request's CPU. Here an operation is compiled once, per document and per
value of the variables its @skip/@include read, into a tree of `Shape`s:

- a `Leaf` reads one value from a row (an attribute read and the scalar's own
  serialisation, worked out once);
- a `Child` fetches what a field holds for a whole level of rows at once
  (every paper's byline in one call of the loader's batch function, the same
  statement the reference runs) and shapes the children, level by level.

So a request runs a handful of batch reads and loops over rows; no resolver,
no Strawberry object, no asyncio task per field. The data comes from the same
functions the resolvers call (resolvers.*, the loaders' batch functions), so
the statements, their snapshot and the arguments' checks are the reference's.

It compiles only the fields listed in `FIELDS` and plain attribute fields of
the types whose rows it knows; any other field makes the operation
`NotCompiledError`, and the fast path runs it. At run time anything unexpected (an
argument the resolvers refuse, a null in a non-null field) raises
`FallbackError` and the fast path runs the request from the start; reads have
no effects, so that is safe. tests/api/test_fast_path.py holds this path,
the fast path and graphql-core to byte-identical answers.
"""

from __future__ import annotations

import asyncio
import operator
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLString,
    GraphQLUnionType,
    OperationDefinitionNode,
    VariableNode,
)
from graphql.execution.collect_fields import (
    FieldDetails,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import VariableValues, get_argument_values
from graphql.language import Visitor, visit
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField

from db.engine import SecondStatementError
from db.queries import coauthors as coauthor_queries
from db.queries import papers as paper_queries
from db.queries.researchers import KEPT_COLUMNS
from resolvers import papers as paper_resolvers
from resolvers import researchers as researcher_resolvers
from resolvers.context import Context
from resolvers.deadline import current_deadline
from resolvers.indicators import Window, citations_by_year_of, summary_of
from resolvers.loaders import ListSpec
from resolvers.metrics import Summary
from resolvers.nodes import encode_global_id, load_nodes
from resolvers.pages import PageArgs, PageResult, page_request, page_result
from schema.fast import FallbackError
from schema.inputs import filter_spec, paper_order, researcher_order
from schema.metrics import KEPT_FIELDS

Source = Any
ID = frozenset({"id"})
NOTHING: frozenset[str] = frozenset()


class NotCompiledError(Exception):
    """The operation asks for something this module does not compile; the fast path runs it."""


# -- What a compiled operation is made of.


@dataclass(slots=True)
class Leaf:
    """A value read from the source: `get(source)`, then the scalar's serialisation."""

    key: str
    get: Callable[[Source], Any]
    serialize: Callable[[Any], Any] | None
    non_null: bool
    # The columns of a row source it reads (see `needs`); None: any of them.
    columns: frozenset[str] | None = None


@dataclass(slots=True)
class BatchLeaf:
    """Leaf values fetched for a whole level at once (totalCount, a kept figure, links)."""

    key: str
    fetch: Callable[[Run, Sequence[Source]], Awaitable[list[Any]]]
    serialize: Callable[[Any], Any] | None
    non_null: bool
    columns: frozenset[str] | None = ID
    # Whether its fetch runs a statement (False: it never does, or only sometimes).
    reads: bool = True


@dataclass(slots=True)
class Typename:
    key: str
    name: str


@dataclass(slots=True)
class Child:
    """An object (or list of objects) field: fetched for a whole level, then shaped."""

    key: str
    fetch: Callable[[Run, Sequence[Source]], Awaitable[list[Any]]]
    shape: Shape | AbstractShape
    is_list: bool
    non_null: bool
    items_non_null: bool = True
    # The columns of a row source its fetch reads; or, when it hands the source's rows on to
    # its shape (a connection's nodes, a byline's researcher), what that shape needs.
    columns: frozenset[str] | None = ID
    passes_through: bool = False
    reads: bool = True  # as BatchLeaf.reads


Step = Leaf | BatchLeaf | Typename | Child


def certain_reads(shape: Shape | AbstractShape) -> int:
    """How many statements running `shape` surely reads (one per reading step: batched)."""
    shapes = shape.by_type.values() if isinstance(shape, AbstractShape) else [shape]
    count = 0
    for each in shapes:
        for step in each.steps:
            if isinstance(step, Child | BatchLeaf) and step.reads:
                count += 1
            if isinstance(step, Child):
                count += certain_reads(step.shape)
    return count


def needs(shape: Shape | AbstractShape) -> frozenset[str] | None:
    """The columns the rows shaped by `shape` must carry; None when it cannot tell (all)."""
    if isinstance(shape, AbstractShape):
        return None
    found: set[str] = set()
    for step in shape.steps:
        if isinstance(step, Typename):
            continue
        if isinstance(step, Child) and step.passes_through:
            columns = needs(step.shape)
        else:
            columns = step.columns
        if columns is None:
            return None
        found |= columns
    return frozenset(found)


@dataclass(slots=True)
class Shape:
    """How one object of a concrete type is built from its source."""

    type_name: str
    steps: list[Step] = field(default_factory=list)


@dataclass(slots=True)
class AbstractShape:
    """An interface's objects: sources are (type name, row), each shaped by its type."""

    by_type: dict[str, Shape]


class CompiledOperation:
    """One operation, compiled for one set of @skip/@include values.

    It is first run as if it read one statement, in no transaction (a leaderboard:
    no BEGIN and no ROLLBACK); the first run that reads a second statement starts
    again in a snapshot, and so does every later run (db.engine.ReadSnapshot).
    """

    def __init__(self, root: Shape) -> None:
        self.root = root
        self.several_statements = certain_reads(root) > 1

    async def run(self, context: Context, variables: VariableValues) -> dict[str, Any]:
        if not self.several_statements and context.snapshot.expect_one_statement():
            try:
                return await self._run(context, variables)
            except SecondStatementError:
                self.several_statements = True
                await context.start_reads_again()
            except BaseException:
                # Whoever answers instead (the fast path) reads in a snapshot as usual.
                await asyncio.shield(context.start_reads_again())
                raise
        return await self._run(context, variables)

    async def _run(self, context: Context, variables: VariableValues) -> dict[str, Any]:
        run = Run(context, variables, current_deadline())
        [data] = await build(run, self.root, [None])
        return data


@dataclass(slots=True)
class Run:
    context: Context
    variables: VariableValues
    # When the request must stop (resolvers.deadline): checked before every step and every
    # few values, so work that never waits stops too (the reference then answers TIMEOUT).
    deadline: float | None

    def check_deadline(self) -> None:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise FallbackError("past the deadline")


# -- Running a compiled operation.


async def build(run: Run, shape: Shape, sources: Sequence[Source]) -> list[dict[str, Any]]:
    """The objects of one shape for a level of sources, each field in the selection's order."""
    built: list[dict[str, Any]] = [{} for _ in sources]
    for step in shape.steps:
        run.check_deadline()
        if isinstance(step, Leaf):
            values: Any = map(step.get, sources)
            _fill(run, built, step.key, values, step.serialize, step.non_null)
        elif isinstance(step, Typename):
            for item in built:
                item[step.key] = step.name
        elif isinstance(step, BatchLeaf):
            values = await step.fetch(run, sources)
            _fill(run, built, step.key, values, step.serialize, step.non_null)
        else:
            await _children(run, step, sources, built)
    return built


def _fill(
    run: Run,
    built: list[dict[str, Any]],
    key: str,
    values: Any,
    serialize: Callable[[Any], Any] | None,
    non_null: bool,
) -> None:
    deadline = run.deadline
    for index, (item, value) in enumerate(zip(built, values, strict=True)):
        if deadline is not None and not index & 7 and time.monotonic() >= deadline:
            raise FallbackError("past the deadline")
        if value is None:
            if non_null:
                raise FallbackError(f"null in the non-null field {key}")
            item[key] = None
        else:
            item[key] = value if serialize is None else serialize(value)


async def _children(
    run: Run, step: Child, sources: Sequence[Source], built: list[dict[str, Any]]
) -> None:
    values = await step.fetch(run, sources)
    if not step.is_list:
        present = [value for value in values if value is not None]
        if step.non_null and len(present) != len(values):
            raise FallbackError(f"null in the non-null field {step.key}")
        shaped = iter(await build_any(run, step.shape, present))
        for item, value in zip(built, values, strict=True):
            item[step.key] = None if value is None else next(shaped)
        return
    flat: list[Source] = []
    for value in values:
        if value is None:
            if step.non_null:
                raise FallbackError(f"null in the non-null field {step.key}")
            continue
        flat.extend(value)
    if step.items_non_null and any(item is None for item in flat):
        raise FallbackError(f"null in a list of non-null {step.key}")
    shaped = iter(await build_any(run, step.shape, [v for v in flat if v is not None]))
    for item, value in zip(built, values, strict=True):
        if value is None:
            item[step.key] = None
        else:
            item[step.key] = [None if v is None else next(shaped) for v in value]


async def build_any(
    run: Run, shape: Shape | AbstractShape, sources: list[Source]
) -> list[dict[str, Any]]:
    if not sources:
        return []
    if isinstance(shape, Shape):
        return await build(run, shape, sources)
    # (type name, row) pairs: each type's rows shaped together, answered in the original order.
    groups: dict[str, list[int]] = {}
    for index, (type_name, _) in enumerate(sources):
        groups.setdefault(type_name, []).append(index)
    answered: list[dict[str, Any]] = [{} for _ in sources]
    for type_name, indexes in groups.items():
        concrete = shape.by_type.get(type_name)
        if concrete is None:
            raise FallbackError(f"no shape for {type_name}")
        objects = await build(run, concrete, [sources[i][1] for i in indexes])
        for index, value in zip(indexes, objects, strict=True):
            answered[index] = value
    return answered


# -- Sources that are not rows.


@dataclass(slots=True)
class Listed:
    """One page of a connection, and how its whole list is counted (batched per level)."""

    result: PageResult
    rows: list[Any]
    has_next_page: bool
    has_previous_page: bool
    count_key: Any
    count_many: Callable[[list[Any]], Awaitable[list[int]]]


def listed(
    result: PageResult, count_key: Any, count_many: Callable[[list[Any]], Awaitable[list[int]]]
) -> Listed:
    page = result.page
    return Listed(
        result,
        page.rows,
        page.has_next_page,
        page.has_previous_page,
        count_key,
        count_many,
    )


def single_count(result: PageResult) -> Listed:
    """A root list: its count is its own statement."""

    async def count_many(keys: list[Any]) -> list[int]:
        return [await result.count_all() for _ in keys]

    return listed(result, None, count_many)


@dataclass(slots=True)
class MetricsOf:
    """The metrics of one researcher over a window; the summary computed once if asked for."""

    researcher_id: int
    window: Window
    as_of_year: int
    kept_figures: bool
    # A leaderboard's row, which carries the kept figures (no statement needed for them).
    ranked_row: Any = None
    summary: Summary | None = None


# -- Compiling.


@dataclass(slots=True)
class Compiler:
    schema: strawberry.Schema
    fragments: dict[str, FragmentDetails]
    variables: VariableValues
    operation: OperationDefinitionNode

    def root(self) -> Shape:
        graphql_schema = self.schema._schema
        root = graphql_schema.query_type
        assert root is not None
        groups = collect_fields(
            graphql_schema, self.fragments, self.variables, root, self.operation
        ).grouped_field_set
        return Shape(root.name, [self.field(root, key, details) for key, details in groups.items()])

    def shape(self, type_: GraphQLOutputType, details: list[FieldDetails]) -> Shape | AbstractShape:
        named = _named(type_)
        if isinstance(named, GraphQLObjectType):
            return self.object_shape(named, details)
        if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
            possible = self.schema._schema.get_possible_types(named)
            return AbstractShape({t.name: self.object_shape(t, details) for t in possible})
        raise NotCompiledError(f"{named} is not an object type")

    def object_shape(self, type_: GraphQLObjectType, details: list[FieldDetails]) -> Shape:
        groups = collect_subfields(
            self.schema._schema, self.fragments, self.variables, self.operation, type_, details
        ).grouped_field_set
        return Shape(type_.name, [self.field(type_, key, d) for key, d in groups.items()])

    def field(self, parent: GraphQLObjectType, key: str, details: list[FieldDetails]) -> Step:
        name = details[0].node.name.value
        if name == "__typename":
            return Typename(key, parent.name)
        graphql_field = parent.fields.get(name)
        if graphql_field is None:
            raise NotCompiledError(f"no field {parent.name}.{name}")
        compile_special = FIELDS.get((parent.name, name))
        if compile_special is not None:
            return compile_special(self, Field(self, parent, graphql_field, key, details))
        return self.plain(parent, name, graphql_field, key)

    def plain(
        self, parent: GraphQLObjectType, name: str, graphql_field: GraphQLField, key: str
    ) -> Leaf:
        """A field that only reads an attribute named as the row's column, of a leaf type."""
        if parent.name not in ROW_TYPES:
            raise NotCompiledError(f"{parent.name}.{name} is not compiled")
        definition = self.schema.get_field_for_type(name, parent.name)
        if (
            definition is None
            or definition.base_resolver is not None
            or definition.permission_classes
            or definition.extensions
            or graphql_field.args
        ):
            raise NotCompiledError(f"{parent.name}.{name} has a resolver")
        return Leaf(
            key,
            operator.attrgetter(definition.python_name),
            leaf_serializer(graphql_field.type),
            isinstance(graphql_field.type, GraphQLNonNull),
            frozenset({definition.python_name}),
        )


@dataclass(slots=True)
class Field:
    """One field being compiled: where it is, what it is, and its selections."""

    compiler: Compiler
    parent: GraphQLObjectType
    graphql_field: GraphQLField
    key: str
    details: list[FieldDetails]

    @property
    def non_null(self) -> bool:
        return isinstance(self.graphql_field.type, GraphQLNonNull)

    def child(
        self,
        fetch: Callable[[Run, Sequence[Source]], Awaitable[list[Any]]],
        *,
        is_list: bool,
        columns: frozenset[str] | None = ID,
        passes_through: bool = False,
        reads: bool = True,
    ) -> Child:
        type_ = self.graphql_field.type
        inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        items_non_null = True
        if is_list:
            assert isinstance(inner, GraphQLList)
            items_non_null = isinstance(inner.of_type, GraphQLNonNull)
        return Child(
            self.key,
            fetch,
            self.compiler.shape(type_, self.details),
            is_list,
            self.non_null,
            items_non_null,
            columns,
            passes_through,
            reads and not passes_through,
        )

    def narrowing_child(
        self,
        make_fetch: Callable[
            [frozenset[str] | None], Callable[[Run, Sequence[Source]], Awaitable[list[Any]]]
        ],
        *,
        is_list: bool,
        columns: frozenset[str] | None = ID,
    ) -> Child:
        """A child whose fetch reads only the columns its shape needs (`needs`)."""
        step = self.child(_same, is_list=is_list, columns=columns)
        step.fetch = make_fetch(needs(step.shape))
        return step

    def batch_leaf(
        self,
        fetch: Callable[[Run, Sequence[Source]], Awaitable[list[Any]]],
        columns: frozenset[str] | None = ID,
        *,
        reads: bool = True,
    ) -> BatchLeaf:
        return BatchLeaf(
            self.key, fetch, leaf_serializer(self.graphql_field.type), self.non_null, columns, reads
        )

    def arguments(self) -> Callable[[Run], dict[str, Any]]:
        """The field's arguments as its resolver receives them (Python names and types)."""
        definition = _definition(self.compiler.schema, self.parent, self.details)
        graphql_field, node = self.graphql_field, self.details[0].node
        schema = self.compiler.schema
        converter = schema.schema_converter

        def arguments(run: Run) -> dict[str, Any]:
            raw = get_argument_values(graphql_field, node, run.variables)
            return convert_arguments(
                raw,
                definition.arguments,
                scalar_registry=converter.scalar_registry,
                config=schema.config,
            )

        if not _uses_variables(node):
            fixed: dict[str, Any] | None = None

            def fixed_arguments(run: Run) -> dict[str, Any]:
                nonlocal fixed
                if fixed is None:
                    fixed = arguments(run)
                return fixed

            return fixed_arguments
        return arguments

    def selected_names(self) -> set[str]:
        """The names of the fields selected below this one (merged over its nodes)."""
        names: set[str] = set()
        for detail in self.details:
            selection_set = detail.node.selection_set
            if selection_set is None:
                continue
            for selection in selection_set.selections:
                if not isinstance(selection, FieldNode):
                    raise NotCompiledError("fragments under metrics")
                names.add(selection.name.value)
        return names


def _definition(
    schema: strawberry.Schema, parent: GraphQLObjectType, details: list[FieldDetails]
) -> StrawberryField:
    found = schema.get_field_for_type(details[0].node.name.value, parent.name)
    if found is None:
        raise NotCompiledError(f"no definition of {parent.name}.{details[0].node.name.value}")
    return found


def _uses_variables(node: FieldNode) -> bool:
    found = False

    class Finder(Visitor):
        def enter_variable(self, *_: Any) -> None:
            nonlocal found
            found = True

    for argument in node.arguments or ():
        visit(argument, Finder())
    return found


def _named(type_: GraphQLOutputType) -> Any:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def _exact(kind: type, scalar: GraphQLScalarType) -> Callable[[Any], Any]:
    serialize = scalar.serialize

    def fast(value: Any) -> Any:
        return value if value.__class__ is kind else serialize(value)

    return fast


SCALAR_FAST = {
    GraphQLString.name: (str, GraphQLString),
    GraphQLID.name: (str, GraphQLID),
    GraphQLInt.name: (int, GraphQLInt),
    GraphQLBoolean.name: (bool, GraphQLBoolean),
    GraphQLFloat.name: (float, GraphQLFloat),
}


def leaf_serializer(type_: GraphQLOutputType) -> Callable[[Any], Any] | None:
    """How a value of this leaf type (or list of them) is serialised, as graphql-core does."""
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if isinstance(type_, GraphQLList):
        inner = type_.of_type
        item_non_null = isinstance(inner, GraphQLNonNull)
        item = leaf_serializer(inner)

        def serialize_list(values: Any) -> Any:
            out: list[Any] = []
            for value in values:
                if value is None:
                    if item_non_null:
                        raise FallbackError("null in a list of non-null leaves")
                    out.append(None)
                else:
                    out.append(value if item is None else item(value))
            return out

        return serialize_list
    if isinstance(type_, GraphQLScalarType):
        known = SCALAR_FAST.get(type_.name)
        if known is not None and type_ is known[1]:
            return _exact(*known)
        return _checked(type_.serialize)
    if isinstance(type_, GraphQLEnumType):
        return _checked(type_.serialize)
    raise NotCompiledError(f"{type_} is not a leaf type")


def _checked(serialize: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def checked(value: Any) -> Any:
        serialized = serialize(value)
        if serialized is None:
            raise FallbackError("a leaf serialised to null")
        return serialized

    return checked


# -- The fields compiled beyond plain attributes: (type, field) -> how.

Compile = Callable[[Compiler, Field], Step]
Fetch = Callable[[Run, Sequence[Source]], Awaitable[list[Any]]]
FIELDS: dict[tuple[str, str], Compile] = {}
# Types whose sources are rows with a column per plain field (ReportedMetrics: its own row).
ROW_TYPES = frozenset({"Researcher", "Paper", "Institution", "Authorship", "ReportedMetrics"})


def compiles(*names: str) -> Callable[[Compile], Compile]:
    def register(function: Compile) -> Compile:
        for name in names:
            type_name, _, field_name = name.partition(".")
            FIELDS[type_name, field_name] = function
        return function

    return register


def _row_id(row: Any) -> int:
    return int(row.id)


@compiles("Researcher.id", "Paper.id", "Institution.id")
def _global_id(_compiler: Compiler, f: Field) -> Step:
    type_name = f.parent.name

    def get(row: Any) -> str:
        return encode_global_id(type_name, row.id)

    return Leaf(f.key, get, None, True, ID)


def _same(_run: Run, sources: Sequence[Source]) -> Awaitable[list[Any]]:
    return _ready(list(sources))


async def _ready(values: list[Any]) -> list[Any]:
    return values


def _each(get: Callable[[Source], Any]) -> Callable[[Run, Sequence[Source]], Awaitable[list[Any]]]:
    def fetch(_run: Run, sources: Sequence[Source]) -> Awaitable[list[Any]]:
        return _ready([get(source) for source in sources])

    return fetch


def _by_row_id(
    load: Callable[[Context], Callable[[list[int]], Awaitable[list[Any]]]],
) -> Callable[[Run, Sequence[Source]], Awaitable[list[Any]]]:
    """A loader's batch function over the sources' ids: one statement for the level."""

    async def fetch(run: Run, sources: Sequence[Source]) -> list[Any]:
        ids = [row.id for row in sources]
        return await load(run.context)(ids)

    return fetch


# Roots.


@compiles("Query.researcher")
def _researcher(_compiler: Compiler, f: Field) -> Step:
    arguments = f.arguments()

    def make_fetch(columns: frozenset[str] | None) -> Fetch:
        async def fetch(run: Run, _sources: Sequence[Source]) -> list[Any]:
            args = arguments(run)
            found = await researcher_resolvers.find_researcher(
                run.context,
                id=args.get("id"),
                slug=args.get("slug"),
                orcid=args.get("orcid"),
                columns=columns,
            )
            return [found]

        return fetch

    return f.narrowing_child(make_fetch, is_list=False, columns=NOTHING)


@compiles("Query.paper")
def _paper(_compiler: Compiler, f: Field) -> Step:
    arguments = f.arguments()

    async def fetch(run: Run, _sources: Sequence[Source]) -> list[Any]:
        args = arguments(run)
        found = await paper_resolvers.find_paper(
            run.context, id=args.get("id"), arxiv_id=args.get("arxiv_id"), doi=args.get("doi")
        )
        return [found]

    return f.child(fetch, is_list=False, columns=NOTHING)


def _page_args(args: dict[str, Any]) -> PageArgs:
    return PageArgs(
        first=args.get("first"),
        after=args.get("after"),
        last=args.get("last"),
        before=args.get("before"),
    )


@compiles("Query.researchers")
def _researchers(_compiler: Compiler, f: Field) -> Step:
    arguments = f.arguments()

    def make_fetch(columns: frozenset[str] | None) -> Fetch:
        async def fetch(run: Run, _sources: Sequence[Source]) -> list[Any]:
            args = arguments(run)
            result = await researcher_resolvers.list_researchers(
                run.context,
                _page_args(args),
                query=args.get("query"),
                order=researcher_order(args.get("order_by")),
                columns=columns,
            )
            return [single_count(result)]

        return fetch

    return f.narrowing_child(make_fetch, is_list=False, columns=NOTHING)


@compiles("Query.papers")
def _papers(_compiler: Compiler, f: Field) -> Step:
    arguments = f.arguments()

    async def fetch(run: Run, _sources: Sequence[Source]) -> list[Any]:
        args = arguments(run)
        result = await paper_resolvers.list_papers(
            run.context,
            _page_args(args),
            query=args.get("query"),
            spec=filter_spec(args.get("filter")),
            order=paper_order(args.get("order_by")),
        )
        return [single_count(result)]

    return f.child(fetch, is_list=False, columns=NOTHING)


@compiles("Query.node", "Query.nodes")
def _nodes(_compiler: Compiler, f: Field) -> Step:
    arguments = f.arguments()
    is_list = isinstance(_unwrapped(f.graphql_field.type), GraphQLList)

    async def fetch(run: Run, _sources: Sequence[Source]) -> list[Any]:
        args = arguments(run)
        ids = args["ids"] if is_list else [args["id"]]
        found = await load_nodes(run.context, ids)
        return [found] if is_list else found

    return f.child(fetch, is_list=is_list, columns=NOTHING)


def _unwrapped(type_: GraphQLOutputType) -> GraphQLOutputType:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


# Connections: a Listed source.


@compiles(
    "ResearcherConnection.totalCount",
    "PaperConnection.totalCount",
    "CoauthorConnection.totalCount",
)
def _total_count(_compiler: Compiler, f: Field) -> Step:
    async def fetch(_run: Run, sources: Sequence[Source]) -> list[Any]:
        if not sources:
            return []
        # One level's lists share their counter (a loader's batch function).
        counts: list[Any] = await sources[0].count_many([each.count_key for each in sources])
        return counts

    return f.batch_leaf(fetch, NOTHING)


@compiles(
    "ResearcherConnection.pageInfo", "PaperConnection.pageInfo", "CoauthorConnection.pageInfo"
)
def _page_info(_compiler: Compiler, f: Field) -> Step:
    return f.child(_same, is_list=False, columns=NOTHING, reads=False)


@compiles(
    "PageInfo.hasNextPage", "PageInfo.hasPreviousPage", "PageInfo.startCursor", "PageInfo.endCursor"
)
def _page_info_field(_compiler: Compiler, f: Field) -> Step:
    name = f.details[0].node.name.value
    getters: dict[str, Callable[[Listed], Any]] = {
        "hasNextPage": operator.attrgetter("has_next_page"),
        "hasPreviousPage": operator.attrgetter("has_previous_page"),
        "startCursor": lambda listed: listed.result.cursors[0] if listed.rows else None,
        "endCursor": lambda listed: listed.result.cursors[-1] if listed.rows else None,
    }
    return Leaf(f.key, getters[name], leaf_serializer(f.graphql_field.type), f.non_null)


@compiles("ResearcherConnection.nodes", "PaperConnection.nodes", "CoauthorConnection.nodes")
def _connection_nodes(_compiler: Compiler, f: Field) -> Step:
    return f.child(_each(operator.attrgetter("rows")), is_list=True, passes_through=True)


@compiles("ResearcherConnection.edges", "PaperConnection.edges", "CoauthorConnection.edges")
def _connection_edges(_compiler: Compiler, f: Field) -> Step:
    def edges(listed: Listed) -> list[tuple[str, Any]]:
        return list(zip(listed.result.cursors, listed.rows, strict=True))

    return f.child(_each(edges), is_list=True, passes_through=True)


@compiles("ResearcherEdge.cursor", "PaperEdge.cursor", "CoauthorEdge.cursor")
def _edge_cursor(_compiler: Compiler, f: Field) -> Step:
    return Leaf(f.key, operator.itemgetter(0), None, True, NOTHING)


@compiles("ResearcherEdge.node", "PaperEdge.node", "CoauthorEdge.node")
def _edge_node(_compiler: Compiler, f: Field) -> Step:
    return f.child(_each(operator.itemgetter(1)), is_list=False, passes_through=True)


@compiles("CoauthorEdge.sharedPaperCount", "CoauthorEdge.firstYear", "CoauthorEdge.lastYear")
def _coauthor_figure(_compiler: Compiler, f: Field) -> Step:
    column = {
        "sharedPaperCount": "shared_paper_count",
        "firstYear": "first_year",
        "lastYear": "last_year",
    }[f.details[0].node.name.value]
    get_column = operator.attrgetter(column)
    return Leaf(
        f.key,
        lambda edge: get_column(edge[1]),
        leaf_serializer(f.graphql_field.type),
        f.non_null,
        frozenset({column}),
    )


# Below a researcher.


@compiles("Researcher.papers")
def _researcher_papers(_compiler: Compiler, f: Field) -> Step:
    arguments = f.arguments()

    def make_fetch(columns: frozenset[str] | None) -> Fetch:
        async def fetch(run: Run, sources: Sequence[Source]) -> list[Any]:
            args = arguments(run)
            spec = filter_spec(args.get("filter"))
            order = paper_order(args.get("order_by"))
            list_spec = paper_resolvers.paper_list_spec(_page_args(args), spec=spec, order=order)
            loaders = run.context.loaders
            pages = await loaders.load_paper_page_by_researcher_id(
                [(row.id, list_spec) for row in sources], columns
            )
            ordering = paper_queries.paper_ordering(
                list_spec.order_field, descending=list_spec.descending
            )
            return [
                listed(
                    page_result(page, ordering, _no_count),
                    (row.id, spec),
                    loaders.load_paper_count_by_researcher_id,
                )
                for row, page in zip(sources, pages, strict=True)
            ]

        return fetch

    return f.narrowing_child(make_fetch, is_list=False)


async def _no_count() -> int:
    raise FallbackError("counted through the level's batch")


@compiles("Researcher.coauthors")
def _coauthors(_compiler: Compiler, f: Field) -> Step:
    arguments = f.arguments()

    async def fetch(run: Run, sources: Sequence[Source]) -> list[Any]:
        args = arguments(run)
        ordering = coauthor_queries.coauthors_select([0])[2]
        spec = ListSpec(request=page_request(_page_args(args), ordering))
        loaders = run.context.loaders
        pages = await loaders.load_coauthor_page_by_researcher_id(
            [(row.id, spec) for row in sources]
        )
        return [
            listed(
                page_result(page, ordering, _no_count),
                row.id,
                loaders.load_coauthor_count_by_researcher_id,
            )
            for row, page in zip(sources, pages, strict=True)
        ]

    return f.child(fetch, is_list=False)


@compiles("Researcher.aliases")
def _aliases(_compiler: Compiler, f: Field) -> Step:
    return f.batch_leaf(_by_row_id(lambda c: c.loaders.load_aliases_by_researcher_id))


@compiles("Researcher.institutions")
def _researcher_institutions(_compiler: Compiler, f: Field) -> Step:
    return f.child(_by_row_id(lambda c: c.loaders.load_institutions_by_researcher_id), is_list=True)


@compiles("Researcher.reportedMetrics")
def _reported(_compiler: Compiler, f: Field) -> Step:
    return f.child(_by_row_id(lambda c: c.loaders.load_reported_by_researcher_id), is_list=False)


@compiles("Researcher.metrics")
def _metrics(_compiler: Compiler, f: Field) -> Step:
    arguments = f.arguments()
    only_kept = f.selected_names() <= KEPT_FIELDS

    async def fetch(run: Run, sources: Sequence[Source]) -> list[Any]:
        args = arguments(run)
        given = args.get("window")
        window = given.to_window() if given is not None else Window()
        year = args.get("as_of_year")
        as_of_year = year if year is not None else run.context.today.year
        kept = only_kept and window == Window()
        # Rows that carry the kept figures: a leaderboard's, or a look-up that joined them
        # (NULL when the researcher has no kept row; then they are read as usual).
        ranked = kept and bool(sources) and "h_index" in sources[0]._fields
        return [
            MetricsOf(
                row.id,
                window,
                as_of_year,
                kept,
                row if ranked and row.h_index is not None else None,
            )
            for row in sources
        ]

    # A leaderboard's rows carry the kept figures (MetricsOf.ranked_row).
    return f.child(fetch, is_list=False, columns=ID | frozenset(KEPT_COLUMNS), reads=False)


async def _summaries(run: Run, sources: Sequence[MetricsOf]) -> list[Summary]:
    """Each researcher's summary, computed once; their papers read in one batch."""
    missing = [m for m in sources if m.summary is None]
    if missing:
        context = run.context
        computed = await asyncio.gather(
            *(
                summary_of(context, m.researcher_id, m.window, as_of_year=m.as_of_year)
                for m in missing
            )
        )
        for metrics_of, summary in zip(missing, computed, strict=True):
            metrics_of.summary = summary
    return [m.summary for m in sources]  # type: ignore[misc]


SUMMARY_FIELDS = {
    "paperCount": "paper_count",
    "citationCount": "citation_count",
    "hIndex": "h_index",
    "papersWithCitationCount": "papers_with_citation_count",
    "i10Index": "i10_index",
    "i100Index": "i100_index",
    "gIndex": "g_index",
    "mQuotient": "m_quotient",
    "meanCitations": "mean_citations",
    "medianCitations": "median_citations",
    "firstYear": "first_year",
    "lastYear": "last_year",
    "papersWithCode": "papers_with_code",
}


@compiles(*(f"Metrics.{name}" for name in SUMMARY_FIELDS))
def _metric(_compiler: Compiler, f: Field) -> Step:
    name = f.details[0].node.name.value
    attribute = SUMMARY_FIELDS[name]
    read = operator.attrgetter(attribute)
    kept_name = name in KEPT_FIELDS

    async def fetch(run: Run, sources: Sequence[Source]) -> list[Any]:
        if kept_name and sources and all(m.kept_figures for m in sources):
            rows = [m.ranked_row for m in sources]
            if any(row is None for row in rows):
                rows = await run.context.loaders.load_indicators_by_researcher_id(
                    [m.researcher_id for m in sources]
                )
            if all(row is not None for row in rows):
                return [int(read(row)) for row in rows]
        return [read(summary) for summary in await _summaries(run, sources)]

    # Kept figures come with a leaderboard's rows: then no statement (not counted as one).
    return f.batch_leaf(fetch, reads=not kept_name)


@compiles("Metrics.papersByYear")
def _papers_by_year(_compiler: Compiler, f: Field) -> Step:
    async def fetch(run: Run, sources: Sequence[Source]) -> list[Any]:
        return [list(s.papers_by_year) for s in await _summaries(run, sources)]

    return f.child(fetch, is_list=True)


@compiles("Metrics.categories")
def _category_counts(_compiler: Compiler, f: Field) -> Step:
    async def fetch(run: Run, sources: Sequence[Source]) -> list[Any]:
        return [list(s.category_counts) for s in await _summaries(run, sources)]

    return f.child(fetch, is_list=True)


@compiles("Metrics.citationsByYear")
def _citations_by_year(_compiler: Compiler, f: Field) -> Step:
    async def fetch(run: Run, sources: Sequence[Source]) -> list[Any]:
        context = run.context
        return list(
            await asyncio.gather(
                *(citations_by_year_of(context, m.researcher_id, m.window) for m in sources)
            )
        )

    return f.child(fetch, is_list=True)


# Pairs: (year, count) for YearCount, (code, count) for CategoryCount.


@compiles("YearCount.year")
def _year(_compiler: Compiler, f: Field) -> Step:
    return Leaf(f.key, operator.itemgetter(0), None, True)


@compiles("YearCount.count", "CategoryCount.count")
def _count(_compiler: Compiler, f: Field) -> Step:
    return Leaf(f.key, operator.itemgetter(1), None, True)


@compiles("CategoryCount.category")
def _category_of_count(_compiler: Compiler, f: Field) -> Step:
    return f.child(_each(lambda pair: (pair[0], None)), is_list=False, reads=False)


# Categories: (code, name or None) pairs; the name read by code when not at hand.


@compiles("Category.code")
def _category_code(_compiler: Compiler, f: Field) -> Step:
    return Leaf(f.key, operator.itemgetter(0), None, True)


@compiles("Category.name")
def _category_name(_compiler: Compiler, f: Field) -> Step:
    async def fetch(run: Run, sources: Sequence[Source]) -> list[Any]:
        wanted = sorted({code for code, name in sources if name is None})
        names: dict[str, str] = {}
        if wanted:
            rows = await run.context.loaders.load_categories_by_code(wanted)
            names = {code: row.name for code, row in zip(wanted, rows, strict=True) if row}
        return [name if name is not None else names.get(code, code) for code, name in sources]

    return f.batch_leaf(fetch)


# Below a paper.


@compiles("Paper.primaryCategory")
def _primary_category(_compiler: Compiler, f: Field) -> Step:
    def category(row: Any) -> Any:
        code = row.primary_category
        return None if code is None else (code, None)

    return f.child(
        _each(category), is_list=False, columns=frozenset({"primary_category"}), reads=False
    )


@compiles("Paper.categories")
def _paper_categories(_compiler: Compiler, f: Field) -> Step:
    async def fetch(run: Run, sources: Sequence[Source]) -> list[Any]:
        codes = await run.context.loaders.load_category_codes_by_paper_id(
            [row.id for row in sources]
        )
        return [[(code, None) for code in each] for each in codes]

    return f.child(fetch, is_list=True)


@compiles("Paper.authors")
def _authors(_compiler: Compiler, f: Field) -> Step:
    def make_fetch(columns: frozenset[str] | None) -> Fetch:
        async def fetch(run: Run, sources: Sequence[Source]) -> list[Any]:
            loaders = run.context.loaders
            return await loaders.load_authorships_by_paper_id([row.id for row in sources], columns)

        return fetch

    return f.narrowing_child(make_fetch, is_list=True)


@compiles("Authorship.researcher")
def _authorship_researcher(_compiler: Compiler, f: Field) -> Step:
    # The byline's row carries the researcher's columns.
    return f.child(_same, is_list=False, passes_through=True)


@compiles("Paper.institutions")
def _paper_institutions(_compiler: Compiler, f: Field) -> Step:
    return f.child(_by_row_id(lambda c: c.loaders.load_institutions_by_paper_id), is_list=True)


@compiles("Paper.links")
def _links(_compiler: Compiler, f: Field) -> Step:
    return f.batch_leaf(_by_row_id(lambda c: c.loaders.load_links_by_paper_id))


@compiles("Paper.citationsByYear")
def _paper_citations_by_year(_compiler: Compiler, f: Field) -> Step:
    return f.child(_by_row_id(lambda c: c.loaders.load_citation_years_by_paper_id), is_list=True)


# -- The door: compile an operation once per set of @skip/@include values.


def directive_variables(document: DocumentNode) -> tuple[str, ...]:
    """Names of the variables that @skip/@include read: the compiled shape depends on them."""
    names: set[str] = set()
    stack: list[Any] = list(document.definitions)
    while stack:
        node = stack.pop()
        for directive in getattr(node, "directives", None) or ():
            for argument in directive.arguments or ():
                if isinstance(argument.value, VariableNode):
                    names.add(argument.value.name.value)
        selections = getattr(node, "selection_set", None)
        if selections is not None:
            stack.extend(selections.selections)
    return tuple(sorted(names))


class CompiledPlans:
    """The compiled forms of one document's operations, by operation and directive values."""

    def __init__(self, schema: strawberry.Schema, document: DocumentNode) -> None:
        self.schema = schema
        self.document = document
        self.switches = directive_variables(document)
        self.fragments = {
            d.name.value: FragmentDetails(d, None)
            for d in document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        self._compiled: dict[tuple[int, tuple[Any, ...]], CompiledOperation | None] = {}

    def for_operation(
        self, operation: OperationDefinitionNode, variables: VariableValues
    ) -> CompiledOperation | None:
        """The compiled operation, or None when it asks for something not compiled."""
        key = (id(operation), tuple(bool(variables.coerced.get(name)) for name in self.switches))
        if key in self._compiled:
            return self._compiled[key]
        try:
            compiled: CompiledOperation | None = CompiledOperation(
                Compiler(self.schema, self.fragments, variables, operation).root()
            )
        except NotCompiledError:
            compiled = None
        self._compiled[key] = compiled
        return compiled
