"""The checks mutations run before touching the database."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from resolvers.mutations.transactions import problem_of
from resolvers.mutations.validation import (
    Problem,
    ProblemCode,
    Problems,
    RejectedError,
    check_year_counts,
    checked_arxiv_id,
    checked_doi,
    checked_id,
    checked_name,
    checked_orcid,
    checked_slug,
    checked_title,
    checked_url,
)

PATH = ("input", "x")


def _problems_of(check: object, value: object, **options: object) -> tuple[object, list[str]]:
    problems = Problems()
    clean = check(value, PATH, problems, **options)  # type: ignore[operator]
    return clean, [problem.message for problem in problems.found]


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("10.1145/3442188.3445922", "10.1145/3442188.3445922"),
        ("  https://doi.org/10.48550/ARXIV.2202.05262 ", "10.48550/arxiv.2202.05262"),
        ("http://dx.doi.org/10.1000/ABC", "10.1000/abc"),
        ("doi:10.1000/x(y)", "10.1000/x(y)"),
    ],
)
def test_dois_are_stored_in_lower_case_without_their_prefix(given: str, stored: str) -> None:
    assert _problems_of(checked_doi, given) == (stored, [])


@pytest.mark.parametrize("given", ["", "10.1/x", "11.1000/x", "10.1000/", "10.1000/a b", "doi"])
def test_malformed_dois_are_invalid(given: str) -> None:
    _, messages = _problems_of(checked_doi, given)
    assert messages == [f"{given!r} is not a DOI (10.NNNN/suffix)."]


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2210.07229", "2210.07229"),
        ("2210.07229v3", "2210.07229v3"),
        ("0704.0001", "0704.0001"),
        ("arXiv:2210.07229", "2210.07229"),
        ("cs/0112017", "cs/0112017"),
        ("hep-th/9901001v2", "hep-th/9901001v2"),
        ("math.AG/0309136", "math.AG/0309136"),
    ],
)
def test_arxiv_ids_of_both_styles_are_accepted(given: str, stored: str) -> None:
    assert _problems_of(checked_arxiv_id, given) == (stored, [])


@pytest.mark.parametrize(
    "given", ["2213.07229", "2210.7229", "2210.072291", "2210.07229v0", "cs/011201", "CS/0112017"]
)
def test_malformed_arxiv_ids_are_invalid(given: str) -> None:
    _, messages = _problems_of(checked_arxiv_id, given)
    assert len(messages) == 1


def test_orcid_check_digits_are_verified() -> None:
    assert _problems_of(checked_orcid, "0000-0002-1825-0097") == ("0000-0002-1825-0097", [])
    assert _problems_of(checked_orcid, "https://orcid.org/0000-0002-9079-593x")[1] == []
    assert _problems_of(checked_orcid, "0000-0002-1825-0098")[1] == [
        "'0000-0002-1825-0098' is not an ORCID iD: its check digit (the last character) does"
        " not match the other 15 digits, so one of them is probably mistyped."
    ]


@pytest.mark.parametrize(
    ("given", "ok"),
    [
        ("https://example.org/x", True),
        ("http://localhost:8000", True),
        ("ftp://example.org", False),
        ("example.org", False),
        ("https://", False),
        ("https://exa mple.org", False),
    ],
)
def test_urls_need_http_and_a_host(given: str, ok: bool) -> None:
    assert (_problems_of(checked_url, given)[1] == []) is ok


def test_titles_and_names_are_stripped_and_must_say_something() -> None:
    assert _problems_of(checked_title, "  A title ") == ("A title", [])
    assert _problems_of(checked_title, " \t ")[1] == ["The title is empty."]
    assert _problems_of(checked_title, "x" * 1001)[1] == [
        "The title is longer than 1000 characters."
    ]
    assert _problems_of(checked_name, "...")[1] == ["The name has no letters or digits."]
    assert _problems_of(checked_name, " Renée ") == ("Renée", [])


def test_slugs_are_lower_case_words() -> None:
    assert _problems_of(checked_slug, "microsoft-research") == ("microsoft-research", [])
    assert len(_problems_of(checked_slug, "Microsoft Research")[1]) == 1


def test_ids_of_the_wrong_type_or_shape_are_problems_not_errors() -> None:
    problems = Problems()
    assert checked_id("UGFwZXI6MQ", "Paper", PATH, problems) == 1
    assert checked_id("UGFwZXI6MQ", "Researcher", PATH, problems) is None
    assert checked_id("%%%", "Paper", PATH, problems) is None
    assert problems.found == [
        Problem(PATH, "ID 'UGFwZXI6MQ' is a Paper, not a Researcher.", ProblemCode.INVALID),
        Problem(PATH, "Not a valid ID: '%%%'.", ProblemCode.INVALID),
    ]


def test_per_year_counts_are_checked_together() -> None:
    problems = Problems()
    check_year_counts(
        10,
        [(2020, 4), (2020, 1), (1850, 2), (2027, 1), (2021, -1), (2022, 9)],
        PATH,
        problems,
        this_year=2025,
    )
    assert [(p.field, p.message) for p in problems.found] == [
        ((*PATH, "1", "year"), "2020 is given twice."),
        ((*PATH, "2", "year"), "1850 is not between 1900 and 2026."),
        ((*PATH, "3", "year"), "2027 is not between 1900 and 2026."),
        ((*PATH, "4", "count"), "A count cannot be negative (-1)."),
        (PATH, "The per-year counts add up to more than the total (10)."),
    ]


def test_problems_raise_together() -> None:
    problems = Problems()
    problems.reject_if_any()  # nothing found: nothing raised
    problems.invalid(PATH, "a")
    problems.conflict(("y",), "b")
    with pytest.raises(RejectedError) as raised:
        problems.reject_if_any()
    assert [p.code for p in raised.value.problems] == [ProblemCode.INVALID, ProblemCode.CONFLICT]


@pytest.mark.parametrize(
    ("driver_message", "expected"),
    [
        (
            'duplicate key value violates unique constraint "uq_paper_doi"',
            (("input", "doi"), ProblemCode.CONFLICT),
        ),
        ("UNIQUE constraint failed: paper.arxiv_id", (("input", "arxivId"), ProblemCode.CONFLICT)),
        ("UNIQUE constraint failed: researcher.slug", (("input", "name"), ProblemCode.CONFLICT)),
        (
            'duplicate key value violates unique constraint "uq_researcher_semantic_scholar_id"',
            (("input", "semanticScholarId"), ProblemCode.CONFLICT),
        ),
        ("FOREIGN KEY constraint failed", (None, ProblemCode.NOT_FOUND)),
        ("CHECK constraint failed: something", (None, ProblemCode.CONFLICT)),
    ],
)
def test_a_constraint_violation_at_commit_becomes_a_problem(
    driver_message: str, expected: tuple[object, ProblemCode]
) -> None:
    error = IntegrityError("INSERT ...", {}, Exception(driver_message))
    problem = problem_of(error)
    assert (problem.field, problem.code) == expected
    assert "INSERT" not in problem.message
