"""What the category fields do."""

from __future__ import annotations

from db.queries import metrics
from db.reads import ALL_CATEGORIES, note_list
from db.tables import AnyRow
from resolvers.context import Context


async def all_categories(context: Context) -> list[AnyRow]:
    """The whole taxonomy, by code."""
    note_list(ALL_CATEGORIES)
    return await context.read(metrics.all_categories)
