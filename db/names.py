"""The one name normaliser and the one slug maker.

Researchers match across sources by a normalised name key, papers by a
normalised title key; both must treat "Renée J. Miller" and "renee j  miller"
as the same text, so both are built here and nowhere else.
"""

from __future__ import annotations

from slugify import slugify

MAX_SLUG_LENGTH = 80


def name_key(name: str) -> str:
    """Lower-case ASCII words of a name, single-spaced: accents, case and punctuation dropped."""
    return slugify(name, separator=" ", lowercase=True)


def title_key(title: str) -> str:
    """The same normalisation for titles, so a re-typed title still matches its paper."""
    return slugify(title, separator=" ", lowercase=True)


def make_slug(name: str, *, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """A URL-safe ASCII slug for a name, made unique against `taken` with a numeric suffix."""
    base = slugify(name, max_length=MAX_SLUG_LENGTH, word_boundary=True) or "researcher"
    slug, suffix = base, 2
    while slug in taken:
        slug = f"{base}-{suffix}"
        suffix += 1
    return slug
