"""One batch of bibliographic records, matched and written in a few statements.

A batch takes its locks (PostgreSQL), reads every row it may match in one
statement per table, decides in memory, and writes with multi-row inserts
and executemany updates: the statements a batch costs do not grow with it.

Matching never merges what the sources keep apart:
- a work joins a stored paper holding one of its ids (OpenAlex, Semantic
  Scholar, arXiv, DOI, tried in that order), else one with its normalised
  title and the same year or one off (a preprint and its publication); never
  a paper holding a different id of a kind the work has. Two records with
  different DOIs are two works however alike their titles; the seed's
  papers have no ids, so a source's record of them fills them in. An id
  another paper holds already stays with that paper.
- an author with an id joins the researcher holding it (OpenAlex, Semantic
  Scholar, then ORCID), else one with their name key (or alias), oldest
  first; never a researcher holding a different id of the same kind.
  Authors without any id stay on the byline as printed (seeds.bylines).
- an institution joins by OpenAlex id, then ROR, then normalised name (or
  the seed's slug for that name, `mit` for Massachusetts Institute of
  Technology), with the same rule about conflicting ids.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from functools import lru_cache
from typing import Any

from slugify import slugify
from sqlalchemy import Table, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import NAME_MAX_LENGTH, TITLE_MAX_LENGTH
from db.names import make_slug, name_key, title_key
from db.queries.papers import EARLIEST
from db.tables import (
    authorship,
    authorship_institution,
    citation_year,
    institution,
    paper,
    paper_institution,
    reported_metrics,
    researcher,
    researcher_alias,
    researcher_institution,
    unlinked_author,
)
from db.writes import bulk, references
from db.writes.locks import hold_all_keys
from seeds.bylines import split_byline
from seeds.manifest import read_manifest
from seeds.records import AuthorRecord, AuthorRef, InstitutionRef, Reported, WorkRecord

PAPER_IDS = ("openalex_id", "semantic_scholar_id", "arxiv_id", "doi")
PERSON_IDS = ("openalex_id", "semantic_scholar_id", "orcid")
PLACE_IDS = ("openalex_id", "ror")
LOCK_NAMESPACES = {
    "paper": {
        "openalex_id": "paper-openalex",
        "semantic_scholar_id": "paper-s2",
        "arxiv_id": "paper-arxiv",
        "doi": "paper-doi",
    },
    "person": {
        "openalex_id": "researcher-openalex",
        "semantic_scholar_id": "researcher-s2",
        "orcid": "researcher-orcid",
    },
    "place": {"openalex_id": "institution-openalex", "ror": "institution-ror"},
}

# A work's title key, whatever its year: held by the import alone (db.writes.keys has the
# mutations' keys), so that its transactions running at once (importer) queue on a paper
# one of them may match by title while another creates it.
TITLE_LOCK = "paper-title-key"
# Records an import decides (apply, importer._transaction_at) between two turns of the event
# loop: with two transactions at once on PostgreSQL, a batch deciding its 833 records in one
# go (8-10 ms) kept the other's next statement from the server, which sat idle meanwhile.
TURN_EVERY = 64

Record = WorkRecord | AuthorRecord


class Outcome(Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def fast_title_key(title: str) -> str:
    """db.names.title_key, twenty times faster on ASCII titles (most of any source).

    For ASCII text without "&" (no HTML entity to decode) slugify comes down to:
    lower-case, drop the commas inside numbers (1,000), and make each run of
    anything but letters and digits one separator, none at the ends. A
    property test holds it equal to title_key on ASCII text.
    """
    if title.isascii():
        if "&" not in title:
            lowered = title.lower()
            if "," in lowered:
                lowered = _NUMBER_COMMA.sub("", lowered)
            return _NOT_ALNUM.sub(" ", lowered).strip()
        return slugify(title, separator=" ", lowercase=True, allow_unicode=True)
    return title_key(title)


_NUMBER_COMMA = re.compile(r"(?<=\d),(?=\d)")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=16_384)
def cached_title_key(title: str) -> str:
    """fast_title_key, remembered: on PostgreSQL a work's key is taken for its lock
    (lock_keys), then for its matching (_Batch) a few thousand works later: 3.5 us each
    time, 0.3 us the second."""
    return fast_title_key(title)


@lru_cache(maxsize=262_144)
def cached_name_key(name: str) -> str:
    # Names repeat across a file (every coauthor on every work): normalise each once.
    return name_key(name)


@lru_cache(maxsize=1)
def manifest_slugs() -> dict[str, str]:
    """The seed's institution slugs by the name key of their display name (mit, ...)."""
    names = read_manifest().institution_names
    return {name_key(name): slug for slug, name in names.items()}


def lock_keys(record: Record, stored: StoredPeople | None = None) -> set[tuple[str, str]]:
    """The advisory-lock keys writing this record takes, as (namespace, key) pairs.

    Pairs in one set, not sets by namespace: an import cuts each batch into
    transactions by counting the keys each record adds (importer._transaction_at),
    and a difference of flat sets is a third of the cost. A work's author whom
    `stored` settles takes no researcher key: the batch neither creates nor
    changes that researcher (StoredPeople).
    """
    keys: set[tuple[str, str]] = set()
    for work in _works_of(record):
        for kind, namespace in _PAPER_LOCKS:
            if value := getattr(work, kind):
                keys.add((namespace, value))
        if title := cached_title_key(work.title):
            keys.add((TITLE_LOCK, title[:TITLE_MAX_LENGTH]))
        for ref in work.authors:
            if stored is not None and stored.settled(ref) is not None:
                for place in ref.institutions:
                    _place_keys(place, keys)
            else:
                _person_keys(ref, keys)
    if isinstance(record, AuthorRecord):
        _person_keys(_ref_of(record), keys)
        for alias in record.aliases:  # a name others match by, once stored
            keys.add(("researcher-name", cached_name_key(alias)[:NAME_MAX_LENGTH]))
        for place in record.institutions:
            _place_keys(place, keys)
    return keys


def keys_by_namespace(pairs: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """(namespace, key) pairs as the keys of each namespace."""
    keys: dict[str, set[str]] = {}
    for namespace, key in pairs:
        keys.setdefault(namespace, set()).add(key)
    return keys


_PAPER_LOCKS = tuple(LOCK_NAMESPACES["paper"].items())
_PLACE_LOCKS = tuple(LOCK_NAMESPACES["place"].items())
_OPENALEX_LOCK, _S2_LOCK, _ORCID_LOCK = (LOCK_NAMESPACES["person"][kind] for kind in PERSON_IDS)


def _person_keys(ref: AuthorRef, keys: set[tuple[str, str]]) -> None:
    # The kinds written out, not looped over: this runs for every author of every work.
    held = False
    if ref.openalex_id:
        keys.add((_OPENALEX_LOCK, ref.openalex_id))
        held = True
    if ref.semantic_scholar_id:
        keys.add((_S2_LOCK, ref.semantic_scholar_id))
        held = True
    if ref.orcid:
        keys.add((_ORCID_LOCK, ref.orcid))
        held = True
    if not held:
        return  # an author without ids is never matched nor created by a key
    keys.add(("researcher-name", cached_name_key(ref.name)))
    for place in ref.institutions:
        _place_keys(place, keys)


def _place_keys(ref: InstitutionRef, keys: set[tuple[str, str]]) -> None:
    for kind, namespace in _PLACE_LOCKS:
        if value := getattr(ref, kind):
            keys.add((namespace, value))
    for slug in _slugs_for(ref.name):
        keys.add(("institution-slug", slug))


class StoredPeople:
    """The stored researchers holding the ids of a batch's authors, read before its locks.

    An author whose every id is held by one stored researcher (of each kind
    the author has, the researcher holds the same one) is that researcher,
    whatever other writers do meanwhile: the ids are theirs (unique), and the
    batch adds none to them. Such a settled author needs no lock: the batch
    will not create a researcher for them nor change one. Only the others'
    keys are held, and only their researchers are read again under the locks.
    At 100,000 generated works nearly every author is settled after the first
    batches: their keys were 7 of a work's 9 locks, and cut each batch of 4,000
    into ten transactions.
    """

    __slots__ = ("by_openalex", "by_orcid", "by_s2")

    def __init__(self, rows: Iterable[Any] = ()) -> None:
        # Each kind apart, not (kind, value) pairs: this is asked twice for every author
        # of every work, and a tuple made for each look-up was half its cost.
        self.by_openalex: dict[str, Any] = {}
        self.by_s2: dict[str, Any] = {}
        self.by_orcid: dict[str, Any] = {}
        for row in rows:
            if row[2] is not None:
                self.by_openalex[row[2]] = row
            if row[3] is not None:
                self.by_s2[row[3]] = row
            if row[4] is not None:
                self.by_orcid[row[4]] = row

    def settled(self, ref: AuthorRef) -> Any:
        """The stored researcher holding every id the author has; None when none does."""
        openalex_id, s2_id, orcid = ref.openalex_id, ref.semantic_scholar_id, ref.orcid
        if openalex_id is not None:
            row = self.by_openalex.get(openalex_id)
        elif s2_id is not None:
            row = self.by_s2.get(s2_id)
        else:
            row = self.by_orcid.get(orcid) if orcid is not None else None
        if (
            row is None
            or (openalex_id is not None and openalex_id != row[2])
            or (s2_id is not None and s2_id != row[3])
            or (orcid is not None and orcid != row[4])
        ):
            return None
        return row


async def stored_people(connection: AsyncConnection, records: Sequence[Record]) -> StoredPeople:
    """The stored researchers holding an id of an author of the records' works, read at once."""
    refs = [ref for record in records for work in _works_of(record) for ref in work.authors]
    if not any(ref.has_id for ref in refs):
        return StoredPeople()
    rows, _ = await bulk.researchers_matching(
        connection, **{f"{kind}s": _ids(refs, kind) for kind in PERSON_IDS}, name_keys=()
    )
    return StoredPeople(rows)


@dataclass(slots=True, eq=False)
class _Person:
    id: int | None
    name: str
    name_key: str
    openalex_id: str | None = None
    semantic_scholar_id: str | None = None
    orcid: str | None = None
    homepage: str | None = None
    new: bool = False
    changed: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class _Place:
    id: int | None
    name: str
    slug: str
    name_key: str | None
    openalex_id: str | None = None
    ror: str | None = None
    new: bool = False
    changed: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class _Byline:
    """One authorship: stored (with its id) or to be written."""

    person: _Person
    position: int | None
    display_name: str
    id: int | None = None
    changed: bool = False
    # Empty and shared until there is something to hold (most bylines have no institution):
    # a set and a list per byline were a kilobyte a work of a batch's memory.
    stored_places: AbstractSet[int] = frozenset()
    new_places: tuple[_Place, ...] = ()


@dataclass(slots=True, eq=False)
class _Paper:
    id: int | None
    values: dict[str, Any]
    new: bool = False
    changed: dict[str, Any] = field(default_factory=dict)
    counts: tuple[tuple[int, int], ...] = ()
    counts_changed: bool = False
    bylines: dict[_Person, _Byline] = field(default_factory=dict)
    stored_authors: AbstractSet[int] = frozenset()
    unlinked: tuple[tuple[int, str], ...] = ()
    unlinked_changed: bool = False
    stored_places: AbstractSet[int] = frozenset()
    new_places: tuple[_Place, ...] = ()

    def get(self, kind: str) -> Any:
        return self.values.get(kind)


@dataclass(slots=True)
class Order:
    """Where a transaction of an import stands among those running at once (importer).

    Each takes its locks once the one begun before it holds its own
    (`before_locked`): wherever they would write the same keys, the later
    waits for the earlier to commit, and sees what it wrote, as if they ran
    one after the other. A researcher's slug is picked among those not
    taken, which no key covers: a transaction that creates researchers picks
    their slugs once the one before it has ended (`before_ended`).
    """

    before_locked: asyncio.Event
    before_ended: asyncio.Event
    locked: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(slots=True)
class BatchResult:
    outcomes: list[Outcome] = field(default_factory=list)
    # Researchers whose papers or counts changed: their leaderboard figures are stale.
    touched: set[int] = field(default_factory=set)


async def write_batch(
    connection: AsyncConnection,
    records: Sequence[Record],
    keys: dict[str, set[str]] | None = None,
    slug_hints: dict[str, dict[str, int]] | None = None,
    inserting: Callable[[bool], None] | None = None,
    stored: StoredPeople | None = None,
    order: Order | None = None,
) -> BatchResult:
    """Match and write the records in the caller's transaction; one outcome per record.

    `keys` are the records' lock keys (lock_keys) when the caller has them already,
    taken with `stored`, the researchers read before them (stored_people);
    `slug_hints` the taken slug suffixes an import has seen, by table (bulk.free_slugs);
    `order` places the transaction among those of an import running at once (Order);
    `inserting` is told when the batch turns to inserting its rows (True), the
    statements that keep the database busy longest, and when it begins (False).
    """
    if inserting is not None:
        inserting(False)
    batch = _Batch(connection, records)
    batch.slug_hints = {} if slug_hints is None else slug_hints
    batch.stored = stored
    batch.order = order
    await _checkpoint_less_often(connection)
    await bulk.begin_writing(connection)
    async with references.checked_at_commit(connection):
        await batch.lock(keys)
        await batch.prefetch()
        outcomes = []
        for index, record in enumerate(records, 1):
            outcomes.append(batch.apply(record))
            if order is not None and index % TURN_EVERY == 0:
                await asyncio.sleep(0)  # the transaction running beside this one goes on (Order)
        if inserting is not None:
            inserting(True)
        return BatchResult(outcomes, await batch.write())


# SQLite copies the write-ahead log back into the database (a checkpoint, ending with an
# fsync) when a commit leaves it longer than wal_autocheckpoint pages, 1,000 by default: a
# batch of 2,000 works writes more, so every batch paid a checkpoint, and the pages every
# batch touches (the right edges of the tables, the researcher-keyed index pages) were
# copied every time. With 10,000 pages (40 MB of log) a checkpoint comes every few
# batches and copies each page once: 20,000 works, 12,400-13,300 -> 13,800-14,000
# works/s (50,000 pages: 13,900-14,200). The import checkpoints once more at its end
# (importer), so that the next writer does not pay for a long log. Set once per
# connection, like db.writes.bulk's page cache, where it belongs.
_IMPORT_CHECKPOINT = "PRAGMA wal_autocheckpoint = 10000"


async def _checkpoint_less_often(connection: AsyncConnection) -> None:
    if connection.dialect.name == "sqlite" and not connection.info.get("import_checkpoint"):
        await connection.exec_driver_sql(_IMPORT_CHECKPOINT)
        connection.info["import_checkpoint"] = True


async def checkpoint(connection: AsyncConnection) -> None:
    """SQLite: copy the write-ahead log back into the database now (outside a transaction)."""
    if connection.dialect.name == "sqlite":
        await connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")


@dataclass(slots=True, eq=False)
class _Prepared:
    work: WorkRecord
    title_key: str
    identified: list[AuthorRef]
    unlinked: list[AuthorRef]


class _Batch:
    def __init__(self, connection: AsyncConnection, records: Sequence[Record]) -> None:
        self.connection = connection
        self.records = records
        self.prepared: dict[int, _Prepared] = {}
        for record in records:
            for work in _works_of(record):
                identified, unlinked = split_byline(work.authors)
                self.prepared[id(work)] = _Prepared(
                    work, cached_title_key(work.title), identified, unlinked
                )
        self.paper_by_id: dict[tuple[str, str], _Paper] = {}
        self.paper_by_title: dict[str, list[_Paper]] = {}
        self.papers: list[_Paper] = []
        self.person_by_id: dict[tuple[str, str], _Person] = {}
        self.person_by_name: dict[str, list[_Person]] = {}
        self.people: list[_Person] = []
        self.place_by_id: dict[tuple[str, str], _Place] = {}
        self.place_by_key: dict[str, list[_Place]] = {}
        self.place_by_slug: dict[str, _Place] = {}
        self.places: list[_Place] = []
        self.author_records: list[tuple[_Person, AuthorRecord]] = []
        # What author records add, compared with what is stored (prefetched) as they apply.
        self.aliases: dict[int, set[str]] = {}
        self.new_aliases: list[tuple[_Person, str, str]] = []
        self.affiliations: set[tuple[int, int]] = set()
        self.new_affiliations: list[tuple[_Person, _Place]] = []
        self.reported: dict[tuple[int, str], Any] = {}
        self.new_reported: dict[tuple[int, str], tuple[_Person, Reported]] = {}
        self.slug_hints: dict[str, dict[str, int]] = {}
        self.stored: StoredPeople | None = None
        self.order: Order | None = None
        self.now = datetime.now(UTC)

    # Reading

    async def lock(self, keys: dict[str, set[str]] | None) -> None:
        if self.connection.dialect.name != "postgresql":
            return  # SQLite: the batch holds the write lock (bulk.begin_writing)
        if keys is None:
            keys = keys_by_namespace(
                pair for r in self.records for pair in lock_keys(r, self.stored)
            )
        if self.order is not None:
            await self.order.before_locked.wait()
        await hold_all_keys(self.connection, keys)
        if self.order is not None:
            self.order.locked.set()

    async def prefetch(self) -> None:
        works = [p.work for p in self.prepared.values()]
        refs = [ref for p in self.prepared.values() for ref in p.identified]
        refs += [_ref_of(r) for r in self.records if isinstance(r, AuthorRecord)]
        rows = await bulk.papers_matching(
            self.connection,
            **{f"{kind}s": _ids(works, kind) for kind in PAPER_IDS},
            title_keys={p.title_key for p in self.prepared.values() if p.title_key},
        )
        for row in rows:
            self._add_paper(
                _Paper(id=row[0], values=dict(zip(bulk.PAPER_COLUMNS, row, strict=True)))
            )
        await self._prefetch_people(refs)
        place_refs = [place for ref in refs for place in ref.institutions] + [
            place for r in self.records if isinstance(r, AuthorRecord) for place in r.institutions
        ]
        if place_refs:
            rows = await bulk.institutions_matching(
                self.connection,
                openalex_ids={p.openalex_id for p in place_refs if p.openalex_id},
                rors={p.ror for p in place_refs if p.ror},
                name_keys={cached_name_key(p.name) for p in place_refs},
                slugs={slug for p in place_refs for slug in _slugs_for(p.name)},
            )
            for place_id, name, slug, name_key, openalex_id, ror in rows:  # INSTITUTION_COLUMNS
                self._add_place(
                    _Place(
                        id=place_id,
                        name=name,
                        slug=slug,
                        name_key=name_key,
                        openalex_id=openalex_id,
                        ror=ror,
                    )
                )
        await self._prefetch_details()
        await self._prefetch_author_details()

    async def _prefetch_people(self, refs: list[AuthorRef]) -> None:
        """Researchers holding the references' ids; then, for references none of them is,
        researchers by name key (a common name is held by hundreds: those are read only
        when a name must be matched).

        A reference with an OpenAlex id can only be matched by name to a researcher
        without one (any other would hold a different id of its kind), so for its name
        only those are read: at a million generated works every researcher has an id,
        a name a hundred of them, and each batch's new authors read them all, a tenth of
        the import's time (22 s) and a hundred thousand rows in memory at once.
        """
        by_id = await self._people_by_id(refs)
        known: dict[int, _Person] = {}
        for row in by_id:
            known[row[0]] = person = _person_of(row)
            self._add_person(person, ())
        any_held: set[str] = set()  # names some reference without an OpenAlex id needs
        unheld: set[str] = set()  # names only references with one need
        for ref in refs:
            if self._by_id(ref) is None:
                (unheld if ref.openalex_id else any_held).add(cached_name_key(ref.name))
        by_name, aliases = await bulk.researchers_matching(
            self.connection,
            openalex_ids=(),
            semantic_scholar_ids=(),
            orcids=(),
            name_keys=any_held,
        )
        if unheld := unheld - any_held:
            more, more_aliases = await self._researchers_without_openalex_id(unheld)
            # A researcher may hold a name of each kind (one by name, one by alias): once.
            rows = {row[0]: row for row in [*by_name, *more]}
            by_name = [rows[key] for key in sorted(rows)]
            aliases = [*aliases, *more_aliases]
        alias_keys: dict[int, list[str]] = {}
        for researcher_id, alias_key in aliases:
            alias_keys.setdefault(researcher_id, []).append(alias_key)
        for row in by_name:  # oldest first, so the oldest of a name is matched first
            researcher_id, name_key = row[0], row[1]
            keys = [name_key, *alias_keys.get(researcher_id, [])]
            if researcher_id in known:
                for key in dict.fromkeys(keys):
                    self.person_by_name.setdefault(key, []).append(known[researcher_id])
            else:
                known[researcher_id] = person = _person_of(row)
                self._add_person(person, keys)

    async def _people_by_id(self, refs: list[AuthorRef]) -> list[Any]:
        """The researchers holding the ids of the works' references (`refs`) and of the author
        records, by id: read now, but for the settled references (StoredPeople), whose
        researchers were read before the locks. An author record's are always read now: its
        keys are held whatever was stored (lock_keys)."""
        stored = self.stored
        if stored is None:
            rows, _ = await bulk.researchers_matching(
                self.connection,
                **{f"{kind}s": _ids(refs, kind) for kind in PERSON_IDS},
                name_keys=(),
            )
            return list(rows)
        settled: dict[int, Any] = {}
        unsettled = [_ref_of(r) for r in self.records if isinstance(r, AuthorRecord)]
        for ref in refs:  # an author record's own may settle too: its fresh row wins below
            if (row := stored.settled(ref)) is not None:
                settled[row[0]] = row
            else:
                unsettled.append(ref)
        fresh, _ = await bulk.researchers_matching(
            self.connection,
            **{f"{kind}s": _ids(unsettled, kind) for kind in PERSON_IDS},
            name_keys=(),
        )
        by_key = {**settled, **{row[0]: row for row in fresh}}
        return [by_key[key] for key in sorted(by_key)]

    async def _researchers_without_openalex_id(
        self, name_keys: set[str]
    ) -> tuple[Sequence[Any], Sequence[Any]]:
        """Researchers without an OpenAlex id holding one of these name keys (by name or
        alias), by id; and their aliases of those keys."""
        keys = sorted(name_keys)
        held = bulk.values_in(self.connection, researcher_alias.c.alias_key, keys)
        aliases = (
            await self.connection.execute(
                select(researcher_alias.c.researcher_id, researcher_alias.c.alias_key)
                .join(researcher, researcher.c.id == researcher_alias.c.researcher_id)
                .where(held, researcher.c.openalex_id.is_(None))
            )
        ).all()
        named = bulk.values_in(self.connection, researcher.c.name_key, keys)
        if aliases:
            aliased = {row.researcher_id for row in aliases}
            named = or_(named, bulk.values_in(self.connection, researcher.c.id, aliased))
        people = (
            await self.connection.execute(
                select(*_PERSON_COLUMNS)
                .where(named, researcher.c.openalex_id.is_(None))
                .order_by(researcher.c.id)
            )
        ).all()
        return people, aliases

    async def _prefetch_author_details(self) -> None:
        """Aliases, affiliations and reported figures of researchers author records may match."""
        records = [r for r in self.records if isinstance(r, AuthorRecord)]
        if not records:
            return
        ids: set[int] = set()
        for record in records:
            ref = _ref_of(record)
            for kind in PERSON_IDS:
                if (value := getattr(ref, kind)) and (kind, value) in self.person_by_id:
                    ids.add(_int(self.person_by_id[kind, value].id))
            ids.update(_int(p.id) for p in self.person_by_name.get(cached_name_key(ref.name), ()))
        ordered = sorted(ids)
        for row in (
            await self.connection.execute(
                select(researcher_alias.c.researcher_id, researcher_alias.c.alias_key).where(
                    bulk.values_in(self.connection, researcher_alias.c.researcher_id, ordered)
                )
            )
        ).all():
            self.aliases.setdefault(row.researcher_id, set()).add(row.alias_key)
        statement = select(
            researcher_institution.c.researcher_id, researcher_institution.c.institution_id
        ).where(bulk.values_in(self.connection, researcher_institution.c.researcher_id, ordered))
        self.affiliations = {tuple(row) for row in (await self.connection.execute(statement))}
        statement = select(reported_metrics).where(
            bulk.values_in(self.connection, reported_metrics.c.researcher_id, ordered)
        )
        for row in (await self.connection.execute(statement)).all():
            self.reported[row.researcher_id, row.source] = row

    async def _prefetch_details(self) -> None:
        """What hangs off the stored papers the batch matches, to compare against."""
        matched = {id(paper): paper for paper in map(self._match, self.prepared.values()) if paper}
        if not matched:
            return
        by_id = {_int(paper.id): paper for paper in matched.values()}
        details = await bulk.details_of_papers(self.connection, list(by_id))
        wanted_people = {row.researcher_id for row in details.authorships}
        known = {person.id for person in self.people}
        if missing := wanted_people - known:
            # Coauthors other sources put on these papers: known by id only.
            for start in range(0, len(ordered := sorted(missing)), 1000):
                statement = select(
                    researcher.c.id,
                    researcher.c.name_key,
                    researcher.c.openalex_id,
                    researcher.c.semantic_scholar_id,
                    researcher.c.orcid,
                    researcher.c.homepage,
                ).where(
                    bulk.values_in(self.connection, researcher.c.id, ordered[start : start + 1000])
                )
                for row in (await self.connection.execute(statement)).all():
                    self._add_person(_person_of(row), ())
        people = {person.id: person for person in self.people}
        bylines: dict[int, _Byline] = {}
        authors: dict[int, set[int]] = {}
        for row in details.authorships:
            paper = by_id[row.paper_id]
            byline = _Byline(
                person=people[row.researcher_id],
                position=row.position,
                display_name=row.display_name,
                id=row.id,
            )
            paper.bylines[byline.person] = byline
            authors.setdefault(row.paper_id, set()).add(row.researcher_id)
            bylines[row.id] = byline
        for paper_id, ids in authors.items():
            by_id[paper_id].stored_authors = ids
        counts: dict[int, list[tuple[int, int]]] = {}
        for row in details.citation_years:
            counts.setdefault(row.paper_id, []).append((row.year, row[2]))
        for paper_id, pairs in counts.items():
            by_id[paper_id].counts = tuple(pairs)
        unlinked: dict[int, list[tuple[int, str]]] = {}
        for row in details.unlinked:
            unlinked.setdefault(row.paper_id, []).append((row.position, row.display_name))
        for paper_id, names in unlinked.items():
            by_id[paper_id].unlinked = tuple(names)
        places: dict[int, set[int]] = {}
        for row in details.paper_institutions:
            places.setdefault(row.paper_id, set()).add(row.institution_id)
        for paper_id, ids in places.items():
            by_id[paper_id].stored_places = ids
        places = {}
        for row in details.authorship_institutions:
            places.setdefault(row.authorship_id, set()).add(row.institution_id)
        for authorship_id, ids in places.items():
            bylines[authorship_id].stored_places = ids

    # Deciding

    def apply(self, record: Record) -> Outcome:
        if isinstance(record, WorkRecord):
            return self._apply_work(self.prepared[id(record)])
        was_new = [p for p in self.people if p.new]
        person, changed = self._person(_ref_of(record))
        created = person.new and not any(p is person for p in was_new)
        if record.homepage and not person.homepage:
            person.homepage = _text(record.homepage, 2000)
            if not person.new:
                person.changed["homepage"] = person.homepage
            changed = True
        changed |= self._plan_author_details(person, record)
        self.author_records.append((person, record))
        for work in record.works:
            changed |= self._apply_work(self.prepared[id(work)]) is not Outcome.UNCHANGED
        if created:
            return Outcome.CREATED
        return Outcome.UPDATED if changed else Outcome.UNCHANGED

    def _plan_author_details(self, person: _Person, record: AuthorRecord) -> bool:
        """The aliases, affiliations and reported figures the record adds; True when any."""
        changed = False
        known = self.aliases.setdefault(id(person) if person.id is None else person.id, set())
        for alias in record.aliases:
            alias_key = cached_name_key(alias)[:NAME_MAX_LENGTH]
            if alias_key and alias_key != person.name_key and alias_key not in known:
                known.add(alias_key)
                self.new_aliases.append((person, _text(alias, NAME_MAX_LENGTH), alias_key))
                changed = True
        for place_ref in record.institutions:
            place = self._place(place_ref)
            stored = (
                person.id is not None
                and place.id is not None
                and (person.id, place.id) in self.affiliations
            )
            planned = any(p is person and q is place for p, q in self.new_affiliations)
            if not stored and not planned:
                self.new_affiliations.append((person, place))
                changed = True
        if record.reported is not None:
            key = (id(person) if person.id is None else person.id, record.reported.source)
            row = self.reported.get(key)
            planned_figures = self.new_reported.get(key)
            before = (
                _figures(planned_figures[1])
                if planned_figures
                else {name: getattr(row, name) for name in _figures(record.reported)}
                if row is not None
                else None
            )
            if before != _figures(record.reported) or (
                record.reported.captured_on is not None
                and row is not None
                and planned_figures is None
                and row.captured_on != record.reported.captured_on
            ):
                self.new_reported[key] = (person, record.reported)
                changed = True
        return changed

    def _apply_work(self, prepared: _Prepared) -> Outcome:
        work = prepared.work
        paper = self._match(prepared)
        created = paper is None
        if paper is None:
            paper = self._new_paper(prepared)
            changed = True
        else:
            changed = self._fill(paper, work)
        if work.counts_by_year and work.counts_by_year != paper.counts:
            paper.counts = work.counts_by_year
            paper.counts_changed = changed = True
        for ref in prepared.identified:
            changed |= self._place_author(paper, ref)
        if not prepared.unlinked:
            return Outcome.CREATED if created else _outcome(changed)
        unlinked = tuple(
            (ref.position, _text(ref.printed_name, NAME_MAX_LENGTH))
            for ref in prepared.unlinked
            if ref.position is not None
        )
        taken = {b.position for b in paper.bylines.values()}
        unlinked = tuple((pos, name) for pos, name in unlinked if pos not in taken)
        if unlinked and unlinked != paper.unlinked:
            paper.unlinked = unlinked
            paper.unlinked_changed = changed = True
        return Outcome.CREATED if created else _outcome(changed)

    def _match(self, prepared: _Prepared) -> _Paper | None:
        work = prepared.work
        for kind in PAPER_IDS:
            value = getattr(work, kind)
            paper = self.paper_by_id.get((kind, value)) if value else None
            if paper is not None and not _paper_conflicts(paper, work):
                return paper
        titled = self.paper_by_title.get(prepared.title_key)
        if not titled:
            return None
        candidates = [
            paper
            for paper in titled
            if _near_year(paper.get("year"), work.year) and not _paper_conflicts(paper, work)
        ]
        # The same year first, then the oldest paper.
        candidates.sort(key=lambda paper: paper.get("year") != work.year)
        return candidates[0] if candidates else None

    def _new_paper(self, prepared: _Prepared) -> _Paper:
        """A paper made from the work, with all it gives (what _fill would add to an empty one):
        its ids but those another paper holds already."""
        work = prepared.work
        values: dict[str, Any] = {
            "title": _text(work.title, TITLE_MAX_LENGTH),
            "title_key": prepared.title_key[:TITLE_MAX_LENGTH],
            "year": work.year,
            "abstract": _text(work.abstract, None) if work.abstract else None,
            "published_on": work.published_on,
            "citation_count": work.citation_count,
        }
        taken = self.paper_by_id
        for kind in PAPER_IDS:
            value = getattr(work, kind)
            values[kind] = value if value and (kind, value) not in taken else None
        paper = _Paper(id=None, values=values, new=True)
        self._add_paper(paper)
        return paper

    def _fill(self, paper: _Paper, work: WorkRecord) -> bool:
        """What the record adds to the paper: ids and dates it lacks, and the newest count."""
        fill: dict[str, Any] = {}
        for kind in PAPER_IDS:
            value = getattr(work, kind)
            if value and paper.get(kind) is None and (kind, value) not in self.paper_by_id:
                fill[kind] = value
                self.paper_by_id[kind, value] = paper
        if work.abstract and paper.get("abstract") is None:
            fill["abstract"] = _text(work.abstract, None)
        for name in ("published_on", "year"):
            if getattr(work, name) is not None and paper.get(name) is None:
                fill[name] = getattr(work, name)
        if work.citation_count is not None and work.citation_count != paper.get("citation_count"):
            fill["citation_count"] = work.citation_count
        paper.values.update(fill)
        if not paper.new:
            paper.changed.update(fill)
        return bool(fill)

    def _place_author(self, paper: _Paper, ref: AuthorRef) -> bool:
        person, _ = self._person(ref)
        byline = paper.bylines.get(person)
        printed = _text(ref.printed_name, NAME_MAX_LENGTH)
        changed = False
        if byline is None:
            byline = _Byline(person=person, position=ref.position, display_name=printed)
            paper.bylines[person] = byline
            changed = True
        elif ref.position is not None and (byline.position, byline.display_name) != (
            ref.position,
            printed,
        ):
            # A known place is never forgotten because another source lacks it.
            byline.position, byline.display_name = ref.position, printed
            byline.changed = changed = True
        for place_ref in ref.institutions:
            place = self._place(place_ref)
            if not _holds(byline.stored_places, byline.new_places, place):
                byline.new_places += (place,)
                changed = True
            if not _holds(paper.stored_places, paper.new_places, place):
                paper.new_places += (place,)
                changed = True
        return changed

    def _by_id(self, ref: AuthorRef) -> _Person | None:
        """The researcher holding one of the reference's ids, and no other id of its kinds."""
        if ref.openalex_id:  # the common case first, without a loop
            person = self.person_by_id.get(("openalex_id", ref.openalex_id))
            if person is not None and not _person_conflicts(person, ref):
                return person
        for kind in PERSON_IDS:
            value = getattr(ref, kind)
            person = self.person_by_id.get((kind, value)) if value else None
            if person is not None and not _person_conflicts(person, ref):
                return person
        return None

    def _person(self, ref: AuthorRef) -> tuple[_Person, bool]:
        """The researcher the reference names, and whether it gained ids from it."""
        person = self._by_id(ref)
        if person is not None:
            return person, self._adopt(person, ref)
        key = cached_name_key(ref.name)[:NAME_MAX_LENGTH]
        for person in self.person_by_name.get(key, ()) if key else ():
            if not _person_conflicts(person, ref):
                return person, self._adopt(person, ref)
        person = _Person(id=None, name=_text(ref.name, NAME_MAX_LENGTH), name_key=key, new=True)
        self._add_person(person, [key])
        self._adopt(person, ref)
        return person, False

    def _adopt(self, person: _Person, ref: AuthorRef) -> bool:
        """The reference's ids the person lacks (and no one else holds) become theirs."""
        if (
            (ref.openalex_id is None or ref.openalex_id == person.openalex_id)
            and (ref.orcid is None or ref.orcid == person.orcid)
            and (
                ref.semantic_scholar_id is None
                or ref.semantic_scholar_id == person.semantic_scholar_id
            )
        ):
            return False  # nothing the person lacks (the common case)
        adopted = False
        for kind in PERSON_IDS:
            value = getattr(ref, kind)
            if value and getattr(person, kind) is None and (kind, value) not in self.person_by_id:
                setattr(person, kind, value)
                if not person.new:
                    person.changed[kind] = value
                    adopted = True
                self.person_by_id[kind, value] = person
        return adopted

    def _place(self, ref: InstitutionRef) -> _Place:
        for kind in PLACE_IDS:
            value = getattr(ref, kind)
            place = self.place_by_id.get((kind, value)) if value else None
            if place is not None and not _place_conflicts(place, ref):
                return self._adopt_place(place, ref)
        key = cached_name_key(ref.name)
        candidates = [*self.place_by_key.get(key, ())]
        candidates += [
            self.place_by_slug[s] for s in _slugs_for(ref.name) if s in self.place_by_slug
        ]
        for place in candidates:
            if not _place_conflicts(place, ref):
                return self._adopt_place(place, ref)
        # The seed's slug for this name (mit), unless another place has it.
        seeded = manifest_slugs().get(key)
        slug = seeded if seeded and seeded not in self.place_by_slug else make_slug(ref.name)
        place = _Place(
            id=None,
            name=_text(ref.name, NAME_MAX_LENGTH),
            slug=slug or "institution",
            name_key=key,
            new=True,
        )
        self._add_place(place)
        return self._adopt_place(place, ref)

    def _adopt_place(self, place: _Place, ref: InstitutionRef) -> _Place:
        for kind in PLACE_IDS:
            value = getattr(ref, kind)
            if value and getattr(place, kind) is None and (kind, value) not in self.place_by_id:
                setattr(place, kind, value)
                if not place.new:
                    place.changed[kind] = value
                self.place_by_id[kind, value] = place
        return place

    # Indexes

    def _add_paper(self, paper: _Paper) -> None:
        self.papers.append(paper)
        for kind in PAPER_IDS:
            if value := paper.get(kind):
                self.paper_by_id.setdefault((kind, value), paper)
        if paper.get("title_key"):
            self.paper_by_title.setdefault(paper.get("title_key"), []).append(paper)

    def _add_person(self, person: _Person, keys: Iterable[str]) -> None:
        self.people.append(person)
        for kind in PERSON_IDS:
            if value := getattr(person, kind):
                self.person_by_id.setdefault((kind, value), person)
        for key in dict.fromkeys(keys):
            if key:
                self.person_by_name.setdefault(key, []).append(person)

    def _add_place(self, place: _Place) -> None:
        self.places.append(place)
        for kind in PLACE_IDS:
            if value := getattr(place, kind):
                self.place_by_id.setdefault((kind, value), place)
        if place.name_key:
            self.place_by_key.setdefault(place.name_key, []).append(place)
        self.place_by_slug.setdefault(place.slug, place)

    # Writing

    async def write(self) -> set[int]:
        """Write what the records decided; the researchers whose figures it changed."""
        touched = await self._write_people()
        await self._write_places()
        touched |= await self._write_papers()
        await self._write_author_records()
        return touched

    async def _write_people(self) -> set[int]:
        if self.order is not None and any(person.new for person in self.people):
            await self.order.before_ended.wait()  # its new slugs are taken, or free again
        ids = await self._write_new_and_changed(
            researcher,
            self.people,
            lambda person: make_slug(person.name) or "researcher",
            lambda person: {
                "name": person.name,
                "name_key": person.name_key,
                "openalex_id": person.openalex_id,
                "semantic_scholar_id": person.semantic_scholar_id,
                "orcid": person.orcid,
                "homepage": person.homepage,
                "created_at": self.now,
                "updated_at": self.now,
            },
            {"updated_at": self.now},
        )
        return set(ids)

    async def _write_places(self) -> None:
        await self._write_new_and_changed(
            institution,
            self.places,
            lambda place: place.slug,
            lambda place: {
                "name": place.name,
                "name_key": place.name_key,
                "openalex_id": place.openalex_id,
                "ror": place.ror,
            },
            {},
        )

    async def _write_new_and_changed(
        self,
        table: Table,
        items: Sequence[_Person | _Place],
        slug_base: Callable[[Any], str],
        row_of: Callable[[Any], dict[str, Any]],
        stamp: dict[str, Any],
    ) -> list[int]:
        """Insert the new items (each with a free slug), update the changed; the new ids."""
        new = [item for item in items if item.new]
        slugs = await bulk.free_slugs(
            self.connection,
            table,
            [slug_base(item) for item in new],
            self.slug_hints.setdefault(table.name, {}),
        )
        rows = [{"slug": slug, **row_of(item)} for item, slug in zip(new, slugs, strict=True)]
        ids = await bulk.insert_returning_ids(self.connection, table, rows)
        for item, new_id in zip(new, ids, strict=True):
            item.id = new_id
        changed = [
            {"id": item.id, **item.changed, **stamp}
            for item in items
            if item.changed and not item.new
        ]
        await bulk.update_by_id(self.connection, table, changed)
        return ids

    async def _write_papers(self) -> set[int]:
        """Papers, their counts per year, bylines and institutions; the researchers touched."""
        new = [paper for paper in self.papers if paper.new]
        rows = [{**p.values, "created_at": self.now, "updated_at": self.now} for p in new]
        ids = await bulk.insert_papers(self.connection, rows)
        for item, new_id in zip(new, ids, strict=True):
            item.id = new_id
        changed = [
            {"id": p.id, **p.changed, "updated_at": self.now}
            for p in self.papers
            if not p.new and (p.changed or p.counts_changed or p.unlinked_changed)
        ]
        await bulk.update_by_id(self.connection, paper, changed)
        touched: set[int] = set()
        for item in self.papers:
            if not item.new and "citation_count" in item.changed:
                touched.update(item.stored_authors)
        await self._write_counts()
        touched |= await self._write_bylines()
        await self._write_unlinked()
        await self._write_paper_places()
        return touched

    async def _write_counts(self) -> None:
        replaced = [p.id for p in self.papers if p.counts_changed and not p.new]
        await bulk.delete_of_papers(self.connection, citation_year, _ids_of(replaced))
        rows = [
            {"paper_id": p.id, "year": year, "count": count}
            for p in self.papers
            if p.counts_changed or (p.new and p.counts)
            for year, count in p.counts
        ]
        await bulk.insert_rows(self.connection, citation_year, rows)

    async def _write_bylines(self) -> set[int]:
        touched: set[int] = set()
        plain: list[dict[str, Any]] = []
        placed: list[tuple[_Byline, dict[str, Any]]] = []
        updates: list[dict[str, Any]] = []
        for item in self.papers:
            # The paper's order keys, as its trigger would copy them (migration 0007): set
            # here, the trigger does not run (it updated each row again after its insert).
            sort_year = item.get("year") or 0
            sort_date = item.get("published_on") or EARLIEST
            for byline in item.bylines.values():
                if byline.id is None:
                    row = {
                        "paper_id": item.id,
                        "researcher_id": byline.person.id,
                        "position": byline.position,
                        "display_name": byline.display_name,
                        "paper_sort_year": sort_year,
                        "paper_sort_date": sort_date,
                    }
                    touched.add(_int(byline.person.id))
                    if byline.new_places:
                        placed.append((byline, row))
                    else:
                        plain.append(row)
                elif byline.changed:
                    updates.append(
                        {
                            "id": byline.id,
                            "position": byline.position,
                            "display_name": byline.display_name,
                        }
                    )
        await bulk.insert_rows(self.connection, authorship, plain)
        ids = await bulk.insert_returning_ids(self.connection, authorship, [r for _, r in placed])
        for (byline, _), new_id in zip(placed, ids, strict=True):
            byline.id = new_id
        await bulk.update_by_id(self.connection, authorship, updates)
        links = {
            (_int(byline.id), _int(place.id))
            for item in self.papers
            for byline in item.bylines.values()
            for place in byline.new_places
        }
        await bulk.insert_rows(
            self.connection,
            authorship_institution,
            [{"authorship_id": a, "institution_id": i} for a, i in sorted(links)],
        )
        return touched

    async def _write_unlinked(self) -> None:
        replaced = [p.id for p in self.papers if p.unlinked_changed and not p.new]
        await bulk.delete_of_papers(self.connection, unlinked_author, _ids_of(replaced))
        rows = [
            {"paper_id": p.id, "position": position, "display_name": name}
            for p in self.papers
            if p.unlinked_changed
            for position, name in p.unlinked
        ]
        await bulk.insert_rows(self.connection, unlinked_author, rows)

    async def _write_paper_places(self) -> None:
        links = {
            (_int(item.id), _int(place.id))
            for item in self.papers
            for place in item.new_places
            if place.id not in item.stored_places
        }
        await bulk.insert_rows(
            self.connection,
            paper_institution,
            [{"paper_id": p, "institution_id": i} for p, i in sorted(links)],
        )

    async def _write_author_records(self) -> None:
        """Aliases, stated affiliations and reported figures the batch's author records add."""
        aliases = [
            {"researcher_id": person.id, "alias": alias, "alias_key": key}
            for person, alias, key in self.new_aliases
        ]
        await bulk.insert_rows(self.connection, researcher_alias, aliases)
        pairs = dict.fromkeys((_int(p.id), _int(q.id)) for p, q in self.new_affiliations)
        await bulk.insert_rows(
            self.connection,
            researcher_institution,
            [{"researcher_id": r, "institution_id": i} for r, i in pairs],
        )
        inserts, updates = [], []
        for key, (person, reported) in self.new_reported.items():
            values = {**_figures(reported), **_captured(reported.captured_on or self.now.date())}
            row = self.reported.get(key)
            if row is None:
                inserts.append({"researcher_id": person.id, "source": reported.source, **values})
            else:
                updates.append({"id": row.id, **values})
        await bulk.insert_rows(self.connection, reported_metrics, inserts)
        await bulk.update_by_id(self.connection, reported_metrics, updates)


_PERSON_COLUMNS = tuple(researcher.c[name] for name in bulk.PERSON_COLUMNS)


def _person_of(row: Any) -> _Person:
    """A stored researcher, from a row of bulk.researchers_matching (read by position:
    a batch reads thousands, and a Row's attributes cost more than its unpacking)."""
    researcher_id, key, openalex_id, semantic_scholar_id, orcid, homepage = row
    return _Person(researcher_id, "", key, openalex_id, semantic_scholar_id, orcid, homepage)


def _outcome(changed: bool) -> Outcome:
    return Outcome.UPDATED if changed else Outcome.UNCHANGED


def _figures(reported: Reported) -> dict[str, Any]:
    return {
        "h_index": reported.h_index,
        "citation_count": reported.citation_count,
        "paper_count": reported.paper_count,
        "i10_index": reported.i10_index,
        "two_year_mean_citedness": reported.two_year_mean_citedness,
    }


def _captured(day: date) -> dict[str, Any]:
    return {"captured_on": day, "captured_year": day.year}


def _works_of(record: Record) -> tuple[WorkRecord, ...]:
    return record.works if isinstance(record, AuthorRecord) else (record,)


def _ref_of(record: AuthorRecord) -> AuthorRef:
    return AuthorRef(
        name=record.name,
        printed_name=record.name,
        openalex_id=record.openalex_id,
        semantic_scholar_id=record.semantic_scholar_id,
        orcid=record.orcid,
    )


def _ids(items: Iterable[object], kind: str) -> set[str]:
    return {value for item in items if (value := getattr(item, kind))}


def _text(value: str, limit: int | None) -> str:
    # PostgreSQL text cannot hold NUL; the columns have lengths.
    cleaned = value.replace("\x00", "") if "\x00" in value else value
    return cleaned[:limit] if limit else cleaned


@lru_cache(maxsize=65536)
def _slugs_for(name: str) -> tuple[str, ...]:
    """Slugs an institution of this name may already have: its own, the seed's (mit)."""
    slug = make_slug(name)
    seeded = manifest_slugs().get(cached_name_key(name))
    return (slug, seeded) if seeded and seeded != slug else (slug,)


def _near_year(stored: int | None, year: int | None) -> bool:
    if stored is None or year is None:
        return stored is None and year is None
    return abs(stored - year) <= 1


def _paper_conflicts(paper: _Paper, work: WorkRecord) -> bool:
    """True when the paper holds a different id of a kind the work has."""
    for kind in PAPER_IDS:
        value = getattr(work, kind)
        stored = paper.get(kind)
        if value and stored and value != stored:
            return True
    return False


def _person_conflicts(person: _Person, ref: AuthorRef) -> bool:
    return (
        (ref.openalex_id is not None and person.openalex_id not in (None, ref.openalex_id))
        or (
            ref.semantic_scholar_id is not None
            and person.semantic_scholar_id not in (None, ref.semantic_scholar_id)
        )
        or (ref.orcid is not None and person.orcid not in (None, ref.orcid))
    )


def _place_conflicts(place: _Place, ref: InstitutionRef) -> bool:
    for kind in PLACE_IDS:
        value, stored = getattr(ref, kind), getattr(place, kind)
        if value and stored and value != stored:
            return True
    return False


def _holds(stored: AbstractSet[int], new: tuple[_Place, ...], place: _Place) -> bool:
    return (place.id is not None and place.id in stored) or any(p is place for p in new)


def _ids_of(values: Iterable[int | None]) -> list[int]:
    return [_int(value) for value in values]


def _int(value: int | None) -> int:
    assert value is not None
    return value
