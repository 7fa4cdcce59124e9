"""The Node interface: anything with a global ID that `node` can fetch again."""

from __future__ import annotations

import strawberry


@strawberry.interface(
    description="An object with a globally unique, opaque ID that `node` can fetch again."
)
class Node:
    id: strawberry.ID = strawberry.field(description="Globally unique, opaque ID.")
