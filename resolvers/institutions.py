"""What the institution fields do."""

from __future__ import annotations

from db.queries import institutions
from db.reads import ALL_INSTITUTIONS, note_found
from db.tables import AnyRow
from resolvers.context import Context
from resolvers.errors import InvalidArgumentError
from resolvers.nodes import decode_id_of


async def find_institution(context: Context, *, id: str | None, slug: str | None) -> AnyRow | None:
    """The institution named by exactly one of id and slug; None when there is none."""
    if (id is None) == (slug is None):
        raise InvalidArgumentError("Give exactly one of id and slug.")
    if id is not None:
        return await context.loaders.institutions_by_id.load(decode_id_of(id, "Institution"))
    found = await context.read(lambda c: institutions.institution_by_slug(c, (slug or "").strip()))
    return note_found("Institution", found, ALL_INSTITUTIONS)
