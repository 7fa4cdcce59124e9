"""What a request read and what a write changed, as dependency keys (for the response cache).

Reads. While a request executes, a recorder (`ReadSet`) sits in a context
variable; the data layer notes each thing it reads:

    note_node("Researcher", 12)          # a row and what hangs off it only
    note_list("researcher-papers", 12)   # a list, a count or a figure over a set
    note_list("researchers")             # a whole-table list (search, leaderboards)

Outside a recorded request (the command line, tests) the calls cost a
context-variable read and do nothing. An executor may note more than it
needs (that only drops entries sooner), never less: a read it does not note
is a read the cache cannot invalidate. The keys in use:

    node  Researcher:<id>   the row, its aliases, reported figures and stored indicators
    node  Paper:<id>        the row, byline, categories, institutions, links, per-year counts
    node  Institution:<id>, Category:<code>
    list  researcher-papers:<id>   anything over a researcher's papers: their pages and
                                   counts, metrics, per-year counts, coauthors, affiliations
    list  institution-papers:<id>, institution-researchers:<id>
    list  paper-keys / researcher-keys   look-ups by DOI, arXiv id, slug or ORCID that
                                   found nothing (a write giving a row such a key announces it)
    list  categories               the taxonomy (changed only by a seed: everything)
    list  papers / researchers / institutions   whole-table reads: top-level lists, search,
                                   leaderboards, corpus figures, and look-ups that found nothing

Writes. A write collects a `ChangeSet` of the same keys inside its
transaction (`Changes`: give it the papers and researchers it touches, before
and after changing them, and it adds the lists they sit in), and announces
it after the commit with `await announce(changes)`; whoever set the sink
(the GraphQL view, a command) invalidates the cache before answering.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import select, union
from sqlalchemy.ext.asyncio import AsyncConnection

from db.tables import authorship, authorship_institution, paper_institution, researcher_institution

T = TypeVar("T")

# Kinds of list key (see the module docstring).
RESEARCHER_PAPERS = "researcher-papers"
INSTITUTION_PAPERS = "institution-papers"
INSTITUTION_RESEARCHERS = "institution-researchers"
ALL_PAPERS = "papers"
ALL_RESEARCHERS = "researchers"
ALL_INSTITUTIONS = "institutions"
# Look-ups by a unique key that found nothing: until a row takes such a key.
PAPER_KEYS = "paper-keys"  # doi, arXiv id
RESEARCHER_KEYS = "researcher-keys"  # slug, ORCID iD
ALL_CATEGORIES = "categories"  # the taxonomy: changed by seeding only (everything)


def node_key(type_name: str, db_id: object) -> str:
    return f"{type_name}:{db_id}"


def list_key(kind: str, key: object = None) -> str:
    return kind if key is None else f"{kind}:{key}"


class ReadSet:
    """The keys one request's reads depend on."""

    __slots__ = ("keys",)

    def __init__(self) -> None:
        self.keys: set[str] = set()


_reads: contextvars.ContextVar[ReadSet | None] = contextvars.ContextVar("reads", default=None)


def recording(reads: ReadSet | None) -> contextvars.Token[ReadSet | None]:
    """Record this context's reads into `reads` (None: stop); reset with the token."""
    return _reads.set(reads)


def stop_recording(token: contextvars.Token[ReadSet | None]) -> None:
    _reads.reset(token)


def note_node(type_name: str, db_id: object) -> None:
    reads = _reads.get()
    if reads is not None:
        reads.keys.add(f"{type_name}:{db_id}")


def note_nodes(type_name: str, db_ids: Iterable[object]) -> None:
    reads = _reads.get()
    if reads is not None:
        reads.keys.update(f"{type_name}:{i}" for i in db_ids)


def note_list(kind: str, key: object = None) -> None:
    reads = _reads.get()
    if reads is not None:
        reads.keys.add(kind if key is None else f"{kind}:{key}")


def note_lists(kind: str, keys: Iterable[object]) -> None:
    reads = _reads.get()
    if reads is not None:
        reads.keys.update(f"{kind}:{k}" for k in keys)


def note_found(type_name: str, row: T, missing: str) -> T:
    """A look-up by a unique key: the row found, or (none) the whole table's list."""
    if row is None:
        note_list(missing)
    else:
        note_node(type_name, row.id)  # type: ignore[attr-defined]
    return row


@dataclass(slots=True)
class ChangeSet:
    """What one write changed: keys, or everything (a seed, a bulk import)."""

    keys: set[str] = field(default_factory=set)
    everything: bool = False

    @classmethod
    def all(cls) -> ChangeSet:
        return cls(everything=True)

    def __bool__(self) -> bool:
        return self.everything or bool(self.keys)

    def update(self, other: ChangeSet) -> None:
        self.keys |= other.keys
        self.everything = self.everything or other.everything

    def as_event(self) -> dict[str, Any]:
        """The change as the change stream carries it: nodes by type, lists, or everything."""
        nodes: dict[str, list[str]] = {}
        lists: list[str] = []
        for key in sorted(self.keys):
            type_name, _, db_id = key.partition(":")
            if type_name[:1].isupper():
                nodes.setdefault(type_name, []).append(db_id)
            else:
                lists.append(key)
        return {"everything": self.everything, "nodes": nodes, "lists": lists}


class Changes:
    """A write's changes, collected in its transaction: the rows it touches, then their lists.

    Call `papers`/`researchers` with the ids before changing them (so that a
    byline losing an author still names that author's list) and again after,
    for rows the write creates; each call reads the lists they sit in now.
    """

    def __init__(self) -> None:
        self.changed = ChangeSet()
        self._papers: set[int] = set()
        self._researchers: set[int] = set()

    def node(self, type_name: str, db_id: object) -> None:
        self.changed.keys.add(node_key(type_name, db_id))

    def list(self, kind: str, key: object = None) -> None:
        self.changed.keys.add(list_key(kind, key))

    def everything(self) -> None:
        self.changed.everything = True

    async def settle(self, connection: AsyncConnection) -> None:
        """At the end of the transaction: the lists the touched rows sit in now."""
        if not self.changed.everything:
            await self.papers(connection, self._papers)
            await self.researchers(connection, self._researchers)

    async def papers(self, connection: AsyncConnection, paper_ids: Iterable[int]) -> None:
        """These papers change (fields, byline, counts, creation, deletion): and their lists."""
        ids = sorted({int(i) for i in paper_ids})
        if not ids:
            return
        self._papers.update(ids)
        keys = self.changed.keys
        keys.update(node_key("Paper", i) for i in ids)
        keys.update((ALL_PAPERS, ALL_RESEARCHERS, ALL_INSTITUTIONS))
        authors = select(authorship.c.researcher_id).where(authorship.c.paper_id.in_(ids))
        for (researcher_id,) in (await connection.execute(authors)).all():
            keys.add(list_key(RESEARCHER_PAPERS, researcher_id))
        institutions = union(
            select(paper_institution.c.institution_id).where(paper_institution.c.paper_id.in_(ids)),
            select(authorship_institution.c.institution_id)
            .join(authorship, authorship.c.id == authorship_institution.c.authorship_id)
            .where(authorship.c.paper_id.in_(ids)),
        )
        for (institution_id,) in (await connection.execute(institutions)).all():
            keys.add(list_key(INSTITUTION_PAPERS, institution_id))
            keys.add(list_key(INSTITUTION_RESEARCHERS, institution_id))
            keys.add(node_key("Institution", institution_id))

    async def researchers(self, connection: AsyncConnection, researcher_ids: Iterable[int]) -> None:
        """These researchers change (name, ids, aliases...): and the lists that show them."""
        ids = sorted({int(i) for i in researcher_ids})
        if not ids:
            return
        self._researchers.update(ids)
        keys = self.changed.keys
        keys.update(node_key("Researcher", i) for i in ids)
        keys.update(list_key(RESEARCHER_PAPERS, i) for i in ids)
        keys.add(ALL_RESEARCHERS)
        # Coauthor lists and member lists order by name: theirs may move.
        mine = select(authorship.c.paper_id).where(authorship.c.researcher_id.in_(ids))
        coauthors = select(authorship.c.researcher_id).where(authorship.c.paper_id.in_(mine))
        for (coauthor_id,) in (await connection.execute(coauthors.distinct())).all():
            keys.add(list_key(RESEARCHER_PAPERS, coauthor_id))
        institutions = union(
            select(researcher_institution.c.institution_id).where(
                researcher_institution.c.researcher_id.in_(ids)
            ),
            select(authorship_institution.c.institution_id)
            .join(authorship, authorship.c.id == authorship_institution.c.authorship_id)
            .where(authorship.c.researcher_id.in_(ids)),
        )
        for (institution_id,) in (await connection.execute(institutions)).all():
            keys.add(list_key(INSTITUTION_RESEARCHERS, institution_id))


async def changing_papers(connection: AsyncConnection, paper_ids: Iterable[int]) -> None:
    """In a write: these papers change (call before changing them, and after creating them)."""
    changes = _changes.get()
    if changes is not None:
        await changes.papers(connection, paper_ids)


async def changing_researchers(
    connection: AsyncConnection, researcher_ids: Iterable[int], *, with_papers: bool = False
) -> None:
    """In a write: these researchers change; `with_papers`: their papers' bylines too."""
    changes = _changes.get()
    if changes is None:
        return
    if with_papers:
        ids = [int(i) for i in researcher_ids]
        theirs = select(authorship.c.paper_id).where(authorship.c.researcher_id.in_(ids))
        await changes.papers(connection, [p for (p,) in (await connection.execute(theirs)).all()])
        researcher_ids = ids
    await changes.researchers(connection, researcher_ids)


def changing_keys(kind: str) -> None:
    """In a write: a row gets (or loses) a unique key a look-up may have missed."""
    changes = _changes.get()
    if changes is not None:
        changes.list(kind)


def changing_everything() -> None:
    """In a write: too much changes to list (an import): every cached answer goes."""
    changes = _changes.get()
    if changes is not None:
        changes.everything()


Sink = Callable[[ChangeSet], Awaitable[None]]
_sink: contextvars.ContextVar[Sink | None] = contextvars.ContextVar("change_sink", default=None)
_changes: contextvars.ContextVar[Changes | None] = contextvars.ContextVar("changes", default=None)


def announcing(sink: Sink | None) -> contextvars.Token[Sink | None]:
    """Send this context's announcements to `sink` (the cache's invalidation, the stream)."""
    return _sink.set(sink)


def stop_announcing(token: contextvars.Token[Sink | None]) -> None:
    _sink.reset(token)


async def announce(changes: ChangeSet) -> None:
    """After a commit: say what it changed. Without a sink (nothing cached) it does nothing."""
    sink = _sink.get()
    if sink is not None and changes:
        await sink(changes)


def current_changes() -> Changes | None:
    """The changes of the write transaction running in this context, if one collects them."""
    return _changes.get()


def collecting(changes: Changes | None) -> contextvars.Token[Changes | None]:
    return _changes.set(changes)


def stop_collecting(token: contextvars.Token[Changes | None]) -> None:
    _changes.reset(token)
