"""The Node interface: anything with a global ID that `node` can fetch again."""

from __future__ import annotations

import strawberry

from resolvers.nodes import encode_global_id


@strawberry.interface(
    description="An object with a globally unique, opaque ID that `node` can fetch again."
)
class Node:
    db_id: strawberry.Private[int]

    @strawberry.field(description="Globally unique, opaque ID.")
    def id(self) -> strawberry.ID:
        # Encoded when asked for, not for every row: a page of bylines asks for none.
        type_name = type(self).__strawberry_definition__.name  # type: ignore[attr-defined]
        return strawberry.ID(encode_global_id(type_name, self.db_id))
