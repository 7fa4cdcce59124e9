"""Full-text search over paper titles and abstracts, ranked by relevance.

The index lives in the database and follows every write to `paper` by itself
(migration 0002): an FTS5 table kept by triggers on SQLite, a generated
tsvector column with a GIN index on PostgreSQL.

User text never reaches either query language as written. It is cut into
words (runs of letters and digits, after NFC normalisation), a word repeated
counts once (case ignored; it keeps its last place, so the word being typed
stays last), English stop words are dropped ("a", "the", "of": STOP_WORDS,
PostgreSQL's own list, so that both backends drop the same ones), and both
backends get the same query from the words left:

- every word must occur (AND), stemmed (English / Porter);
- the last word also matches as a prefix, so search-as-you-type works
  ("interpret" finds "interpretability");
- quotes, `*`, `-`, `:`, parentheses, `OR`, `NEAR` ... are punctuation or
  plain words, never operators.

SQLite:      "w1" "w2" "w3"*            (FTS5 phrases; a space is AND)
PostgreSQL:  'w1' & 'w2' & 'w3':*       (to_tsquery('english', ...))

Both strings are bound parameters. A search may hold at most MAX_WORDS
distinct words and MAX_CHARACTERS characters of them (SearchTooLongError
past either): each word is one more pass over the index, and FTS5 takes
time quadratic in the number of phrases (6,000 took 30 s).

A search of stop words only ("a", "a a a ...", "the") finds nothing on both:
on PostgreSQL it always did (to_tsquery drops them), and on SQLite "a" as a
prefix matched every paper, so each such search ranked and counted the whole
corpus (0.4 s for 200,000 papers). A stop word is not a prefix either: "the"
does not find "theory", as on PostgreSQL.

Difference that remains: SQLite ignores accents (remove_diacritics),
PostgreSQL does not (no unaccent extension).

Relevance is defined here, the same on both backends, rather than by either
engine's scorer (bm25 and ts_rank_cd order the same papers differently):
the more of the search's words a paper's title holds, the better; among
equals, the shorter title (the tighter match, as bm25's length
normalisation has it); then the paper id (the ordering's last key). The
rank is one double, lower is better: minus the title's words plus its
length in millionths, deterministic for the same query and data and fit
for a pagination cursor.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from sqlalchemy import (
    ColumnElement,
    Double,
    Integer,
    String,
    Subquery,
    case,
    cast,
    column,
    func,
    literal_column,
    select,
    table,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.sql.elements import ColumnClause
from sqlalchemy.sql.selectable import ScalarSelect

WORD = re.compile(r"[^\W_]+")

MAX_WORDS = 32
MAX_CHARACTERS = 500
# Titles longer than this rank as this long, so that a length never outweighs a word.
_LONGEST_TITLE = 999_999

_fts = table("paper_search", column("rowid", Integer), column("title", String))
# FTS5's hidden column named after the table: the left side of MATCH.
_fts_table: ColumnClause[str] = literal_column("paper_search")
_paper = table(
    "paper", column("id", Integer), column("title", String), column("search_vector", TSVECTOR)
)


# PostgreSQL's English stop words (share/tsearch_data/english.stop, what to_tsquery('english')
# drops), dropped from every search before either backend sees it.
STOP_WORDS = frozenset(
    """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his himself
    she her hers herself it its itself they them their theirs themselves what which who whom
    this that these those am is are was were be been being have has had having do does did
    doing a an the and but if or because as until while of at by for with about against between
    into through during before after above below to from up down in out on off over under again
    further then once here there when where why how all any both each few more most other some
    such no nor not only own same so than too very s t can will just don should now
    """.split()
)


class SearchTooLongError(ValueError):
    """Search text with more distinct words or characters than a search may hold."""


def search_words(query: str) -> list[str]:
    """The words of a user's search text, in order; punctuation and symbols are dropped."""
    return WORD.findall(unicodedata.normalize("NFC", query))


def search_terms(query: str) -> list[str]:
    """The distinct words of a search (case ignored), each at its last place, within the limits.

    Raises SearchTooLongError when they are more than MAX_WORDS words or MAX_CHARACTERS
    characters (joined by spaces).
    """
    words = search_words(query)
    last_place = {word.lower(): place for place, word in enumerate(words)}
    terms = [word for place, word in enumerate(words) if last_place[word.lower()] == place]
    characters = len(" ".join(terms))
    if len(terms) > MAX_WORDS or characters > MAX_CHARACTERS:
        raise SearchTooLongError(
            f"Search text is too long: {len(terms)} distinct word{'' if len(terms) == 1 else 's'},"
            f" {characters} characters;"
            f" a search may hold at most {MAX_WORDS} words and {MAX_CHARACTERS} characters"
            " (a repeated word counts once)."
        )
    return terms


def searched_terms(query: str) -> list[str]:
    """The words a search looks for: its distinct words (search_terms) but the stop words."""
    return [term for term in search_terms(query) if term.lower() not in STOP_WORDS]


def fts5_query(words: list[str]) -> str:
    """An FTS5 query requiring every word, the last one as a prefix: `"a" "b" "c"*`."""
    return " ".join(f'"{word}"' for word in words) + "*"


def tsquery(words: list[str]) -> str:
    """A to_tsquery text requiring every word, the last one as a prefix: `'a' & 'b' & 'c':*`."""
    return " & ".join(f"'{word}'" for word in words) + ":*"


def paper_matches(query: str, *, dialect: str) -> Subquery | None:
    """Papers matching a user's search text: a subquery with columns paper_id and rank,
    where a lower rank is a better match; None when the text has no word but stop words.

    Raises SearchTooLongError for text over the limits (stop words count there).
    """
    terms = searched_terms(query)
    if not terms:
        return None
    if dialect == "sqlite":
        matched = _fts_table.bool_op("MATCH")(fts5_query(terms))
        # The title from paper itself: paper_search's own title column is external
        # content, read back through a statement of its own per row (twice the time).
        rank = _rank(_sqlite_title_hits(terms), _paper.c.title)
        return (
            select(_fts.c.rowid.label("paper_id"), rank.label("rank"))
            .select_from(_fts.join(_paper, _paper.c.id == _fts.c.rowid))
            .where(matched)
            .subquery("paper_matches")
        )
    if dialect == "postgresql":
        matched = _paper.c.search_vector.bool_op("@@")(_to_tsquery(tsquery(terms)))
        rank = _rank(_postgresql_title_hits(terms), _paper.c.title)
        return (
            select(_paper.c.id.label("paper_id"), rank.label("rank"))
            .where(matched)
            .subquery("paper_matches")
        )
    raise ValueError(f"full-text search is not available on {dialect!r}")


def _rank(title_hits: ColumnElement[int], title: ColumnClause[str]) -> ColumnElement[float]:
    """Minus the words found in the title, plus the title's length in millionths.

    Every step is double arithmetic on both backends, so both compute the same doubles.
    """
    length = func.length(title, type_=Integer())
    capped = case((length > _LONGEST_TITLE, _LONGEST_TITLE), else_=length)
    rank = cast(capped, Double()) / (_LONGEST_TITLE + 1) - cast(title_hits, Double())
    return type_coerce(rank, Double())


def _sqlite_title_hits(terms: list[str]) -> ColumnElement[int]:
    """How many of the terms the title holds: one FTS5 search of the title column per term."""
    last = len(terms) - 1
    return _count_true(
        _fts.c.rowid.in_(_fts5_title_search(term, prefix=place == last))
        for place, term in enumerate(terms)
    )


def _fts5_title_search(term: str, *, prefix: bool) -> ScalarSelect[int]:
    phrase = f'title : "{term}"' + ("*" if prefix else "")
    # Not correlated: the inner paper_search is a search of its own.
    matched = _fts_table.bool_op("MATCH")(phrase)
    return select(_fts.c.rowid).where(matched).correlate(None).scalar_subquery()


def _postgresql_title_hits(terms: list[str]) -> ColumnElement[int]:
    """How many of the terms the title (the vector's weight class A) holds."""
    title_vector = func.ts_filter(_paper.c.search_vector, literal_column("'{a}'"), type_=TSVECTOR())
    last = len(terms) - 1
    return _count_true(
        title_vector.bool_op("@@")(_to_tsquery(tsquery([term]) if place == last else f"'{term}'"))
        for place, term in enumerate(terms)
    )


def _count_true(conditions: Iterable[ColumnElement[bool]]) -> ColumnElement[int]:
    ones = [case((condition, 1), else_=0) for condition in conditions]
    return sum(ones[1:], ones[0])


def _to_tsquery(text: str) -> ColumnElement[object]:
    return func.to_tsquery(literal_column("'english'"), text, type_=TSQUERY())
