from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from alembic import command
from sqlalchemy import func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from db.engine import create_engine
from db.migrate import alembic_config
from db.models import Paper
from db.queries.pages import (
    Ordering,
    PageRequest,
    cut_page,
    page_statement,
    parse_float,
    parse_int,
)
from db.queries.search import (
    MAX_CHARACTERS,
    MAX_WORDS,
    STOP_WORDS,
    SearchTooLongError,
    fts5_query,
    paper_matches,
    search_terms,
    search_words,
    searched_terms,
    tsquery,
)

Hit = tuple[int, str, float]

HOSTILE_QUERIES = [
    '"',
    "*",
    "-",
    ":",
    "NEAR(",
    "OR",
    ")",
    "'",
    "NOT",
    '"relighting',
    "relighting*",
    "-relighting",
    "relighting -scenes",
    "title:relighting",
    "abstract : relighting",
    "relighting OR othello",
    "NEAR(relighting othello, 5)",
    "relighting' OR '1'='1",
    "relighting'); DROP TABLE paper; --",
    "a:* | b:*",
    "!relighting & (othello | gpt)",
    "^relighting",
    "relighting +othello",
    "{title abstract}: relighting",
    "\\",
    "%_",
]


async def search(engine: AsyncEngine, query: str) -> list[Hit]:
    """(id, title, rank) of the papers matching `query`, best first, as the API orders them."""
    matches = paper_matches(query, dialect=engine.dialect.name)
    assert matches is not None
    statement = (
        select(col(Paper.id), col(Paper.title), matches.c.rank)
        .join(matches, matches.c.paper_id == col(Paper.id))
        .order_by(matches.c.rank, col(Paper.id))
    )
    async with engine.connect() as connection:
        return [(row[0], row[1], row[2]) for row in (await connection.execute(statement)).all()]


async def titles(engine: AsyncEngine, query: str) -> list[str]:
    return [title for _, title, _ in await search(engine, query)]


async def paper_count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return (await connection.execute(select(func.count()).select_from(Paper))).scalar_one()


async def add_paper(
    sessions: async_sessionmaker[AsyncSession], title: str, abstract: str | None = None
) -> int:
    async with sessions() as session, session.begin():
        paper = Paper(title=title, title_key=title.lower(), abstract=abstract)
        session.add(paper)
        await session.flush()
        assert paper.id is not None
        return paper.id


@pytest.fixture
async def seeded(seeded_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(seeded_url)
    yield engine
    await engine.dispose()


# Building the query text


def test_words_are_runs_of_letters_and_digits() -> None:
    assert search_words('Local "relighting" NEAR(x, 5) -GPT-2: OR_and*') == [
        "Local",
        "relighting",
        "NEAR",
        "x",
        "5",
        "GPT",
        "2",
        "OR",
        "and",
    ]
    assert search_words("café naïve") == ["café", "naïve"]
    # A decomposed accent is composed first, so it stays inside its word.
    assert search_words("cafe\u0301 e\u0301tudes") == ["café", "études"]


def test_every_word_is_a_quoted_phrase_and_the_last_a_prefix() -> None:
    words = search_words('local "relight*ing" OR NEAR(')
    assert fts5_query(words) == '"local" "relight" "ing" "OR" "NEAR"*'
    assert tsquery(words) == "'local' & 'relight' & 'ing' & 'OR' & 'NEAR':*"


def test_a_repeated_word_counts_once_at_its_last_place() -> None:
    # The word being typed stays last, so it stays the prefix.
    assert search_terms("a b A c b") == ["A", "c", "b"]
    assert search_terms(" ".join(["a"] * 6000)) == ["a"]
    assert search_terms("Relighting local relighting") == ["local", "relighting"]


def test_searches_up_to_the_limits_are_accepted_and_past_them_refused() -> None:
    words = [f"w{n}" for n in range(MAX_WORDS + 1)]
    assert search_terms(" ".join(words[:MAX_WORDS])) == words[:MAX_WORDS]
    assert search_terms(" ".join(words[:MAX_WORDS] * 100)) == words[:MAX_WORDS]
    with pytest.raises(SearchTooLongError, match=r"^Search text is too long: 33 distinct words"):
        search_terms(" ".join(words))
    assert search_terms("x" * MAX_CHARACTERS) == ["x" * MAX_CHARACTERS]
    with pytest.raises(SearchTooLongError, match="1 distinct word, 501 characters"):
        search_terms("x" * (MAX_CHARACTERS + 1))
    with pytest.raises(SearchTooLongError):
        paper_matches("y" * (MAX_CHARACTERS + 1), dialect="sqlite")


@pytest.mark.parametrize("query", ["", "   ", "!!!", '"*"', "-:()'", "_", "— … ·", "\t\n"])
def test_text_without_a_word_searches_nothing(query: str) -> None:
    assert paper_matches(query, dialect="sqlite") is None
    assert paper_matches(query, dialect="postgresql") is None


@pytest.mark.parametrize("query", ["a", " ".join(["a"] * 6000), "The", "of the and a", "A:*"])
def test_text_of_stop_words_only_searches_nothing(query: str) -> None:
    assert paper_matches(query, dialect="sqlite") is None
    assert paper_matches(query, dialect="postgresql") is None


def test_stop_words_are_dropped_after_the_limits_are_counted() -> None:
    assert searched_terms("The diffusion of a THE model") == ["diffusion", "model"]
    # The limits hold for the text as typed: stop words count there.
    with pytest.raises(SearchTooLongError, match="33 distinct words"):
        searched_terms(" ".join([*sorted(STOP_WORDS)[:32], "diffusion"]))


def test_an_unknown_dialect_is_refused() -> None:
    with pytest.raises(ValueError, match="mysql"):
        paper_matches("relighting", dialect="mysql")


# Searching the seed


async def test_a_title_word_finds_its_paper_first(seeded: AsyncEngine) -> None:
    assert (await titles(seeded, "relighting"))[0] == "Local Relighting of Real Scenes"
    assert (await titles(seeded, "Relighting"))[0] == "Local Relighting of Real Scenes"


async def test_a_word_only_in_the_abstract_finds_the_paper(seeded: AsyncEngine) -> None:
    # "Lonoff" is the benchmark named in the abstract of the relighting paper only.
    assert await titles(seeded, "lonoff") == ["Local Relighting of Real Scenes"]
    found = await titles(seeded, "othello")
    assert (
        "Emergent World Representations: Exploring a Sequence Model Trained on a Synthetic Task"
        in (found)
    )
    assert all("othello" not in title.lower() for title in found)


async def test_title_matches_rank_above_abstract_only_matches(seeded: AsyncEngine) -> None:
    found = await titles(seeded, "interpretability")
    in_title = ["interpret" in title.lower() for title in found]
    assert any(in_title)
    assert not all(in_title)  # some papers match by their abstract only
    assert in_title == sorted(in_title, reverse=True)


async def test_words_must_all_occur(seeded: AsyncEngine) -> None:
    assert await titles(seeded, "local relighting scenes") == ["Local Relighting of Real Scenes"]
    assert await titles(seeded, "relighting")
    assert await titles(seeded, "othello")
    assert await titles(seeded, "relighting othello") == []


async def test_the_last_word_matches_as_a_prefix(seeded: AsyncEngine) -> None:
    found = await titles(seeded, "interpret")
    assert any("interpretability" in title.lower() for title in found)
    assert "Local Relighting of Real Scenes" in await titles(seeded, "local relig")
    # Only the last word is a prefix: a cut-off word before it must be whole.
    assert await titles(seeded, "relig local") == []


async def test_stop_words_are_dropped_on_both_databases_even_as_the_prefix(
    seeded: AsyncEngine,
) -> None:
    alone = await search(seeded, "diffusion models")
    assert len(alone) > 3
    assert await search(seeded, "the diffusion of a models") == alone
    # "a" as a prefix would match every paper; a stop word is no prefix on either database.
    assert await search(seeded, "diffusion models a") == alone
    assert await search(seeded, "diffusion models THE") == alone


async def test_the_stop_words_are_postgresql_s_own(seeded: AsyncEngine) -> None:
    if seeded.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's english dictionary")
    async with seeded.connect() as connection:
        kept = await connection.execute(
            text(
                "SELECT w FROM unnest(CAST(:words AS text[])) AS w"
                " WHERE ts_lexize('english_stem', w) <> '{}'"
            ),
            {"words": sorted(STOP_WORDS)},
        )
        assert kept.scalars().all() == []
        # Words close to stop words are not stop words there, nor here.
        for word in ("theory", "ai", "isn", "doe"):
            lexemes = await connection.execute(
                text("SELECT ts_lexize('english_stem', :w)"), {"w": word}
            )
            assert lexemes.scalar_one() != []
            assert word not in STOP_WORDS


async def test_ranks_are_deterministic_floats(seeded: AsyncEngine) -> None:
    first = await search(seeded, "language models")
    assert first
    assert first == await search(seeded, "language models")
    assert all(isinstance(rank, float) for _, _, rank in first)
    ranks = [rank for _, _, rank in first]
    assert ranks == sorted(ranks)
    assert ranks[0] < ranks[-1]


async def test_ranks_survive_a_cursor_round_trip(seeded: AsyncEngine) -> None:
    """Keyset pages by (rank, id), their keys through JSON, cover the whole result once."""
    matches = paper_matches("model", dialect=seeded.dialect.name)
    assert matches is not None
    statement = select(col(Paper.id)).join(matches, matches.c.paper_id == col(Paper.id))
    ordering = Ordering("relevance", (matches.c.rank, col(Paper.id)), (parse_float, parse_int))
    async with seeded.connect() as connection:
        everything = await connection.execute(
            page_statement(statement, ordering, PageRequest(size=1000))
        )
        expected = [row.id for row in everything]
        paged: list[int] = []
        after = None
        while True:
            request = PageRequest(size=4, after=after)
            rows = (await connection.execute(page_statement(statement, ordering, request))).all()
            page = cut_page(rows, ordering, request)
            paged += [row.id for row in page.rows]
            if not page.has_next_page:
                break
            after = ordering.parse(json.loads(json.dumps(list(page.keys[-1]))))
    assert len(expected) > 8
    assert paged == expected


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
async def test_query_syntax_in_the_text_is_never_obeyed(seeded: AsyncEngine, query: str) -> None:
    total = await paper_count(seeded)
    matches = paper_matches(query, dialect=seeded.dialect.name)
    if matches is None:
        return
    found = await search(seeded, query)
    assert len(found) < total
    # The same as searching for its words alone: whatever looked like syntax was dropped.
    assert found == await search(seeded, " ".join(search_words(query)))


async def test_operators_are_plain_words(seeded: AsyncEngine) -> None:
    relighting = ["Local Relighting of Real Scenes"]
    # Not a negation, not a column filter, not a disjunction.
    assert await titles(seeded, "-relighting") == relighting
    assert await titles(seeded, "relighting -scenes") == relighting
    assert await titles(seeded, '"relighting') == relighting
    assert await titles(seeded, "relighting OR othello") == []
    assert await titles(seeded, "NEAR(relighting othello)") == []
    assert await paper_count(seeded) == 50  # and nothing was dropped


# Ranking and writes, on a database of our own


async def test_a_title_match_outranks_repeated_abstract_matches(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    in_abstract = await add_paper(
        sessions, "Gadgets at scale", "We compare widgets with widgets, and with more widgets."
    )
    in_title = await add_paper(sessions, "Widgets at scale", "A study of small devices.")
    await add_paper(sessions, "Something else", "Nothing to see.")
    found = await search(engine, "widgets")
    assert [paper_id for paper_id, _, _ in found] == [in_title, in_abstract]


async def test_writes_reach_the_index_at_once(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    paper_id = await add_paper(sessions, "Quokka dynamics", "Marsupials hop about.")
    await add_paper(sessions, "Unrelated", None)
    assert await titles(engine, "quokka") == ["Quokka dynamics"]
    assert await titles(engine, "marsupial") == ["Quokka dynamics"]

    async with sessions() as session, session.begin():
        paper = await session.get_one(Paper, paper_id)
        paper.title = "Wombat dynamics"
    assert await titles(engine, "wombat") == ["Wombat dynamics"]
    assert await titles(engine, "quokka") == []
    assert await titles(engine, "dynamics") == ["Wombat dynamics"]
    assert await titles(engine, "marsupials") == ["Wombat dynamics"]

    async with sessions() as session, session.begin():
        paper = await session.get_one(Paper, paper_id)
        paper.abstract = None
    assert await titles(engine, "marsupials") == []
    assert await titles(engine, "wombat") == ["Wombat dynamics"]

    async with sessions() as session, session.begin():
        paper = await session.get_one(Paper, paper_id)
        paper.abstract = "Burrowing herbivores."
        paper.citation_count = 3  # a write to another column leaves the index alone
    assert await titles(engine, "burrowing herbivores") == ["Wombat dynamics"]

    async with sessions() as session, session.begin():
        await session.delete(await session.get_one(Paper, paper_id))
    assert await titles(engine, "wombat") == []
    assert await titles(engine, "burrowing") == []
    assert await titles(engine, "unrelated") == ["Unrelated"]
    await assert_index_is_consistent(engine)


async def test_accents_are_ignored_where_the_database_can(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_paper(sessions, "Études of café culture")
    assert await titles(engine, "études café") == ["Études of café culture"]
    unaccented = await titles(engine, "etudes cafe")
    # SQLite's tokenizer removes diacritics; PostgreSQL runs without the unaccent extension.
    assert unaccented == (["Études of café culture"] if engine.dialect.name == "sqlite" else [])


async def assert_index_is_consistent(engine: AsyncEngine) -> None:
    if engine.dialect.name != "sqlite":
        return  # a generated column cannot drift
    async with engine.connect() as connection:
        # FTS5 compares the index with the content table and raises if they differ.
        await connection.execute(
            text("INSERT INTO paper_search(paper_search, rank) VALUES ('integrity-check', 1)")
        )


# Migrations


def test_search_migrates_down_and_up_again_and_indexes_existing_rows(database_url: str) -> None:
    config = alembic_config(database_url)
    command.downgrade(config, "0001")
    assert asyncio.run(search_objects(database_url)) == set()

    asyncio.run(add_paper_before_search(database_url))
    command.upgrade(config, "head")
    assert asyncio.run(search_objects(database_url))
    assert asyncio.run(found_titles(database_url, "platypus")) == ["Platypus genomics"]

    command.downgrade(config, "0001")
    command.upgrade(config, "head")
    assert asyncio.run(found_titles(database_url, "platypus")) == ["Platypus genomics"]


async def search_objects(url: str) -> set[str]:
    """The names of the full-text search tables, columns and indexes present."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: (
                    {
                        name
                        for name in inspect(sync).get_table_names()
                        if name.startswith("paper_search")
                    }
                    | {c["name"] for c in inspect(sync).get_columns("paper")} & {"search_vector"}
                    | {i["name"] or "" for i in inspect(sync).get_indexes("paper")}
                    & {"ix_paper_search_vector"}
                )
            )
    finally:
        await engine.dispose()


async def add_paper_before_search(url: str) -> None:
    engine = create_engine(url)
    try:
        sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        await add_paper(sessions, "Platypus genomics", "Monotremes sequenced.")
    finally:
        await engine.dispose()


async def found_titles(url: str, query: str) -> list[str]:
    engine = create_engine(url)
    try:
        return await titles(engine, query)
    finally:
        await engine.dispose()
