"""The one keyset connection, used by every list that pages (Relay's cursor connections)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Generic, TypeVar

import strawberry

from db.tables import AnyRow
from resolvers.pages import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageArgs, PageResult

NodeType = TypeVar("NodeType")

First = Annotated[
    int | None,
    strawberry.argument(
        description=f"Page forwards: this many items (default {DEFAULT_PAGE_SIZE}, "
        f"at most {MAX_PAGE_SIZE})."
    ),
]
After = Annotated[
    str | None, strawberry.argument(description="Start after the item with this cursor.")
]
Last = Annotated[
    int | None,
    strawberry.argument(
        description=f"Page backwards: this many items before `before` or the end "
        f"(at most {MAX_PAGE_SIZE})."
    ),
]
Before = Annotated[
    str | None, strawberry.argument(description="End before the item with this cursor.")
]


def page_args(
    first: int | None, after: str | None, last: int | None, before: str | None
) -> PageArgs:
    return PageArgs(first=first, after=after, last=last, before=before)


@strawberry.type(
    description="Where a page sits in its list, for fetching the next or previous page."
)
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page.")
    has_previous_page: bool = strawberry.field(description="Items come before this page.")
    start_cursor: str | None = strawberry.field(
        description="Cursor of the first item of this page; null when the page is empty."
    )
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last item; pass it as `after` for the next page."
    )


@strawberry.type(description="An item of a page with the cursor that marks its place.")
class Edge(Generic[NodeType]):
    cursor: str = strawberry.field(description="Opaque place of this item in the list.")
    node: NodeType = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list: the items with their cursors, and the list's size.")
class Connection(Generic[NodeType]):
    page_info: PageInfo = strawberry.field(description="How to fetch the pages around this one.")
    edges: list[Edge[NodeType]] = strawberry.field(description="The items with their cursors.")
    count_all: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Items in the whole list, across all pages.")
    async def total_count(self) -> int:
        return await self.count_all()

    @strawberry.field(description="The items alone, when cursors are not needed.")
    def nodes(self) -> list[NodeType]:
        return [edge.node for edge in self.edges]


def page_info(result: PageResult) -> PageInfo:
    page, cursors = result.page, result.cursors
    return PageInfo(
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )


def connection(result: PageResult, wrap: Callable[[AnyRow], NodeType]) -> Connection[NodeType]:
    """The connection for a page of rows, each row wrapped into its GraphQL type."""
    edges = [
        Edge(cursor=cursor, node=wrap(row))
        for cursor, row in zip(result.cursors, result.page.rows, strict=True)
    ]
    return Connection(page_info=page_info(result), edges=edges, count_all=result.count_all)
