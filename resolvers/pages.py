"""Connection arguments: validating first/after/last/before and the cursor codec.

A cursor is the sort key of a row plus the name of the ordering it belongs
to, as URL-safe base64 of JSON: opaque to clients, checked when it comes
back, and cheap to turn into a `WHERE (keys) > (cursor)` (see db.queries.pages).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from db.queries.pages import Ordering, Page, PageRequest
from resolvers.errors import InvalidArgumentError

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# A refused cursor is quoted up to this many characters: a long one is not echoed whole.
CURSOR_SHOWN = 40


@dataclass(frozen=True, slots=True)
class PageArgs:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


class PageResult:
    """One page of a connection, with the cursor of each row and a way to count them all.

    The cursors are encoded when first asked for: a page shown without them (a
    leaderboard, a profile's `nodes`) costs no JSON and base64 per row.
    """

    __slots__ = ("_cursors", "count_all", "ordering", "page")

    def __init__(
        self, page: Page, ordering: Ordering, count_all: Callable[[], Awaitable[int]]
    ) -> None:
        self.page = page
        self.ordering = ordering
        self.count_all = count_all
        self._cursors: list[str] | None = None

    @property
    def cursors(self) -> list[str]:
        if self._cursors is None:
            self._cursors = [encode_cursor(self.ordering, key) for key in self.page.keys]
        return self._cursors


def page_request(args: PageArgs, ordering: Ordering) -> PageRequest:
    """The page the arguments ask for; InvalidArgumentError when they cannot be served."""
    if (args.last is not None or args.before is not None) and (
        args.first is not None or args.after is not None
    ):
        raise InvalidArgumentError("Use first/after to page forwards or last/before, not both.")
    backwards = args.last is not None or args.before is not None
    size = _checked_size("last" if backwards else "first", args.last if backwards else args.first)
    cursor = args.before if backwards else args.after
    after = decode_cursor(cursor, ordering) if cursor is not None else None
    return PageRequest(size=size, after=after, backwards=backwards)


def _checked_size(name: str, size: int | None) -> int:
    if size is None:
        return DEFAULT_PAGE_SIZE
    if not 0 <= size <= MAX_PAGE_SIZE:
        raise InvalidArgumentError(f"{name} must be between 0 and {MAX_PAGE_SIZE}; got {size}.")
    return size


def encode_cursor(ordering: Ordering, key: tuple[Any, ...]) -> str:
    values = [value.isoformat() if isinstance(value, date) else value for value in key]
    raw = json.dumps([ordering.name, *values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, ordering: Ordering) -> tuple[Any, ...]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        name, *values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if name != ordering.name:
            raise InvalidArgumentError(
                "This cursor belongs to another ordering; page again from the start."
            )
        return ordering.parse(values)
    # RecursionError: JSON nested deeper than the parser goes, which no cursor of ours is.
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, RecursionError) as error:
        raise InvalidArgumentError(f"Not a valid cursor: {_shown(cursor)}.") from error


def _shown(cursor: str) -> str:
    """The cursor as an error may quote it: the start of a long one, and its length."""
    if len(cursor) <= CURSOR_SHOWN:
        return repr(cursor)
    return f"{cursor[:CURSOR_SHOWN]!r}… ({len(cursor):,} characters)"


def page_result(
    page: Page, ordering: Ordering, count_all: Callable[[], Awaitable[int]]
) -> PageResult:
    return PageResult(page, ordering, count_all)
