"""What an operation asks of the server, read from its document: depth, aliases and cost.

Every figure is computed once per fragment and reused at each spread of it, so
the work is linear in the document's size. Walking into a fragment again at
every spread would not be: a fragment spread twice by a fragment spread twice,
twenty levels down, would be walked a million times.

Cost is counted as GitHub counts nodes: a connection may return as many items
as its `first`/`last` asks (20 when neither is given), once for each item its
parents may return; so may every other list of objects, up to the most items
it holds anywhere in the data (`ListBounds`). `researchers(first: 100) {
nodes { papers(first: 50) { nodes { authors { ... } } } } }` may return 100 +
100 * 50 + 100 * 50 * (authors on the most-authored paper) nodes. Variables
are read with their defaults and `@skip`/`@include` are obeyed, so the figure
is what the request will really be allowed to return.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLIncludeDirective,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
)
from graphql.execution.values import (
    VariableValues,
    get_argument_values,
    get_directive_values,
)

from resolvers.bounds import ListBounds
from resolvers.errors import InvalidArgumentError
from resolvers.nodes import checked_node_ids
from resolvers.pages import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

# The most objects each plain list field (not a connection's edges or nodes) may hold.
ListBound = Callable[[ListBounds, Mapping[str, Any]], int]
LIST_BOUNDS: dict[tuple[str, str], ListBound] = {
    ("Query", "nodes"): lambda _bounds, args: len(checked_node_ids(args.get("ids") or ())),
    ("Query", "categories"): lambda bounds, _args: bounds.categories,
    ("CorpusStats", "categories"): lambda bounds, _args: bounds.categories,
    ("CorpusStats", "papersByYear"): lambda bounds, _args: bounds.years,
    ("Metrics", "categories"): lambda bounds, _args: bounds.categories,
    ("Metrics", "citationsByYear"): lambda bounds, _args: bounds.years,
    ("Metrics", "papersByYear"): lambda bounds, _args: bounds.years,
    ("Metrics", "hCore"): lambda bounds, _args: bounds.h_index,
    ("Paper", "authors"): lambda bounds, _args: bounds.authors_per_paper,
    ("Paper", "categories"): lambda bounds, _args: bounds.categories_per_paper,
    ("Paper", "citationsByYear"): lambda bounds, _args: bounds.years,
    ("Paper", "institutions"): lambda bounds, _args: bounds.institutions_per_paper,
    ("Researcher", "institutions"): lambda bounds, _args: bounds.institutions_per_researcher,
}
# Lists that hold no more than the connection or payload they belong to already counts.
UNCOUNTED_LIST_OWNERS = ("Connection", "Payload")


def operation_named(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    """The operation a request runs: the named one, or the only one."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is not None:
        return next((o for o in operations if o.name and o.name.value == name), None)
    return operations[0] if len(operations) == 1 else None


def fragments_of(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


@dataclass(slots=True)
class DocumentShape:
    """Depth and aliases of a valid document's operations, each fragment measured once.

    Depth counts as graphql-depth-limit does: a root field is at depth 0, its
    selections at 1, and so on; introspection fields (`__schema`, `__type`) do
    not count what is below them.
    """

    fragments: dict[str, FragmentDefinitionNode]
    _heights: dict[str, int] = field(default_factory=dict)
    _aliases: dict[str, int] = field(default_factory=dict)

    def depth(self, operation: OperationDefinitionNode) -> int:
        return self._height(operation.selection_set)

    def aliases(self, operation: OperationDefinitionNode) -> int:
        return self._alias_count(operation.selection_set)

    def _height(self, selections: SelectionSetNode) -> int:
        height = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                below = selection.selection_set
                if below is not None and not selection.name.value.startswith("__"):
                    height = max(height, 1 + self._height(below))
            elif isinstance(selection, InlineFragmentNode):
                height = max(height, self._height(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                height = max(height, self._fragment(selection.name.value, self._heights))
        return height

    def _alias_count(self, selections: SelectionSetNode) -> int:
        count = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                count += selection.alias is not None
                if selection.selection_set is not None:
                    count += self._alias_count(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                count += self._alias_count(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                count += self._fragment(selection.name.value, self._aliases)
        return count

    def _fragment(self, name: str, memo: dict[str, int]) -> int:
        if name not in memo:
            memo[name] = 0  # a cycle (refused by validation anyway) ends here
            selections = self.fragments[name].selection_set
            memo[name] = (
                self._height(selections) if memo is self._heights else self._alias_count(selections)
            )
        return memo[name]


class CostCounter:
    """Counts the nodes an operation may return, for one request's variables.

    Page sizes outside 0..100 are refused here, before anything runs, wherever
    they appear: under a parent that turns out to be null they would never
    reach a resolver, and a negative size would lower the total.
    """

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: VariableValues,
        bounds: ListBounds,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.bounds = bounds
        self._fragment_units: dict[str, int] = {}

    def count(self, root: GraphQLObjectType, operation: OperationDefinitionNode) -> int:
        return self._unit(root, operation.selection_set)

    def _unit(self, parent: GraphQLNamedType | None, selections: SelectionSetNode | None) -> int:
        """Nodes the selections may return for ONE item of `parent`; linear in `above`."""
        if selections is None or not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        total = 0
        for selection in selections.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                total += self._field(parent, selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                narrowed = self.schema.get_type(condition.name.value) if condition else parent
                total += self._unit(narrowed, selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment_unit(selection.name.value)
        return total

    def _fragment_unit(self, name: str) -> int:
        if name not in self._fragment_units:
            fragment = self.fragments[name]
            narrowed = self.schema.get_type(fragment.type_condition.name.value)
            self._fragment_units[name] = self._unit(narrowed, fragment.selection_set)
        return self._fragment_units[name]

    def _field(self, parent: GraphQLObjectType | GraphQLInterfaceType, node: FieldNode) -> int:
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return 0
        returned = get_named_type(definition.type)
        items = self._items(parent, node, definition)
        if items is None:
            return self._unit(returned, node.selection_set)
        return items + items * self._unit(returned, node.selection_set)

    def _items(self, parent: GraphQLNamedType, node: FieldNode, definition: Any) -> int | None:
        """How many items this field may return for one parent; None for a single object."""
        returned = get_named_type(definition.type)
        if returned.name.endswith("Connection"):
            return self._page_size(node, self._arguments(definition, node))
        bound = LIST_BOUNDS.get((parent.name, node.name.value))
        if bound is not None:
            return bound(self.bounds, self._arguments(definition, node))
        return None

    def _arguments(self, definition: Any, node: FieldNode) -> dict[str, Any]:
        try:
            return get_argument_values(definition, node, self.variables)
        except GraphQLError:
            return {}  # execution refuses the field; it returns nothing

    def _page_size(self, node: FieldNode, arguments: Mapping[str, Any]) -> int:
        sizes = [(name, arguments.get(name)) for name in ("first", "last")]
        given = [(name, size) for name, size in sizes if isinstance(size, int)]
        for name, size in given:
            if not 0 <= size <= MAX_PAGE_SIZE:
                message = f"{name} must be between 0 and {MAX_PAGE_SIZE}; got {size}."
                raise InvalidArgumentError(message, nodes=[node])
        return max((size for _, size in given), default=DEFAULT_PAGE_SIZE)

    def _included(self, node: Any) -> bool:
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip is not None and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return include is None or include.get("if") is not False


def uncounted_object_lists(schema: GraphQLSchema) -> list[str]:
    """Fields returning lists of objects that the cost neither bounds nor may skip.

    Empty for a schema whose every list is counted; a test keeps it so.
    """
    missing = []
    for type_ in schema.type_map.values():
        if type_.name.startswith("__") or not isinstance(
            type_, GraphQLObjectType | GraphQLInterfaceType
        ):
            continue
        if type_.name.endswith(UNCOUNTED_LIST_OWNERS) or type_.name == "Mutation":
            continue
        for name, definition in type_.fields.items():
            is_list = isinstance(get_nullable_type(definition.type), GraphQLList)
            item = get_named_type(definition.type)
            is_object = isinstance(item, GraphQLObjectType | GraphQLInterfaceType)
            if is_list and is_object and (type_.name, name) not in LIST_BOUNDS:
                missing.append(f"{type_.name}.{name}")
    return missing
