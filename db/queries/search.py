"""Full-text search over paper titles and abstracts, ranked by relevance.

The index lives in the database and follows every write to `paper` by itself
(migration 0002): an FTS5 table kept by triggers on SQLite, a generated
tsvector column with a GIN index on PostgreSQL.

User text never reaches either query language as written. It is cut into
words (runs of letters and digits, after NFC normalisation), and both
backends get the same query from those words:

- every word must occur (AND), stemmed (English / Porter);
- the last word also matches as a prefix, so search-as-you-type works
  ("interpret" finds "interpretability");
- quotes, `*`, `-`, `:`, parentheses, `OR`, `NEAR` ... are punctuation or
  plain words, never operators.

SQLite:      "w1" "w2" "w3"*            (FTS5 phrases; a space is AND)
PostgreSQL:  'w1' & 'w2' & 'w3':*       (to_tsquery('english', ...))

Both strings are bound parameters. Differences that remain: SQLite ignores
accents (remove_diacritics), PostgreSQL does not (no unaccent extension);
PostgreSQL drops English stop words ("the", "or"), SQLite keeps them.

A title match outranks an abstract-only one: the title weighs ten times the
abstract on both backends (bm25 column weights; ts_rank_cd weights, the
title being weight class A and the abstract B). The rank is negated where
needed so that lower is better, and is a deterministic double for the same
query and data, fit for a pagination cursor.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import Double, Integer, Subquery, cast, column, func, literal_column, select, table
from sqlalchemy.dialects.postgresql import REAL, TSQUERY, TSVECTOR
from sqlalchemy.sql.elements import ColumnClause
from sqlalchemy.sql.functions import Function

WORD = re.compile(r"[^\W_]+")

TITLE_WEIGHT = 10.0
ABSTRACT_WEIGHT = 1.0
# ts_rank_cd weights in the order {D, C, B, A}; the title is A, the abstract B.
TS_RANK_WEIGHTS = "'{0.1, 0.1, 0.1, 1.0}'::float4[]"

_fts = table("paper_search", column("rowid", Integer))
# FTS5's hidden column named after the table: the left side of MATCH, the first argument of bm25.
_fts_table: ColumnClause[str] = literal_column("paper_search")
_paper = table("paper", column("id", Integer), column("search_vector", TSVECTOR))


def search_words(query: str) -> list[str]:
    """The words of a user's search text, in order; punctuation and symbols are dropped."""
    return WORD.findall(unicodedata.normalize("NFC", query))


def fts5_query(words: list[str]) -> str:
    """An FTS5 query requiring every word, the last one as a prefix: `"a" "b" "c"*`."""
    return " ".join(f'"{word}"' for word in words) + "*"


def tsquery(words: list[str]) -> str:
    """A to_tsquery text requiring every word, the last one as a prefix: `'a' & 'b' & 'c':*`."""
    return " & ".join(f"'{word}'" for word in words) + ":*"


def paper_matches(query: str, *, dialect: str) -> Subquery | None:
    """Papers matching a user's search text: a subquery with columns paper_id and rank,
    where a lower rank is a better match; None when the text has no searchable word."""
    words = search_words(query)
    if not words:
        return None
    if dialect == "sqlite":
        return (
            select(
                _fts.c.rowid.label("paper_id"),
                func.bm25(_fts_table, TITLE_WEIGHT, ABSTRACT_WEIGHT, type_=Double()).label("rank"),
            )
            .select_from(_fts)
            .where(_fts_table.bool_op("MATCH")(fts5_query(words)))
            .subquery("paper_matches")
        )
    if dialect == "postgresql":
        matched = func.to_tsquery(literal_column("'english'"), tsquery(words), type_=TSQUERY())
        relevance: Function[float] = func.ts_rank_cd(
            literal_column(TS_RANK_WEIGHTS), _paper.c.search_vector, matched, type_=REAL()
        )
        return (
            select(_paper.c.id.label("paper_id"), cast(-relevance, Double()).label("rank"))
            .where(_paper.c.search_vector.bool_op("@@")(matched))
            .subquery("paper_matches")
        )
    raise ValueError(f"full-text search is not available on {dialect!r}")
