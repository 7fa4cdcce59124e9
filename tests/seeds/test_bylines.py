"""Bylines, lock budgets and title keys: the pure parts of the import, on their own."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from db.names import title_key
from seeds.bulk import TITLE_LOCK, Record, StoredPeople, fast_title_key, lock_keys
from seeds.bylines import split_byline
from seeds.importer import _transaction_at
from seeds.records import AuthorRecord, AuthorRef, WorkRecord


def ref(name: str, openalex_id: str | None = None, position: int | None = None) -> AuthorRef:
    return AuthorRef(name=name, printed_name=name, position=position, openalex_id=openalex_id)


def test_reversed_and_initialled_repeats_of_an_identified_author_are_dropped() -> None:
    byline = [
        ref("Silvia Secchi", "A1", 1),
        ref("Paolo M. Rossi", "A2", 2),
        ref("Secchi, Silvia", None, 3),
        ref("Rossi, P. M.", None, 4),
        ref("Secchi Silvia", None, 5),
    ]
    identified, unlinked = split_byline(byline)
    assert [a.name for a in identified] == ["Silvia Secchi", "Paolo M. Rossi"]
    assert unlinked == []


def test_other_idless_names_are_kept_once_and_a_different_initial_is_another_person() -> None:
    byline = [
        ref("Silvia Secchi", "A1", 1),
        ref("World Bank", None, 2),
        ref("Secchi, M.", None, 3),
        ref("World Bank", None, 4),
    ]
    identified, unlinked = split_byline(byline)
    assert [a.name for a in identified] == ["Silvia Secchi"]
    assert [(a.name, a.position) for a in unlinked] == [("World Bank", 2), ("Secchi, M.", 3)]


async def test_without_a_lock_budget_a_batch_is_one_transaction() -> None:
    works = [WorkRecord(title=f"T{i}", openalex_id=f"W{i}") for i in range(5)]
    assert await _transaction_at(list(works), 0, None) == (5, None)


async def test_a_batch_is_cut_so_that_no_transaction_holds_more_locks_than_the_budget() -> None:
    works: list[Record] = [
        WorkRecord(
            title=f"T{i}",
            openalex_id=f"W{i}",
            doi=f"10.1/{i}",
            authors=(ref("Ann Lee", "A1", 1), ref(f"Bo {i}", f"A{i + 10}", 2)),
        )
        for i in range(10)
    ]
    runs = []
    start = 0
    while start < len(works):
        end, keys = await _transaction_at(works, start, 12)
        runs.append((works[start:end], keys))
        start = end
    for run, keys in runs:
        assert keys is not None
        assert sum(len(values) for values in keys.values()) <= 12
        expected: dict[str, set[str]] = {}
        for record in run:
            for namespace, key in lock_keys(record):
                expected.setdefault(namespace, set()).add(key)
        assert keys == expected
    # A work takes 7 keys; the next 5 more, the shared author's two being held already.
    assert [len(run) for run, _ in runs] == [2, 2, 2, 2, 2]


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=60))
def test_the_fast_title_key_is_the_title_key_for_ascii_titles(title: str) -> None:
    assert fast_title_key(title) == title_key(title)


def test_the_fast_title_key_leaves_other_titles_to_the_title_key() -> None:
    assert (
        fast_title_key("Renée\u2019s Über-Model")
        == title_key("Renée\u2019s Über-Model")
        == "renees uber model"
    )


def stored(researcher_id: int, openalex_id: str | None, orcid: str | None = None) -> tuple:
    """A row as StoredPeople reads it: id, name key, OpenAlex id, S2 id, ORCID, homepage."""
    return (researcher_id, "ann lee", openalex_id, None, orcid, None)


def test_an_author_is_settled_only_when_one_stored_researcher_holds_all_their_ids() -> None:
    people = StoredPeople(
        [stored(1, "A1"), stored(2, "A2", "0000-0002"), stored(3, None, "0000-0003")]
    )
    assert people.settled(ref("Ann Lee", "A1"))[0] == 1
    assert people.settled(AuthorRef(name="A", printed_name="A", orcid="0000-0003"))[0] == 3
    # An id the researcher lacks would be added to them; one they hold differently, a conflict.
    unsettled = [
        AuthorRef(name="A", printed_name="A", openalex_id="A1", orcid="0-1"),
        AuthorRef(name="A", printed_name="A", openalex_id="A9", orcid="0000-0002"),
        ref("Ann Lee", "A9"),
        ref("Ann Lee"),
    ]
    assert [people.settled(author) for author in unsettled] == [None] * 4


def test_settled_authors_take_no_researcher_keys_and_every_work_its_title() -> None:
    work = WorkRecord(
        title="On Locks", doi="10.1/1", authors=(ref("Ann Lee", "A1", 1), ref("Bo Chen", "A2", 2))
    )
    keys = lock_keys(work, StoredPeople([stored(1, "A1")]))
    assert keys == {
        ("paper-doi", "10.1/1"),
        (TITLE_LOCK, "on locks"),
        ("researcher-openalex", "A2"),
        ("researcher-name", "bo chen"),
    }


def test_an_author_record_holds_the_names_of_its_aliases() -> None:
    record = AuthorRecord(name="Ann Lee", aliases=("A. Lee",), openalex_id="A1")
    assert ("researcher-name", "a lee") in lock_keys(record, StoredPeople([stored(1, "A1")]))
    assert ("researcher-openalex", "A1") in lock_keys(record, StoredPeople([stored(1, "A1")]))
