"""Load everything the manifest lists, in one transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from seeds.load import LoadResult, import_profile_text
from seeds.manifest import Manifest, read_manifest
from seeds.profile_text import decode_profile


async def seed_database(
    sessions: async_sessionmaker[AsyncSession], manifest: Manifest | None = None
) -> list[LoadResult]:
    """Load every profile of the manifest; all of them land or none does."""
    manifest = manifest or read_manifest()
    results = []
    async with sessions() as session, session.begin():
        for item in manifest.profiles:
            text = decode_profile(item.path.read_bytes())
            result = await import_profile_text(
                session,
                text,
                undated_year=item.captured_year,
                source=item.source,
                institution_names=manifest.institution_names,
            )
            results.append(result)
    return results
