"""The Date scalar: a calendar day as ISO 8601 text (2024-02-29).

Strawberry's own Date refuses a day the calendar lacks (2024-02-30) while
variables are coerced, so the request fails as a whole with no field path,
unlike every other problem with a mutation's input. This one lets such a
day through as an ImpossibleDate: a mutation reports it in userErrors with
its field's path, and a read refuses it (schema.inputs). Anything that is
not a YYYY-MM-DD date at all is still refused here.
"""

from __future__ import annotations

import re
from datetime import date

import strawberry
from strawberry.exceptions import StrawberryInputCoercionError

from resolvers.errors import InvalidArgumentError
from resolvers.mutations.validation import ImpossibleDate

_DAY_SHAPED = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(value: object) -> date | ImpossibleDate:
    if not isinstance(value, str):
        raise StrawberryInputCoercionError(
            f'Value cannot represent a Date: "{value}". Expected a string.'
        )
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        if _DAY_SHAPED.fullmatch(value):
            return ImpossibleDate(value)
        raise StrawberryInputCoercionError(
            f'Value cannot represent a Date: "{value}". {error}'
        ) from None


def serialize_date(value: date) -> str:
    return value.isoformat()


Date = strawberry.scalar(
    name="Date",
    description="Date (isoformat)",
    serialize=serialize_date,
    parse_value=parse_date,
)


def readable_date(value: date | ImpossibleDate | None, argument: str) -> date | None:
    """A date a read was given; an impossible one is refused as a bad argument."""
    if isinstance(value, ImpossibleDate):
        raise InvalidArgumentError(f"{argument}: {value.text!r} is not a date: {value.reason()}.")
    return value
