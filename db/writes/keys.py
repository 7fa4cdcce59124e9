"""The natural keys writers find or create rows by, and the order their locks are taken in.

Every writer that looks a row up by one of these keys and inserts it when
absent holds the key's advisory lock (db.writes.locks) from before the lookup
until its commit: the mutations, the profile loader and the bulk importer
alike, under these namespaces. A writer holding keys of several namespaces
takes them namespace by namespace in alphabetical order, all before any row
lock, so that two writers can never each hold what the other waits for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy.ext.asyncio import AsyncConnection

from db.writes.locks import hold_keys

INSTITUTION_SLUG = "institution-slug"
PAPER_ARXIV = "paper-arxiv"
PAPER_DOI = "paper-doi"
PAPER_TITLE = "paper-title"  # "<year>:<title key>", the last key papers match on
RESEARCHER_NAME = "researcher-name"
RESEARCHER_OPENALEX = "researcher-openalex"
RESEARCHER_ORCID = "researcher-orcid"
RESEARCHER_S2 = "researcher-s2"
# The base of a new researcher's slug, picked by looking at the taken ones. It sorts
# last; createPaper takes it after its row locks, which is safe because the writers that
# take conflicting row locks (merges, updates) never hold it.
RESEARCHER_SLUG = "researcher-slug"


async def hold_natural_keys(
    connection: AsyncConnection, keys: Mapping[str, Iterable[str | None]]
) -> None:
    """Hold the locks of these keys by namespace (None values skipped), in the one order."""
    for namespace in sorted(keys):
        present = [key for key in keys[namespace] if key]
        await hold_keys(connection, namespace, present)


def title_lock_key(title_key: str, year: int | None) -> str:
    """The PAPER_TITLE key of a paper with this title key and year."""
    return f"{year or ''}:{title_key}"
