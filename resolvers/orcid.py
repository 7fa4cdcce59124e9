"""ORCID iDs: one reading for writes and lookups alike.

An iD is 16 characters in four groups of four, the last a check digit (0-9 or X,
ISO 7064 MOD 11-2). It may be written bare (0000-0002-1825-0097) or as its
address (https://orcid.org/0000-0002-1825-0097); it is stored and looked up bare.
"""

from __future__ import annotations

import re

_ORCID = re.compile(r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]")
_PREFIXES = ("https://orcid.org/", "http://orcid.org/", "orcid.org/")


class OrcidError(ValueError):
    """Not an ORCID iD; the message says why, for the caller to read."""


def parse_orcid(text: str) -> str:
    """The bare iD `text` names; OrcidError when it is malformed or its check digit is wrong."""
    clean = text.strip()
    for prefix in _PREFIXES:
        if clean.lower().startswith(prefix):
            clean = clean[len(prefix) :]
            break
    clean = clean.rstrip("/").upper()
    if not _ORCID.fullmatch(clean):
        raise OrcidError(
            f"{text!r} is not an ORCID iD: an iD is four groups of four digits joined by "
            "hyphens, the last character 0-9 or X, alone or after https://orcid.org/."
        )
    if check_digit(clean[:-1]) != clean[-1]:
        raise OrcidError(
            f"{text!r} is not an ORCID iD: its check digit (the last character) does not "
            "match the other 15 digits, so one of them is probably mistyped."
        )
    return clean


def check_digit(digits: str) -> str:
    """ISO 7064 MOD 11-2 over the first 15 digits, as ORCID computes it."""
    total = 0
    for digit in digits.replace("-", ""):
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)
