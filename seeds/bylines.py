"""Which authors on a source's byline name someone we can follow, and which are only printed names.

An author the source identifies (an OpenAlex or Semantic Scholar author id, an
ORCID) becomes an authorship of a researcher. An author without any id cannot
be told apart from others of the same name, so it is never merged into a
researcher found by name: it stays on the byline as printed (db.models.UnlinkedAuthor).

OpenAlex repeats some bylines: after "Silvia Secchi" (with an id) comes
"Secchi, Silvia" without one. Such a repeat, in either word order or with the
given names as initials, is the same person printed twice and is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from db.names import name_key
from seeds.records import AuthorRef


def split_byline(authors: Sequence[AuthorRef]) -> tuple[list[AuthorRef], list[AuthorRef]]:
    """(authors with an id, each once; id-less names that repeat no one on the byline)."""
    for author in authors:
        if not (author.openalex_id or author.semantic_scholar_id or author.orcid):
            break
    else:  # every author has an id (AuthorRef.has_id, inline: this runs once per work)
        return list(authors), []
    identified: list[AuthorRef] = []
    unlinked: list[AuthorRef] = []
    printed: list[tuple[str, ...]] = []
    for author in authors:
        if author.has_id:
            identified.append(author)
            printed.append(_words(author.name))
            printed.append(_words(author.printed_name))
    for author in authors:
        if author.has_id:
            continue
        if any(_same_printed_person(author.printed_name, words) for words in printed):
            continue
        if any(_same_printed_person(author.name, words) for words in printed):
            continue
        unlinked.append(author)
        printed.append(_words(author.name))
    return identified, unlinked


def _same_printed_person(name: str, words: tuple[str, ...]) -> bool:
    """True when `name` prints the person whose name has these key words."""
    mine = _words(name)
    if not mine or not words:
        return False
    if sorted(mine) == sorted(words):
        return True
    if "," not in name:
        return False
    family, _, given = name.partition(",")
    family_words, given_words = _words(family), _words(given)
    if not family_words or not given_words or tuple(words[-len(family_words) :]) != family_words:
        return False
    # "Secchi, S." or "Secchi, S. M." for "Silvia M. Secchi": initials in order.
    others = words[: -len(family_words)]
    return len(others) == len(given_words) and all(
        other.startswith(part) for other, part in zip(others, given_words, strict=True)
    )


@lru_cache(maxsize=65536)
def _words(name: str) -> tuple[str, ...]:
    return tuple(name_key(name).split())
