"""The API's indicators equal the pure engine's, for every researcher of a generated corpus."""

from __future__ import annotations

from collections import defaultdict

import pytest
from sqlalchemy import insert, select

from db.tables import authorship, paper
from db.writes.indicators import refresh_indicators
from resolvers import metrics
from seeds.generate import generate_corpus
from tests.api.conftest import GraphQLClient
from tests.api.factories import add_researcher_with_papers

AS_OF = 2026
LEADERBOARD = """
query($order: ResearcherOrder!, $after: String) {
  researchers(first: 100, after: $after, orderBy: $order) {
    pageInfo { hasNextPage endCursor }
    nodes {
      slug
      metrics(asOfYear: 2026) {
        paperCount papersWithCitationCount citationCount hIndex i10Index i100Index gIndex
        mQuotient meanCitations medianCitations firstYear lastYear papersWithCode
        hCore { title }
      }
    }
  }
}
"""
FIELDS = {
    "paperCount": "paper_count",
    "papersWithCitationCount": "papers_with_citation_count",
    "citationCount": "citation_count",
    "hIndex": "h_index",
    "i10Index": "i10_index",
    "i100Index": "i100_index",
    "gIndex": "g_index",
    "mQuotient": "m_quotient",
    "meanCitations": "mean_citations",
    "medianCitations": "median_citations",
    "firstYear": "first_year",
    "lastYear": "last_year",
    "papersWithCode": "papers_with_code",
}


async def engine_figures(client: GraphQLClient) -> dict[str, metrics.Summary]:
    """Each researcher's summary straight from the tables, by slug, through the pure engine."""
    from db.tables import researcher

    statement = (
        select(
            researcher.c.slug,
            paper.c.id,
            paper.c.year,
            paper.c.citation_count,
            paper.c.primary_category,
            paper.c.has_code,
        )
        .select_from(researcher)
        .outerjoin(authorship, authorship.c.researcher_id == researcher.c.id)
        .outerjoin(paper, paper.c.id == authorship.c.paper_id)
    )
    facts: defaultdict[str, list[metrics.PaperFacts]] = defaultdict(list)
    async with client.engine.connect() as connection:
        for slug, paper_id, year, count, category, has_code in await connection.execute(statement):
            facts[slug]  # researchers without papers still have figures
            if paper_id is not None:
                facts[slug].append(metrics.PaperFacts(paper_id, year, count, category, has_code))
    return {slug: metrics.summarize(papers, as_of_year=AS_OF) for slug, papers in facts.items()}


async def leaderboard(client: GraphQLClient, field: str) -> list[dict]:
    nodes, after = [], None
    while True:
        order = {"field": field, "direction": "DESC"}
        page = (await client.data(LEADERBOARD, order=order, after=after))["researchers"]
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


@pytest.fixture
async def corpus(blank: GraphQLClient) -> GraphQLClient:
    async with blank.engine.begin() as connection:
        await generate_corpus(connection, papers=600, researchers=60, seed=11)
    return blank


async def test_every_researchers_indicators_equal_the_engines(corpus: GraphQLClient) -> None:
    expected = await engine_figures(corpus)
    served = await leaderboard(corpus, "NAME")
    assert len(served) == len(expected) == 60
    for node in served:
        summary = expected[node["slug"]]
        got = node["metrics"]
        assert {field: got[field] for field in FIELDS} == {
            field: pytest.approx(getattr(summary, name))
            if isinstance(getattr(summary, name), float)
            else getattr(summary, name)
            for field, name in FIELDS.items()
        }, node["slug"]
        assert len(got["hCore"]) == summary.h_index


@pytest.mark.parametrize(
    ("field", "indicator"),
    [("H_INDEX", "h_index"), ("CITATION_COUNT", "citation_count"), ("PAPER_COUNT", "paper_count")],
)
async def test_leaderboards_order_researchers_as_the_engine_ranks_them(
    corpus: GraphQLClient, field: str, indicator: str
) -> None:
    expected = await engine_figures(corpus)
    served = [node["slug"] for node in await leaderboard(corpus, field)]
    figures = [getattr(expected[slug], indicator) for slug in served]
    assert figures == sorted(figures, reverse=True)
    assert sorted(served) == sorted(expected)


async def test_metrics_for_a_page_of_researchers_are_batched(corpus: GraphQLClient) -> None:
    order = {"field": "H_INDEX", "direction": "DESC"}
    await corpus.data(LEADERBOARD, order=order)
    with corpus.counting() as statements:
        data = await corpus.data(LEADERBOARD, order=order)
    assert len(data["researchers"]["nodes"]) == 60
    # The page, its facts, per-year counts and the h-core papers: not one statement each.
    assert len(statements) <= 5, "\n\n".join(statements)


async def test_a_researcher_with_2000_papers_costs_a_bounded_number_of_statements(
    blank: GraphQLClient,
) -> None:
    researcher_id = await add_researcher_with_papers(blank.engine, "Prolific Author", [])
    async with blank.engine.begin() as connection:
        rows = [
            {
                "title": f"P{i}",
                "title_key": f"p{i}",
                "year": 1990 + i % 30,
                "citation_count": i % 97,
                "has_code": False,
                "authors_truncated": False,
            }
            for i in range(2000)
        ]
        ids = (await connection.execute(insert(paper).returning(paper.c.id), rows)).scalars().all()
        await connection.execute(
            insert(authorship),
            [
                {
                    "paper_id": pid,
                    "researcher_id": researcher_id,
                    "position": 1,
                    "display_name": "P",
                }
                for pid in ids
            ],
        )
        await refresh_indicators(connection, [researcher_id])
    query = """{ researcher(slug: "prolific-author") { metrics(asOfYear: 2026) {
        paperCount hIndex gIndex citationCount hCore { id } citationsByYear { year } } } }"""
    await blank.data(query)
    with blank.counting() as statements:
        data = await blank.data(query)
    figures = data["researcher"]["metrics"]
    counts = [i % 97 for i in range(2000)]
    assert figures["paperCount"] == 2000
    assert figures["hIndex"] == metrics.h_index(counts)
    assert figures["gIndex"] == metrics.g_index(counts)
    assert len(statements) <= 4, "\n\n".join(statements)


async def test_a_leaderboard_of_kept_figures_reads_no_papers(corpus: GraphQLClient) -> None:
    query = """{ researchers(first: 20, orderBy: {field: H_INDEX, direction: DESC}) {
        nodes { slug metrics { hIndex paperCount citationCount } } } }"""
    await corpus.data(query)
    with corpus.counting() as statements:
        data = await corpus.data(query)
    expected = await engine_figures(corpus)
    for node in data["researchers"]["nodes"]:
        summary = expected[node["slug"]]
        assert node["metrics"] == {
            "hIndex": summary.h_index,
            "paperCount": summary.paper_count,
            "citationCount": summary.citation_count,
        }
    # One statement: the page, its rows carrying the kept figures; no paper is read.
    assert len(statements) == 1, "\n\n".join(statements)
