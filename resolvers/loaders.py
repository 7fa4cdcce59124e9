"""DataLoaders: one per access path, built per request so each cache lives one request.

Every batch reads through the request's snapshot (db.engine.ReadSnapshot):
one connection and one read transaction, which lets one batch at a time run
its statements. Each returns exactly one result per key, in key order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Generic, TypeVar, overload

from sqlalchemy import ColumnElement, Select, bindparam
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.dataloader import DataLoader

from db.direct import Direct, direct, narrowed
from db.engine import ReadSnapshot
from db.queries import coauthors, institutions, metrics, papers, researchers
from db.queries.batches import id_in, id_values
from db.queries.pages import (
    Ordering,
    Page,
    PageRequest,
    cut_page,
    page_statement,
    partitioned_page_statement,
)
from db.queries.papers import PaperFilter
from db.reads import (
    ALL_CATEGORIES,
    ALL_PAPERS,
    ALL_RESEARCHERS,
    INSTITUTION_PAPERS,
    INSTITUTION_RESEARCHERS,
    RESEARCHER_PAPERS,
    note_list,
    note_lists,
    note_nodes,
)
from db.tables import AnyRow
from resolvers import metrics as engine

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
S = TypeVar("S", bound="ListSpec")


@dataclass(frozen=True, slots=True)
class ListSpec:
    """Which page of a parent's list: hashable, so equal requests batch together."""

    request: PageRequest


@dataclass(frozen=True, slots=True)
class PaperListSpec(ListSpec):
    filter: PaperFilter
    order_field: str
    descending: bool


def _by_id(rows: Iterable[AnyRow], ids: Sequence[int], key: str = "id") -> list[AnyRow | None]:
    found = {getattr(row, key): row for row in rows}
    return [found.get(i) for i in ids]


def _grouped(pairs: Iterable[tuple[int, V]], ids: Sequence[int]) -> list[list[V]]:
    groups: defaultdict[int, list[V]] = defaultdict(list)
    for parent, value in pairs:
        groups[parent].append(value)
    return [groups.get(i, []) for i in ids]


class _Lazy(Generic[K, V]):
    """A loader made on first use: most requests use two or three of them.

    The DataLoader it makes (over the Loaders' `load_<name>` method) replaces it
    in the instance, so later uses are plain attribute reads.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type) -> _Lazy[K, V]: ...

    @overload
    def __get__(self, instance: Loaders, owner: type) -> DataLoader[K, V]: ...

    def __get__(self, instance: Loaders | None, owner: type) -> Any:
        if instance is None:
            return self
        made: DataLoader[K, V] = DataLoader(load_fn=getattr(instance, f"load_{self.name}"))
        instance.__dict__[self.name] = made
        return made


class Loaders:
    """The loaders of one request."""

    researchers_by_id: _Lazy[int, AnyRow | None] = _Lazy()
    papers_by_id: _Lazy[int, AnyRow | None] = _Lazy()
    institutions_by_id: _Lazy[int, AnyRow | None] = _Lazy()
    authorships_by_paper_id: _Lazy[int, list[AnyRow]] = _Lazy()
    category_codes_by_paper_id: _Lazy[int, list[str]] = _Lazy()
    institutions_by_paper_id: _Lazy[int, list[AnyRow]] = _Lazy()
    links_by_paper_id: _Lazy[int, list[str]] = _Lazy()
    citation_years_by_paper_id: _Lazy[int, list[tuple[int, int]]] = _Lazy()
    aliases_by_researcher_id: _Lazy[int, list[str]] = _Lazy()
    institutions_by_researcher_id: _Lazy[int, list[AnyRow]] = _Lazy()
    reported_by_researcher_id: _Lazy[int, AnyRow | None] = _Lazy()
    indicators_by_researcher_id: _Lazy[int, AnyRow | None] = _Lazy()
    paper_facts_by_researcher_id: _Lazy[int, list[engine.PaperFacts]] = _Lazy()
    citation_years_by_researcher_id: _Lazy[int, list[tuple[int, int, int]]] = _Lazy()
    corpus_totals: _Lazy[None, AnyRow] = _Lazy()
    categories_by_code: _Lazy[str, AnyRow | None] = _Lazy()
    paper_count_by_category_code: _Lazy[str, int] = _Lazy()
    paper_page_by_researcher_id: _Lazy[tuple[int, PaperListSpec], Page] = _Lazy()
    paper_count_by_researcher_id: _Lazy[tuple[int, PaperFilter], int] = _Lazy()
    paper_page_by_institution_id: _Lazy[tuple[int, PaperListSpec], Page] = _Lazy()
    paper_count_by_institution_id: _Lazy[tuple[int, PaperFilter], int] = _Lazy()
    coauthor_page_by_researcher_id: _Lazy[tuple[int, ListSpec], Page] = _Lazy()
    coauthor_count_by_researcher_id: _Lazy[int, int] = _Lazy()
    researcher_page_by_institution_id: _Lazy[tuple[int, ListSpec], Page] = _Lazy()
    researcher_count_by_institution_id: _Lazy[int, int] = _Lazy()

    def __init__(self, snapshot: ReadSnapshot) -> None:
        self.snapshot = snapshot

    async def _read(self, statement: Callable[[AsyncConnection], Awaitable[V]]) -> V:
        return await self.snapshot.run(statement)

    # Rows by id.

    async def load_researchers_by_id(self, ids: list[int]) -> list[AnyRow | None]:
        note_nodes("Researcher", ids)
        rows = await self._read(lambda c: researchers.researchers_by_ids(c, ids))
        return _by_id(rows, ids)

    async def load_papers_by_id(self, ids: list[int]) -> list[AnyRow | None]:
        note_nodes("Paper", ids)
        return _by_id(await self._read(lambda c: papers.papers_by_ids(c, ids)), ids)

    async def load_institutions_by_id(self, ids: list[int]) -> list[AnyRow | None]:
        note_nodes("Institution", ids)
        rows = await self._read(lambda c: institutions.institutions_by_ids(c, ids))
        return _by_id(rows, ids)

    async def load_corpus_totals(self, keys: list[None]) -> list[AnyRow]:
        note_list(ALL_PAPERS)
        note_list(ALL_RESEARCHERS)
        totals = await self._read(metrics.corpus_totals)
        return [totals for _ in keys]

    async def load_categories_by_code(self, codes: list[str]) -> list[AnyRow | None]:
        note_list(ALL_CATEGORIES)
        rows = await self._read(lambda c: metrics.categories_by_codes(c, codes))
        return _by_id(rows, codes, key="code")  # type: ignore[arg-type]

    async def load_paper_count_by_category_code(self, codes: list[str]) -> list[int]:
        note_list(ALL_PAPERS)
        counts = await self._read(metrics.paper_count_by_category)
        return [counts.get(code, 0) for code in codes]

    # Lists below a paper.

    async def load_authorships_by_paper_id(
        self, ids: list[int], columns: frozenset[str] | None = None
    ) -> list[list[AnyRow]]:
        """Bylines; with `columns`, only those (and paper_id) are read, on the driver."""
        note_nodes("Paper", ids)
        if columns is None:
            rows = await self._read(lambda c: papers.authorships_of_papers(c, ids))
        else:
            snapshot = self.snapshot
            dialect = snapshot.dialect
            statement = papers.authorships_of_papers_direct(dialect, columns)
            rows = await snapshot.fetch(statement, {"ids": id_values(dialect, ids)})
        return _grouped(((row.paper_id, row) for row in rows), ids)

    async def load_category_codes_by_paper_id(self, ids: list[int]) -> list[list[str]]:
        note_nodes("Paper", ids)
        return _grouped(await self._read(lambda c: papers.category_codes_of_papers(c, ids)), ids)

    async def load_institutions_by_paper_id(self, ids: list[int]) -> list[list[AnyRow]]:
        note_nodes("Paper", ids)
        rows = await self._read(lambda c: papers.institutions_of_papers(c, ids))
        return _grouped(((row.paper_id, row) for row in rows), ids)

    async def load_links_by_paper_id(self, ids: list[int]) -> list[list[str]]:
        note_nodes("Paper", ids)
        return _grouped(await self._read(lambda c: papers.links_of_papers(c, ids)), ids)

    async def load_citation_years_by_paper_id(self, ids: list[int]) -> list[list[tuple[int, int]]]:
        note_nodes("Paper", ids)
        rows = await self._read(lambda c: papers.citation_years_of_papers(c, ids))
        return _grouped(((paper_id, (year, n)) for paper_id, year, n in rows), ids)

    # Lists below a researcher.

    async def load_aliases_by_researcher_id(self, ids: list[int]) -> list[list[str]]:
        note_nodes("Researcher", ids)
        return _grouped(await self._read(lambda c: researchers.aliases_of_researchers(c, ids)), ids)

    async def load_institutions_by_researcher_id(self, ids: list[int]) -> list[list[AnyRow]]:
        note_nodes("Researcher", ids)
        note_lists(RESEARCHER_PAPERS, ids)  # affiliations come from their bylines too
        rows = await self._read(lambda c: researchers.institutions_of_researchers(c, ids))
        note_nodes("Institution", (row.id for row in rows))
        return _grouped(((row.researcher_id, row) for row in rows), ids)

    async def load_reported_by_researcher_id(self, ids: list[int]) -> list[AnyRow | None]:
        note_nodes("Researcher", ids)
        rows = await self._read(lambda c: researchers.reported_of_researchers(c, ids))
        newest: dict[int, AnyRow] = {}
        for row in rows:
            newest.setdefault(row.researcher_id, row)
        return [newest.get(i) for i in ids]

    async def load_indicators_by_researcher_id(self, ids: list[int]) -> list[AnyRow | None]:
        note_lists(RESEARCHER_PAPERS, ids)
        rows = await self._read(lambda c: researchers.indicators_of_researchers(c, ids))
        return _by_id(rows, ids, key="researcher_id")

    async def load_paper_facts_by_researcher_id(
        self, ids: list[int]
    ) -> list[list[engine.PaperFacts]]:
        note_lists(RESEARCHER_PAPERS, ids)
        rows = await self._read(lambda c: metrics.paper_facts_of_researchers(c, ids))
        # Unpacked by position: tens of thousands of rows for a page of prolific authors.
        return _grouped(
            (
                (researcher_id, engine.PaperFacts(paper_id, year, count, category, has_code))
                for researcher_id, paper_id, year, count, category, has_code in rows
            ),
            ids,
        )

    async def load_citation_years_by_researcher_id(
        self, ids: list[int]
    ) -> list[list[tuple[int, int, int]]]:
        note_lists(RESEARCHER_PAPERS, ids)
        rows = await self._read(lambda c: metrics.citation_years_of_researchers(c, ids))
        return _grouped(((r, (paper_id, year, n)) for r, paper_id, year, n in rows), ids)

    # Pages: keys are (parent id, spec); one statement per distinct spec.

    async def _pages(
        self,
        keys: Sequence[tuple[int, S]],
        select_for: Callable[[S, list[int]], tuple[Select[Any], ColumnElement[Any], Ordering]],
        columns: frozenset[str] | None = None,
    ) -> list[Page]:
        by_spec: defaultdict[S, list[int]] = defaultdict(list)
        for parent, spec in keys:
            by_spec[spec].append(parent)
        pages: dict[tuple[int, S], Page] = {}
        if columns is not None and select_for in FIRST_PAGES:
            # First pages of only these columns, on the driver (db.direct).
            dialect = self.snapshot.dialect
            for spec, parents in list(by_spec.items()):
                if spec.request.after is not None:
                    continue
                del by_spec[spec]
                several = len(parents) > 1
                statement, ordering = _first_page_direct(
                    select_for, spec, dialect, columns, several=several
                )
                bound = (
                    {"parents": id_values(dialect, parents)} if several else {"parent": parents[0]}
                )
                rows = await self.snapshot.fetch(statement, bound)
                grouped = _grouped(((row.page_parent, row) for row in rows), parents)
                for parent, parent_rows in zip(parents, grouped, strict=True):
                    pages[parent, spec] = cut_page(parent_rows, ordering, spec.request)
            if not by_spec:
                return [pages[key] for key in keys]

        async def read(connection: AsyncConnection) -> None:
            dialect = connection.dialect.name
            for spec, parents in by_spec.items():
                request = spec.request
                if request.after is None and select_for in FIRST_PAGES:
                    # A first page: the statement is made once per list and dialect.
                    paged, ordering = _first_page(select_for, spec, dialect)
                    bound = {"parents": id_values(dialect, parents)}
                    rows = (await connection.execute(paged, bound)).all()
                else:
                    statement, parent_column, ordering = select_for(spec, parents)
                    paged = partitioned_page_statement(
                        statement.where(parent_column.in_(parents)),
                        ordering,
                        request,
                        parent=parent_column,
                    )
                    rows = (await connection.execute(paged)).all()
                grouped = _grouped(((row.page_parent, row) for row in rows), parents)
                for parent, parent_rows in zip(parents, grouped, strict=True):
                    pages[parent, spec] = cut_page(parent_rows, ordering, request)

        await self._read(read)
        return [pages[key] for key in keys]

    async def load_paper_page_by_researcher_id(
        self, keys: list[tuple[int, PaperListSpec]], columns: frozenset[str] | None = None
    ) -> list[Page]:
        """Pages of papers; with `columns`, first pages read only those, on the driver."""
        note_lists(RESEARCHER_PAPERS, (parent for parent, _ in keys))
        return await self._pages(keys, _papers_of_researchers, columns)

    async def load_paper_page_by_institution_id(
        self, keys: list[tuple[int, PaperListSpec]]
    ) -> list[Page]:
        note_lists(INSTITUTION_PAPERS, (parent for parent, _ in keys))
        return await self._pages(keys, _papers_of_institutions)

    async def load_coauthor_page_by_researcher_id(
        self, keys: list[tuple[int, ListSpec]]
    ) -> list[Page]:
        note_lists(RESEARCHER_PAPERS, (parent for parent, _ in keys))
        return await self._pages(keys, lambda _spec, parents: coauthors.coauthors_select(parents))

    async def load_researcher_page_by_institution_id(
        self, keys: list[tuple[int, ListSpec]]
    ) -> list[Page]:
        note_lists(INSTITUTION_RESEARCHERS, (parent for parent, _ in keys))
        return await self._pages(keys, _researchers_of_institutions)

    # Counts of whole lists, for totalCount.

    async def load_paper_count_by_researcher_id(
        self, keys: list[tuple[int, PaperFilter]]
    ) -> list[int]:
        note_lists(RESEARCHER_PAPERS, (parent for parent, _ in keys))
        return await self._counts(keys, papers.papers_of_researchers_select)

    async def load_paper_count_by_institution_id(
        self, keys: list[tuple[int, PaperFilter]]
    ) -> list[int]:
        note_lists(INSTITUTION_PAPERS, (parent for parent, _ in keys))
        return await self._counts(keys, papers.papers_of_institutions_select)

    async def _counts(
        self,
        keys: list[tuple[int, PaperFilter]],
        select_for: Callable[[PaperFilter], tuple[Select[Any], ColumnElement[Any]]],
    ) -> list[int]:
        by_filter: defaultdict[PaperFilter, list[int]] = defaultdict(list)
        for parent, spec in keys:
            by_filter[spec].append(parent)
        counts: dict[tuple[int, PaperFilter], int] = {}

        async def read(connection: AsyncConnection) -> None:
            for spec, parents in by_filter.items():
                statement, parent_column = select_for(spec)
                found = await papers.count_papers_by_parent(
                    connection, statement, parent_column, parents
                )
                counts.update({(parent, spec): found.get(parent, 0) for parent in parents})

        await self._read(read)
        return [counts[key] for key in keys]

    async def load_coauthor_count_by_researcher_id(self, ids: list[int]) -> list[int]:
        note_lists(RESEARCHER_PAPERS, ids)
        counts = await self._read(lambda c: coauthors.count_coauthors(c, ids))
        return [counts.get(i, 0) for i in ids]

    async def load_researcher_count_by_institution_id(self, ids: list[int]) -> list[int]:
        note_lists(INSTITUTION_RESEARCHERS, ids)
        counts = await self._read(lambda c: researchers.count_researchers_by_institution(c, ids))
        return [counts.get(i, 0) for i in ids]


# The lists that page by parent, each a statement with the parent column to cut it by.


def _papers_of_researchers(spec: PaperListSpec, _parents: list[int]) -> Any:
    statement, parent = papers.papers_of_researchers_select(spec.filter)
    ordering = papers.researcher_papers_ordering(spec.order_field, descending=spec.descending)
    return statement, parent, ordering


def _papers_of_institutions(spec: PaperListSpec, _parents: list[int]) -> Any:
    statement, parent = papers.papers_of_institutions_select(spec.filter)
    return statement, parent, papers.paper_ordering(spec.order_field, descending=spec.descending)


def _researchers_of_institutions(_spec: ListSpec, _parents: list[int]) -> Any:
    statement, parent = researchers.researchers_of_institutions_select()
    return statement, parent, researchers.NAME_ORDERING


# Lists whose statement does not depend on the parents: their first pages are made once.
FIRST_PAGES = frozenset(
    {_papers_of_researchers, _papers_of_institutions, _researchers_of_institutions}
)


@lru_cache(maxsize=256)
def _first_page(
    select_for: Callable[[Any, list[int]], tuple[Select[Any], ColumnElement[Any], Ordering]],
    spec: ListSpec,
    dialect: str,
    columns: frozenset[str] | None = None,
) -> tuple[Select[Any], Ordering]:
    statement, parent_column, ordering = select_for(spec, [])
    if columns is not None:
        statement = narrowed(statement, columns | {"id"})
    paged = partitioned_page_statement(
        statement.where(id_in(parent_column, dialect, "parents")),
        ordering,
        spec.request,
        parent=parent_column,
    )
    return paged, ordering


@lru_cache(maxsize=256)
def _first_page_direct(
    select_for: Callable[[Any, list[int]], tuple[Select[Any], ColumnElement[Any], Ordering]],
    spec: ListSpec,
    dialect: str,
    columns: frozenset[str],
    *,
    several: bool,
) -> tuple[Direct, Ordering]:
    """First pages of only these columns, for `several` parents or for one (bound as `parent`).

    One parent's page is an ORDER BY ... LIMIT, which the database serves with a top-N
    sort; numbering every row of every parent's list (the statement for several) sorts
    the whole list: for a researcher of 2,000 papers, twice the time.
    """
    if several:
        paged, ordering = _first_page(select_for, spec, dialect, columns)
        return direct(paged, dialect), ordering
    statement, parent_column, ordering = select_for(spec, [])
    one = narrowed(statement, columns | {"id"}).where(parent_column == bindparam("parent"))
    paged = page_statement(one, ordering, spec.request).add_columns(
        parent_column.label("page_parent")
    )
    return direct(paged, dialect), ordering
