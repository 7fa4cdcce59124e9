"""graphql-core's executor, made to stop when the request's time is up.

An asyncio timeout acts only when the event loop gets control back; a request
completing a long list of objects that are all in memory never gives it back.
This executor checks the request's deadline (resolvers.deadline) before each
field, so no request outlives its time limit by more than one field's work.
Other requests stay answered meanwhile because GraphQL runs on an event loop
of its own (api.execution).
"""

from __future__ import annotations

import time
from typing import Any

from graphql.execution.incremental.incremental_executor import IncrementalExecutor

from resolvers.deadline import DeadlineExceededError, current_deadline


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
