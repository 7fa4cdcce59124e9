// Runs the operations in operations/ with fetch and the types graphql-codegen generated from
// them (into typescript/generated/), and prints what the typed results hold as one JSON
// object: the same report python/report.py prints.
//   node dist/report.js read URL
//   node dist/report.js write URL TOKEN
import {
  CreateResearcherDocument,
  ProfilePageDocument,
  ResearcherProfileDocument,
  SearchPapersDocument,
  type CreateResearcherInput,
  type ProfilePageQuery,
  type ResearcherProfileQuery,
  type TypedDocumentString,
} from "./generated/graphql.js";

interface GraphQLError {
  message: string;
  extensions?: { code?: string };
}

class GraphQLErrors extends Error {
  constructor(readonly errors: GraphQLError[]) {
    super(errors.map((error) => error.message).join("; "));
  }
}

/** Posts a document; its result and variables have the types generated for it. */
async function execute<TResult, TVariables>(
  url: string,
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  token?: string,
): Promise<TResult> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/graphql-response+json",
  };
  if (token !== undefined) {
    headers.authorization = `Bearer ${token}`;
  }
  const response = await fetch(url, {
    method: "POST",
    headers,
    body: JSON.stringify({ query: document.toString(), variables }),
  });
  const body = (await response.json()) as { data?: TResult | null; errors?: GraphQLError[] };
  if (body.errors !== undefined && body.errors.length > 0) {
    throw new GraphQLErrors(body.errors);
  }
  if (!response.ok || body.data == null) {
    throw new Error(`${url} answered ${response.status} without data`);
  }
  return body.data;
}

function summarizeProfile(result: ResearcherProfileQuery) {
  const researcher = result.researcher;
  if (researcher === null) {
    return null;
  }
  return {
    name: researcher.name,
    hIndex: researcher.metrics.hIndex,
    paperCount: researcher.metrics.paperCount,
    reportedHIndex: researcher.reportedMetrics?.hIndex ?? null,
    totalCount: researcher.papers.totalCount,
    hasNextPage: researcher.papers.pageInfo.hasNextPage,
    papers: researcher.papers.edges.map(({ node }) => ({
      title: node.title,
      year: node.year,
      publishedOn: node.publishedOn,
      authors: node.authors.map((author) => author.displayName),
    })),
    coauthors: researcher.coauthors.edges.map((edge) => ({
      slug: edge.node.slug,
      sharedPaperCount: edge.sharedPaperCount,
    })),
  };
}

/** The profile page's query (api/profile_page/), then its "load more": the next page by cursor. */
async function profilePage(url: string) {
  const first: ProfilePageQuery = await execute(url, ProfilePageDocument, {
    slug: "david-bau",
    first: 3,
    coauthors: 3,
  });
  const researcher = first.researcher;
  if (researcher === null) {
    return null;
  }
  const more = await execute(url, ProfilePageDocument, {
    slug: "david-bau",
    first: 3,
    after: researcher.papers.pageInfo.endCursor,
    coauthors: 1,
  });
  const { metrics, reportedMetrics: reported } = researcher;
  return {
    name: researcher.name,
    computed: [metrics.hIndex, metrics.citationCount, metrics.paperCount],
    reported: reported && [reported.hIndex, reported.citationCount, reported.paperCount],
    papersByYear: metrics.papersByYear.map(({ year, count }) => [year, count]),
    citationsByYear: metrics.citationsByYear.map(({ year, count }) => [year, count]),
    categories: metrics.categories.map(({ category, count }) => [category.code, count]),
    titles: researcher.papers.edges.map(({ node }) => node.title),
    moreTitles: (more.researcher?.papers.edges ?? []).map(({ node }) => node.title),
    coauthors: researcher.coauthors.edges.map((edge) => [edge.node.slug, edge.sharedPaperCount]),
  };
}

async function read(url: string) {
  const profile = await execute(url, ResearcherProfileDocument, { slug: "david-bau", first: 5 });
  const unknown = await execute(url, ResearcherProfileDocument, {
    slug: "no-such-researcher",
    first: 5,
  });
  const { papers } = await execute(url, SearchPapersDocument, {
    query: "editing",
    first: 5,
    orderBy: { field: "TITLE", direction: "ASC" },
  });
  return {
    profile: summarizeProfile(profile),
    unknown: summarizeProfile(unknown),
    search: { totalCount: papers.totalCount, titles: papers.nodes.map((paper) => paper.title) },
    page: await profilePage(url),
  };
}

async function write(url: string, token: string) {
  const create = (input: CreateResearcherInput, as: string) =>
    execute(url, CreateResearcherDocument, { input }, as);
  const created = (
    await create({ name: "Renée J. Miller", orcid: "0000-0002-1825-0097" }, token)
  ).createResearcher.researcher;
  const refused = (await create({ name: "Nobody", orcid: "0000-0002-1825-0098" }, token))
    .createResearcher;
  let wrongToken: { message: string; code: string | null } | null = null;
  try {
    await create({ name: "Mallory" }, "sg_wrong");
  } catch (error) {
    if (!(error instanceof GraphQLErrors) || error.errors[0] === undefined) {
      throw error;
    }
    const [first] = error.errors;
    wrongToken = { message: first.message, code: first.extensions?.code ?? null };
  }
  const readBack =
    created === null
      ? null
      : summarizeProfile(
          await execute(url, ResearcherProfileDocument, { slug: created.slug, first: 5 }),
        );
  return {
    created: created && { slug: created.slug, name: created.name, orcid: created.orcid },
    readBack,
    refused: {
      researcher: refused.researcher?.slug ?? null,
      userErrors: refused.userErrors.map(({ field, code, message }) => ({ field, code, message })),
    },
    wrongToken,
  };
}

const [mode, url, token] = process.argv.slice(2);
if (url === undefined || (mode !== "read" && mode !== "write") || (mode === "write" && !token)) {
  process.stderr.write("usage: node dist/report.js read URL | write URL TOKEN\n");
  process.exit(2);
}
const report = mode === "read" ? await read(url) : await write(url, token ?? "");
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
