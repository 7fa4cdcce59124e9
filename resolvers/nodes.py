"""Global IDs: opaque, type-tagged handles that `node` can fetch again.

An ID is URL-safe base64 of "Type:id". Clients must not take it apart; we
keep the freedom to change the database key behind it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Sequence

from db.tables import AnyRow
from resolvers.context import Context
from resolvers.errors import InvalidArgumentError

NODE_TYPES = ("Researcher", "Paper", "Institution")
# The keys are 32-bit INTEGER columns: a larger number names no row, and PostgreSQL refuses it.
MAX_DB_ID = 2**31 - 1
# IDs one `nodes` call may name, as GitHub allows: more is one page too many.
MAX_NODE_IDS = 100


def encode_global_id(type_name: str, db_id: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{db_id}".encode()).decode().rstrip("=")


def decode_global_id(global_id: str) -> tuple[str, int]:
    """(type name, database id); InvalidArgumentError when the text is not one of our IDs."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, raw_id = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        db_id = int(raw_id)
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise InvalidArgumentError(f"Not a valid ID: {global_id!r}.") from error
    if type_name not in NODE_TYPES or not 0 < db_id <= MAX_DB_ID:
        raise InvalidArgumentError(f"Not a valid ID: {global_id!r}.")
    return type_name, db_id


def decode_id_of(global_id: str, type_name: str) -> int:
    """The database id of an ID that must name a `type_name`."""
    found_type, db_id = decode_global_id(global_id)
    if found_type != type_name:
        raise InvalidArgumentError(f"ID {global_id!r} is a {found_type}, not a {type_name}.")
    return db_id


def checked_node_ids(global_ids: Sequence[str]) -> Sequence[str]:
    """The IDs of one `nodes` call; InvalidArgumentError past MAX_NODE_IDS."""
    if len(global_ids) > MAX_NODE_IDS:
        raise InvalidArgumentError(
            f"nodes takes at most {MAX_NODE_IDS} IDs at a time; got {len(global_ids)}."
        )
    return global_ids


async def load_node(context: Context, global_id: str) -> tuple[str, AnyRow] | None:
    """The row a global ID names, with its type; None when it no longer exists."""
    [found] = await load_nodes(context, [global_id])
    return found


async def load_nodes(
    context: Context, global_ids: Sequence[str]
) -> list[tuple[str, AnyRow] | None]:
    """The rows these IDs name, in order, one statement per type; None where gone."""
    decoded = [decode_global_id(global_id) for global_id in checked_node_ids(global_ids)]
    loaders = {
        "Researcher": context.loaders.researchers_by_id,
        "Paper": context.loaders.papers_by_id,
        "Institution": context.loaders.institutions_by_id,
    }
    rows = await asyncio.gather(*(loaders[type_name].load(db_id) for type_name, db_id in decoded))
    return [
        None if row is None else (type_name, row)
        for (type_name, _), row in zip(decoded, rows, strict=True)
    ]
