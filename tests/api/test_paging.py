"""Keyset paging through connections: forwards, backwards, limits and cursors."""

from __future__ import annotations

import base64
import json

import pytest

from tests.api.conftest import GraphQLClient
from tests.api.factories import add_papers

PAGE = """
query Page($first: Int, $after: String, $last: Int, $before: String, $order: PaperOrder) {
  papers(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id title } }
    nodes { title }
  }
}
"""
BY_TITLE = {"field": "TITLE", "direction": "ASC"}


async def walk_forwards(client: GraphQLClient, size: int, **order: object) -> list[dict]:
    pages, after = [], None
    while True:
        page = (await client.data(PAGE, first=size, after=after, **order))["papers"]
        pages.append(page)
        if not page["pageInfo"]["hasNextPage"]:
            return pages
        after = page["pageInfo"]["endCursor"]


async def test_paging_forwards_visits_every_paper_once_in_order(seeded: GraphQLClient) -> None:
    pages = await walk_forwards(seeded, 7, order=BY_TITLE)
    titles = [node["title"] for page in pages for node in page["nodes"]]
    assert len(pages) == 8  # 50 papers, 7 a page
    assert len(titles) == 50 == len(set(titles))
    assert titles == sorted(titles, key=str.casefold)
    assert all(page["totalCount"] == 50 for page in pages)
    assert pages[0]["pageInfo"]["hasPreviousPage"] is False
    assert pages[-1]["pageInfo"]["hasNextPage"] is False
    assert [edge["node"]["title"] for edge in pages[0]["edges"]] == titles[:7]


async def test_paging_backwards_from_the_end_returns_the_same_pages(seeded: GraphQLClient) -> None:
    forwards = [
        n["title"] for p in await walk_forwards(seeded, 10, order=BY_TITLE) for n in p["nodes"]
    ]
    backwards: list[str] = []
    before = None
    while True:
        page = (await seeded.data(PAGE, last=10, before=before, order=BY_TITLE))["papers"]
        backwards = [node["title"] for node in page["nodes"]] + backwards
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert backwards == forwards


async def test_a_page_starts_right_after_its_cursor(seeded: GraphQLClient) -> None:
    first = (await seeded.data(PAGE, first=3))["papers"]
    middle_cursor = first["edges"][1]["cursor"]
    after = (await seeded.data(PAGE, first=2, after=middle_cursor))["papers"]
    everything = (await seeded.data(PAGE, first=5))["papers"]["nodes"]
    assert after["nodes"] == everything[2:4]
    assert after["pageInfo"]["hasPreviousPage"] is True


async def test_an_empty_page_has_no_cursors(seeded: GraphQLClient) -> None:
    page = (await seeded.data(PAGE, first=0))["papers"]
    assert page["edges"] == []
    assert page["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "startCursor": None,
        "endCursor": None,
    }


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"first": 101}, "first must be between 0 and 100; got 101."),
        ({"last": 500}, "last must be between 0 and 100; got 500."),
        ({"first": -1}, "first must be between 0 and 100; got -1."),
        ({"first": 5, "last": 5}, "Use first/after to page forwards or last/before, not both."),
        ({"after": "bm90IGEgY3Vyc29y"}, "Not a valid cursor: 'bm90IGEgY3Vyc29y'."),
    ],
)
async def test_bad_paging_arguments_are_refused_with_a_clear_message(
    seeded: GraphQLClient, arguments: dict[str, object], message: str
) -> None:
    assert await seeded.error(PAGE, **arguments) == message


async def test_a_cursor_of_another_ordering_is_refused(seeded: GraphQLClient) -> None:
    cursor = (await seeded.data(PAGE, first=1))["papers"]["pageInfo"]["endCursor"]
    message = await seeded.error(PAGE, first=1, after=cursor, order=BY_TITLE)
    assert message == "This cursor belongs to another ordering; page again from the start."


SEARCH = """
query($after: String) { papers(query: "interpret", first: 2, after: $after) { totalCount } }
"""


def forged(cursor: str, index: int, value: object) -> str:
    """`cursor` with its key `index` (0 is the ordering's name) replaced by `value`."""
    keys = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    keys[index] = value
    return base64.urlsafe_b64encode(json.dumps(keys).encode()).decode().rstrip("=")


# Keys no column holds, from the fuzz run: each was a masked fault on one database or both.
@pytest.mark.parametrize(
    ("order", "index", "value"),
    [
        pytest.param(None, 1, 2**31, id="year-past-32-bits"),
        pytest.param(None, 3, 2**63, id="id-past-64-bits"),
        pytest.param(BY_TITLE, 1, "a\x00", id="title-with-nul"),
    ],
)
async def test_a_cursor_holding_a_key_no_column_holds_is_refused(
    seeded: GraphQLClient, order: dict[str, str] | None, index: int, value: object
) -> None:
    variables = {"order": order} if order else {}
    real = (await seeded.data(PAGE, first=1, **variables))["papers"]["pageInfo"]["endCursor"]
    cursor = forged(real, index, value)
    message = await seeded.error(PAGE, first=1, after=cursor, **variables)
    assert message == refusal_of(cursor)


async def test_a_relevance_cursor_past_the_float_range_is_refused(seeded: GraphQLClient) -> None:
    real = (await seeded.data(SEARCH.replace("totalCount", "pageInfo { endCursor }")))["papers"]
    cursor = forged(real["pageInfo"]["endCursor"], 1, 10**400)
    assert await seeded.error(SEARCH, after=cursor) == refusal_of(cursor)


async def test_a_cursor_nested_deeper_than_json_parses_is_refused(seeded: GraphQLClient) -> None:
    cursor = base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode()
    assert await seeded.error(PAGE, after=cursor) == refusal_of(cursor)


def refusal_of(cursor: str) -> str:
    """The message for a refused cursor: all of a short one; the start and length of another."""
    if len(cursor) <= 40:
        return f"Not a valid cursor: {cursor!r}."
    return f"Not a valid cursor: {cursor[:40]!r}… ({len(cursor):,} characters)."


async def test_a_long_cursor_is_not_echoed_whole(seeded: GraphQLClient) -> None:
    cursor = "A" * 80_000
    assert await seeded.error(PAGE, after=cursor) == (
        "Not a valid cursor: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'… (80,000 characters)."
    )
    exactly_40 = "B" * 40
    assert await seeded.error(PAGE, after=exactly_40) == f"Not a valid cursor: '{exactly_40}'."


async def test_nested_connections_page_too(seeded: GraphQLClient) -> None:
    query = """
    query($after: String) { researcher(slug: "david-bau") {
      coauthors(first: 30, after: $after) { totalCount pageInfo { hasNextPage endCursor }
        edges { node { slug } } } } }
    """
    slugs: list[str] = []
    after = None
    while True:
        page = (await seeded.data(query, after=after))["researcher"]["coauthors"]
        slugs += [edge["node"]["slug"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(slugs) == 89 == len(set(slugs))
    assert slugs[0] == "rohit-gandikota"


async def test_pages_stay_correct_when_rows_are_added_between_requests(
    blank: GraphQLClient,
) -> None:
    await add_papers(blank.engine, ["B", "D", "F"])
    first = (await blank.data(PAGE, first=2, order=BY_TITLE))["papers"]
    await add_papers(blank.engine, ["A", "C", "E"])  # before and inside the first page
    rest = await blank.data(PAGE, first=10, after=first["pageInfo"]["endCursor"], order=BY_TITLE)
    assert [n["title"] for n in first["nodes"]] == ["B", "D"]
    assert [n["title"] for n in rest["papers"]["nodes"]] == ["E", "F"]
