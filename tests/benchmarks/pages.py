"""The two pages the benchmark asks for, as each server is asked, and their answers made comparable.

Each server has its own way to ask: scholargraph and PostGraphile take
GraphQL (different schemas, so different texts for the same page), the
baseline takes a plain GET. Before anything is timed, every server's answer
is read into one shape (`Profile`, `Leaderboard`) and the shapes must be
equal: the same titles, dates, categories, counts and bylines in the same
order, and the same header figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SCHOLARGRAPH_PROFILE = """
query Profile($slug: String!) {
  researcher(slug: $slug) {
    name
    metrics { hIndex citationCount paperCount }
    papers(first: 50) {
      nodes {
        title abstract publishedOn primaryCategory { code } citationCount hasCode
        authors { position researcher { name } }
      }
    }
  }
}
"""
SCHOLARGRAPH_LEADERBOARD = """
{ researchers(first: 20, orderBy: {field: H_INDEX, direction: DESC}) {
    nodes { name metrics { hIndex paperCount citationCount } } } }
"""
# PostGraphile's names come from the tables (Amber preset inflection); papersNewest is the
# function of postgraphile/schema.sql, the header figures the kept researcher_indicators row.
POSTGRAPHILE_PROFILE = """
query Profile($slug: String!) {
  researcherBySlug(slug: $slug) {
    name
    researcherIndicatorByResearcherId { hIndex citationCount paperCount }
    papersNewest(first: 50) {
      nodes {
        title abstract publishedOn categoryByPrimaryCategory { code } citationCount hasCode
        authorshipsByPaperId(orderBy: POSITION_ASC) {
          nodes { position researcherByResearcherId { name } }
        }
      }
    }
  }
}
"""
POSTGRAPHILE_LEADERBOARD = """
{ allResearcherIndicators(first: 20, orderBy: [H_INDEX_DESC, RESEARCHER_ID_ASC]) {
    nodes { hIndex paperCount citationCount researcherByResearcherId { name } } } }
"""

Profile = dict[str, Any]
Leaderboard = list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Ask:
    """One request: a path, and the JSON body of a POST (None for a GET)."""

    path: str
    body: dict[str, Any] | None = None


def profile_asks(slug: str) -> dict[str, Ask]:
    return {
        "scholargraph": Ask(
            "/graphql", {"query": SCHOLARGRAPH_PROFILE, "variables": {"slug": slug}}
        ),
        "postgraphile": Ask(
            "/graphql", {"query": POSTGRAPHILE_PROFILE, "variables": {"slug": slug}}
        ),
        "baseline": Ask(f"/profile/{slug}"),
    }


def leaderboard_asks() -> dict[str, Ask]:
    return {
        "scholargraph": Ask("/graphql", {"query": SCHOLARGRAPH_LEADERBOARD}),
        "postgraphile": Ask("/graphql", {"query": POSTGRAPHILE_LEADERBOARD}),
        "baseline": Ask("/leaderboard"),
    }


def read_profile(server: str, answer: Any) -> Profile:
    if server == "baseline":
        return _profile(
            answer,
            answer,
            [
                _paper(
                    p,
                    published_on=p["published_on"],
                    category=p["primary_category"],
                    citation_count=p["citation_count"],
                    has_code=p["has_code"],
                    authors=p["authors"],
                )
                for p in answer["papers"]
            ],
        )
    if server == "postgraphile":
        found = _data(answer)["researcherBySlug"]
        papers = found["papersNewest"]["nodes"]
        return _profile(
            found,
            found["researcherIndicatorByResearcherId"],
            [
                _graphql_paper(
                    p,
                    p["categoryByPrimaryCategory"],
                    [
                        a["researcherByResearcherId"]["name"]
                        for a in p["authorshipsByPaperId"]["nodes"]
                    ],
                )
                for p in papers
            ],
        )
    found = _data(answer)["researcher"]
    return _profile(
        found,
        found["metrics"],
        [
            _graphql_paper(p, p["primaryCategory"], [a["researcher"]["name"] for a in p["authors"]])
            for p in found["papers"]["nodes"]
        ],
    )


def read_leaderboard(server: str, answer: Any) -> Leaderboard:
    if server == "baseline":
        return [
            _leader(r["name"], r["h_index"], r["paper_count"], r["citation_count"]) for r in answer
        ]
    if server == "postgraphile":
        return [
            _leader(
                r["researcherByResearcherId"]["name"],
                r["hIndex"],
                r["paperCount"],
                r["citationCount"],
            )
            for r in _data(answer)["allResearcherIndicators"]["nodes"]
        ]
    return [
        _leader(
            r["name"],
            r["metrics"]["hIndex"],
            r["metrics"]["paperCount"],
            r["metrics"]["citationCount"],
        )
        for r in _data(answer)["researchers"]["nodes"]
    ]


def _data(answer: Any) -> Any:
    if answer.get("errors"):
        raise AssertionError(f"GraphQL errors: {answer['errors']}")
    return answer["data"]


def _profile(found: Any, figures: Any, papers: list[dict[str, Any]]) -> Profile:
    return {
        "name": found["name"],
        "hIndex": figures["hIndex"],
        "citationCount": figures["citationCount"],
        "paperCount": figures["paperCount"],
        "papers": papers,
    }


def _graphql_paper(node: Any, category: Any, authors: list[str]) -> dict[str, Any]:
    return _paper(
        node,
        published_on=node["publishedOn"],
        category=None if category is None else category["code"],
        citation_count=node["citationCount"],
        has_code=node["hasCode"],
        authors=authors,
    )


def _paper(
    node: Any,
    *,
    published_on: str | None,
    category: str | None,
    citation_count: int | None,
    has_code: bool,
    authors: list[str],
) -> dict[str, Any]:
    return {
        "title": node["title"],
        "abstract": node["abstract"],
        "publishedOn": published_on,
        "category": category,
        "citationCount": citation_count,
        "hasCode": has_code,
        "authors": authors,
    }


def _leader(name: str, h_index: int, paper_count: int, citation_count: int) -> dict[str, Any]:
    return {
        "name": name,
        "hIndex": h_index,
        "paperCount": paper_count,
        "citationCount": citation_count,
    }
