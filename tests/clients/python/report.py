"""Run the operations in operations/ through the client ariadne-codegen generated from them.

Prints what the typed results hold as one JSON object, the same report the TypeScript
program (typescript/report.ts) prints. It runs in the codegen virtualenv (.venv-codegen:
ariadne-codegen needs graphql-core below 3.3), with the generated package on PYTHONPATH:

    PYTHONPATH=GENERATED_DIR .venv-codegen/bin/python tests/clients/python/report.py read URL
    PYTHONPATH=GENERATED_DIR .venv-codegen/bin/python tests/clients/python/report.py write URL TOKEN
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from scholargraph_client import (
    CreateResearcherInput,
    GraphQLClientGraphQLMultiError,
    OrderDirection,
    PaperOrder,
    PaperOrderField,
    ResearcherProfile,
    ScholargraphClient,
)


def isoformat(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def summarize_profile(result: ResearcherProfile) -> dict[str, Any] | None:
    researcher = result.researcher
    if researcher is None:
        return None
    reported = researcher.reported_metrics
    return {
        "name": researcher.name,
        "hIndex": researcher.metrics.h_index,
        "paperCount": researcher.metrics.paper_count,
        "reportedHIndex": None if reported is None else reported.h_index,
        "totalCount": researcher.papers.total_count,
        "hasNextPage": researcher.papers.page_info.has_next_page,
        "papers": [
            {
                "title": edge.node.title,
                "year": edge.node.year,
                "publishedOn": isoformat(edge.node.published_on),
                "authors": [author.display_name for author in edge.node.authors],
            }
            for edge in researcher.papers.edges
        ],
        "coauthors": [
            {"slug": edge.node.slug, "sharedPaperCount": edge.shared_paper_count}
            for edge in researcher.coauthors.edges
        ],
    }


def profile_page(client: ScholargraphClient) -> dict[str, Any] | None:
    """The profile page's query (api/profile_page/), then its "load more" by cursor."""
    researcher = client.profile_page(slug="david-bau", first=3, coauthors=3).researcher
    if researcher is None:
        return None
    more = client.profile_page(
        slug="david-bau", first=3, after=researcher.papers.page_info.end_cursor, coauthors=1
    ).researcher
    metrics, reported = researcher.metrics, researcher.reported_metrics
    return {
        "name": researcher.name,
        "computed": [metrics.h_index, metrics.citation_count, metrics.paper_count],
        "reported": None
        if reported is None
        else [reported.h_index, reported.citation_count, reported.paper_count],
        "papersByYear": [[each.year, each.count] for each in metrics.papers_by_year],
        "citationsByYear": [[each.year, each.count] for each in metrics.citations_by_year],
        "categories": [[each.category.code, each.count] for each in metrics.categories],
        "titles": [edge.node.title for edge in researcher.papers.edges],
        "moreTitles": [] if more is None else [edge.node.title for edge in more.papers.edges],
        "coauthors": [
            [edge.node.slug, edge.shared_paper_count] for edge in researcher.coauthors.edges
        ],
    }


def read(client: ScholargraphClient) -> dict[str, Any]:
    profile = client.researcher_profile(slug="david-bau", first=5)
    order = PaperOrder(field=PaperOrderField.TITLE, direction=OrderDirection.ASC)
    found = client.search_papers(query="editing", first=5, order_by=order).papers
    newest = profile.researcher.papers.edges[0].node if profile.researcher else None
    return {
        "profile": summarize_profile(profile),
        "unknown": summarize_profile(client.researcher_profile(slug="no-such-researcher", first=5)),
        "search": {
            "totalCount": found.total_count,
            "titles": [paper.title for paper in found.nodes],
        },
        "page": profile_page(client),
        # What pydantic made of the JSON: generated models, and the Date scalar as a date.
        "pythonTypes": {
            "result": type(profile).__name__,
            "publishedOn": None if newest is None else type(newest.published_on).__name__,
        },
    }


def write(client: ScholargraphClient, url: str) -> dict[str, Any]:
    created = client.create_researcher(
        input=CreateResearcherInput(name="Renée J. Miller", orcid="0000-0002-1825-0097")
    ).create_researcher.researcher
    refused = client.create_researcher(
        input=CreateResearcherInput(name="Nobody", orcid="0000-0002-1825-0098")
    ).create_researcher
    with ScholargraphClient(url=url, headers={"Authorization": "Bearer sg_wrong"}) as stranger:
        try:
            stranger.create_researcher(input=CreateResearcherInput(name="Mallory"))
            wrong_token = None
        except GraphQLClientGraphQLMultiError as error:
            [first_error] = error.errors
            code = (first_error.extensions or {}).get("code")
            wrong_token = {"message": first_error.message, "code": code}
    read_back = None if created is None else client.researcher_profile(slug=created.slug, first=5)
    return {
        "created": None
        if created is None
        else {"slug": created.slug, "name": created.name, "orcid": created.orcid},
        "readBack": None if read_back is None else summarize_profile(read_back),
        "refused": {
            "researcher": None if refused.researcher is None else refused.researcher.slug,
            "userErrors": [
                {"field": error.field, "code": error.code.value, "message": error.message}
                for error in refused.user_errors
            ],
        },
        "wrongToken": wrong_token,
        # The error code is the generated enum, not a string.
        "pythonTypes": {"userErrorCode": [type(e.code).__name__ for e in refused.user_errors]},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["read", "write"])
    parser.add_argument("url", help="the server's /graphql address")
    parser.add_argument("token", nargs="?", help="a token with the write scope (write only)")
    args = parser.parse_args()
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else None
    with ScholargraphClient(url=args.url, headers=headers) as client:
        report = read(client) if args.mode == "read" else write(client, args.url)
    json.dump(report, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
