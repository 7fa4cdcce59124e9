"""graphql-core's executor, made to share the process and to stop when time is up.

An asyncio timeout acts only when the event loop gets control back; a request
completing a long list of objects that are all in memory never gives it back,
and meanwhile every other request (and /health) waits. This executor

- checks the request's deadline (resolvers.deadline) before each field, so no
  request outlives its time limit by more than one field's work;
- completes a long list a few items at a time, handing the event loop back
  between them, so other requests are served while a large answer is built.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from graphql import (
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLUnionType,
    get_named_type,
)
from graphql.execution.incremental.incremental_executor import IncrementalExecutor
from graphql.pyutils import Path

from resolvers.deadline import DeadlineExceededError, current_deadline

# Objects completed before the event loop gets control back; lists of scalars never wait.
ITEMS_BETWEEN_YIELDS = 25
_HAS_FIELDS = (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)


class DeadlineExecutor(IncrementalExecutor):
    """Refuses to start a field once the request's deadline has passed."""

    def __init__(self, *args: Any, operation_extensions: Any = None, **kwargs: Any) -> None:
        # Strawberry hands every executor class the request's extensions; ours has no use for them.
        del operation_extensions
        super().__init__(*args, **kwargs)
        self.deadline = current_deadline()

    def execute_field(self, *args: Any, **kwargs: Any) -> Any:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise DeadlineExceededError
        return super().execute_field(*args, **kwargs)

    def complete_iterable_value(
        self,
        item_type: GraphQLOutputType,
        field_details_list: Any,
        info: GraphQLResolveInfo[Any],
        path: Path,
        items: Iterable[Any],
        position_context: Any,
    ) -> Any:
        listed = items if isinstance(items, Sequence) else list(items)
        if len(listed) <= ITEMS_BETWEEN_YIELDS or not isinstance(
            get_named_type(item_type), _HAS_FIELDS
        ):
            return super().complete_iterable_value(
                item_type, field_details_list, info, path, listed, position_context
            )
        paced = _paced(listed).__aiter__()
        return self.complete_async_iterator_value(
            item_type, field_details_list, info, path, paced, position_context
        )


async def _paced(items: Sequence[Any]) -> AsyncIterator[Any]:
    """The items, handing the event loop back after every ITEMS_BETWEEN_YIELDS of them."""
    for index, item in enumerate(items):
        if index and index % ITEMS_BETWEEN_YIELDS == 0:
            await asyncio.sleep(0)
        yield item
