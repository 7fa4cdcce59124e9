"""Text a request may carry: no NUL character (U+0000), in the document or its variables.

PostgreSQL's text cannot hold NUL, so a slug or title containing one would fail
inside the database on one backend and be stored on the other. The request is
refused before anything runs instead, the same way on both.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import BREAK, DocumentNode, StringValueNode, Visitor, visit
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from resolvers.errors import InvalidArgumentError

NUL = "\x00"


class RefuseNulCharacters(SchemaExtension):
    """Answers a request error, executing nothing, when any input text holds a NUL."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        message = _nul_in_document(context.query, context.graphql_document) or _nul_in_variables(
            context.variables or {}
        )
        if message:
            context.result = ExecutionResult(data=None, errors=[InvalidArgumentError(message)])
        yield


class _NulFinder(Visitor):
    found = False

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> Any:
        if NUL in node.value:
            self.found = True
            return BREAK
        return None


def _nul_in_document(query: str | None, document: DocumentNode | None) -> str | None:
    # The lexer refuses a raw NUL, so only an escape (\u0000, \u{0}) can make one: most
    # documents have no \u at all and need no walk.
    finder = _NulFinder()
    if document is not None and (query is None or "\\u" in query):
        visit(document, finder)
    return "Text may not contain the NUL character (U+0000)." if finder.found else None


def _nul_in_variables(variables: dict[str, Any]) -> str | None:
    for name, value in variables.items():
        if _holds_nul(value):
            return f"Variable ${name}: text may not contain the NUL character (U+0000)."
    return None


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_holds_nul(item) for item in value.values())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False
