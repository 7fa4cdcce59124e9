"""ORCID iDs read one way for writes and lookups: bare or as an orcid.org address."""

from __future__ import annotations

import pytest

from resolvers.orcid import OrcidError, check_digit, parse_orcid

WRONG_CHECK_DIGIT = (
    "{!r} is not an ORCID iD: its check digit (the last character) does not match the other"
    " 15 digits, so one of them is probably mistyped."
)
WRONG_SHAPE = (
    "{!r} is not an ORCID iD: an iD is four groups of four digits joined by hyphens, the last"
    " character 0-9 or X, alone or after https://orcid.org/."
)


@pytest.mark.parametrize(
    "given",
    [
        "0000-0002-1825-0097",
        " 0000-0002-1825-0097 ",
        "https://orcid.org/0000-0002-1825-0097",
        "http://orcid.org/0000-0002-1825-0097",
        "HTTPS://ORCID.ORG/0000-0002-1825-0097/",
        "orcid.org/0000-0002-1825-0097",
    ],
)
def test_the_bare_id_and_its_addresses_read_the_same(given: str) -> None:
    assert parse_orcid(given) == "0000-0002-1825-0097"


def test_an_x_check_digit_is_upper_cased() -> None:
    assert parse_orcid("https://orcid.org/0000-0002-9079-593x") == "0000-0002-9079-593X"


@pytest.mark.parametrize(
    ("given", "right"),
    [
        ("0000-0002-1825-0098", "0000-0002-1825-0097"),
        ("0000-0000-0000-0000", "0000-0000-0000-0001"),
    ],
)
def test_a_wrong_check_digit_says_so_and_suggests_no_id(given: str, right: str) -> None:
    with pytest.raises(OrcidError) as raised:
        parse_orcid(given)
    assert str(raised.value) == WRONG_CHECK_DIGIT.format(given)
    assert right not in str(raised.value)  # an iD that checks out could be someone else's


@pytest.mark.parametrize(
    "given",
    ["", "0000000218250097", "0000-0002-1825-009", "https://example.org/0000-0002-1825-0097"],
)
def test_a_malformed_id_says_what_an_id_looks_like(given: str) -> None:
    with pytest.raises(OrcidError) as raised:
        parse_orcid(given)
    assert str(raised.value) == WRONG_SHAPE.format(given)


def test_the_check_digit_is_iso_7064_mod_11_2() -> None:
    # ORCID's own examples.
    assert check_digit("0000-0002-1825-009") == "7"
    assert check_digit("0000-0001-5109-370") == "0"
    assert check_digit("0000-0002-1694-233") == "X"
