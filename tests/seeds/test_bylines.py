"""Bylines, lock budgets and title keys: the pure parts of the import, on their own."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from db.names import title_key
from seeds.bulk import fast_title_key, lock_keys
from seeds.bylines import split_byline
from seeds.importer import _transactions
from seeds.records import AuthorRef, WorkRecord


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


def test_without_a_lock_budget_a_batch_is_one_transaction() -> None:
    works = [WorkRecord(title=f"T{i}", openalex_id=f"W{i}") for i in range(5)]
    assert list(_transactions(list(works), None)) == [(works, None)]


def test_a_batch_is_cut_so_that_no_transaction_holds_more_locks_than_the_budget() -> None:
    works = [
        WorkRecord(
            title=f"T{i}",
            openalex_id=f"W{i}",
            doi=f"10.1/{i}",
            authors=(ref("Ann Lee", "A1", 1), ref(f"Bo {i}", f"A{i + 10}", 2)),
        )
        for i in range(10)
    ]
    runs = list(_transactions(list(works), 10))
    assert [r for run, _ in runs for r in run] == works
    for run, keys in runs:
        assert keys is not None
        assert sum(len(values) for values in keys.values()) <= 10
        expected: dict[str, set[str]] = {}
        for record in run:
            for namespace, key in lock_keys(record):
                expected.setdefault(namespace, set()).add(key)
        assert keys == expected
    # A work takes 6 keys; the next 4 more, the shared author's two being held already.
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
