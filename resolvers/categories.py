"""What the category fields do."""

from __future__ import annotations

from db.queries import metrics
from db.tables import AnyRow
from resolvers.context import Context


async def all_categories(context: Context) -> list[AnyRow]:
    """The whole taxonomy, by code."""
    return await context.read(metrics.all_categories)
