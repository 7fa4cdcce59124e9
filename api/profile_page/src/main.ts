// The reference profile page: everything on it comes from one GraphQL operation, ProfilePage
// (tests/clients/operations/ProfilePage.graphql), through the types graphql-codegen generated.
import "./style.css";

import { yearChart } from "./charts";
import { append, formatNumber, h, plural } from "./dom";
import { ProfilePageDocument, type ProfilePageQuery } from "./generated/graphql";
import { execute, RequestError } from "./graphql";

type Researcher = NonNullable<ProfilePageQuery["researcher"]>;
type Papers = Researcher["papers"];
type Paper = Papers["edges"][number]["node"];

export const PAGE_SIZE = 20;
const COAUTHORS = 12;

const main = document.getElementById("main") as HTMLElement;

function slugFromPath(path: string): string {
  const match = /^\/researchers\/([^/]+)\/?$/.exec(path);
  return match?.[1] ? decodeURIComponent(match[1]) : "";
}

async function load(): Promise<void> {
  const slug = slugFromPath(window.location.pathname);
  let result: ProfilePageQuery;
  try {
    result = await execute(ProfilePageDocument, { slug, first: PAGE_SIZE, coauthors: COAUTHORS });
  } catch (error) {
    showProblem(error instanceof RequestError ? error.message : String(error));
    return;
  }
  const researcher = result.researcher;
  if (researcher === null) {
    document.title = "No such researcher — scholargraph";
    main.replaceChildren(
      h("h1", {}, "No such researcher"),
      h("p", { "data-not-found": "" }, `No researcher has the handle “${slug}”.`),
      h("p", {}, h("a", { href: "/" }, "Back to the start page")),
    );
    main.setAttribute("aria-busy", "false");
    return;
  }
  document.title = `${researcher.name} — scholargraph`;
  main.replaceChildren(
    header(researcher),
    h(
      "div",
      { class: "columns" },
      h(
        "div",
        { class: "primary" },
        h("div", { class: "charts" },
          yearChart({
            id: "citations-per-year",
            title: "Citations per year",
            unit: "Citations",
            counts: researcher.metrics.citationsByYear,
            empty: "No per-year citation counts are stored for these papers yet.",
            color: "#3a6ea5",
          }),
          yearChart({
            id: "papers-per-year",
            title: "Papers per year",
            unit: "Papers",
            counts: researcher.metrics.papersByYear,
            empty: "No dated papers.",
            color: "#8a5a9e",
          }),
        ),
        paperSection(researcher),
      ),
      h("aside", { class: "secondary" }, coauthorSection(researcher), categorySection(researcher)),
    ),
  );
  main.setAttribute("aria-busy", "false");
}

function showProblem(message: string): void {
  main.replaceChildren(
    h("h1", {}, "The profile could not be loaded"),
    h("p", { role: "alert", "data-problem": "" }, message),
  );
  main.setAttribute("aria-busy", "false");
}

// --- The header: who, and the figures computed beside the reported ones ------------------

function header(researcher: Researcher): HTMLElement {
  const { metrics, reportedMetrics: reported } = researcher;
  const identity = h("p", { class: "identity" });
  const parts: (Node | string)[] = [];
  if (researcher.institutions.length > 0) {
    parts.push(researcher.institutions.map((institution) => institution.name).join(", "));
  }
  if (researcher.orcid) {
    parts.push(h("a", { href: `https://orcid.org/${researcher.orcid}` }, `ORCID ${researcher.orcid}`));
  }
  if (researcher.homepage) {
    parts.push(h("a", { href: researcher.homepage }, "Homepage"));
  }
  if (metrics.firstYear !== null && metrics.firstYear !== undefined) {
    parts.push(`Papers from ${metrics.firstYear} to ${metrics.lastYear}`);
  }
  parts.forEach((part, index) => append(identity, index > 0 ? " · " : null, part));

  const rows = [
    figureRow("hIndex", "h-index", metrics.hIndex, reported?.hIndex),
    figureRow("citationCount", "Citations", metrics.citationCount, reported?.citationCount),
    figureRow("paperCount", "Papers", metrics.paperCount, reported?.paperCount),
    figureRow("gIndex", "g-index", metrics.gIndex, undefined),
    figureRow("i10Index", "i10-index", metrics.i10Index, undefined),
    figureRow("papersWithCode", "With code", metrics.papersWithCode, undefined),
  ];
  const notes: HTMLElement[] = [];
  if (metrics.papersWithCitationCount < metrics.paperCount) {
    notes.push(
      h(
        "p",
        { class: "note", "data-note": "citations-known" },
        `Citation counts are known for ${formatNumber(metrics.papersWithCitationCount)} of ${plural(metrics.paperCount, "paper")}; the computed figures count only those.`,
      ),
    );
  }
  if (reported) {
    const extra: string[] = [];
    if (reported.novelty !== null && reported.novelty !== undefined) {
      extra.push(`novelty ${Math.round(reported.novelty * 100)}%`);
    }
    if (reported.aiScore !== null && reported.aiScore !== undefined) {
      extra.push(`AI score ${formatNumber(reported.aiScore)}`);
    }
    const captured = reported.capturedYear ? `, captured ${reported.capturedYear}` : "";
    notes.push(
      h(
        "p",
        { class: "note", "data-note": "reported" },
        `Reported figures: from ${reported.source}${captured}${extra.length ? `, which also printed ${extra.join(" and ")}` : ""}. Computed figures: from the papers stored here.`,
      ),
    );
  }
  return h(
    "header",
    { class: "profile-header" },
    h("h1", { "data-name": "" }, researcher.name),
    identity,
    h("dl", { class: "figures-list", "data-header-figures": "" }, ...rows),
    ...notes,
  );
}

/** One figure: computed from the stored papers, and below it what the source reported. */
function figureRow(
  key: string,
  label: string,
  computed: number,
  reported: number | null | undefined,
): HTMLElement {
  const hasReported = reported !== null && reported !== undefined;
  return h(
    "div",
    { class: "figure", "data-figure": key },
    h("dt", {}, label),
    h("dd", { class: "computed", "data-computed": computed }, formatNumber(computed)),
    hasReported
      ? h(
          "dd",
          { class: "reported-line" },
          "reported ",
          h("span", { class: "reported", "data-reported": reported }, formatNumber(reported)),
        )
      : null,
  );
}

// --- Papers, with their bylines as printed, and "load more" by cursor ----------------------

function paperSection(researcher: Researcher): HTMLElement {
  const list = h("ol", { class: "papers", "data-papers": "" });
  const status = h("p", { class: "papers-status", "aria-live": "polite" });
  const button = h("button", { type: "button", class: "load-more", "data-load-more": "" }) as HTMLButtonElement;
  const section = h(
    "section",
    { class: "paper-section", id: "papers", "aria-labelledby": "papers-title" },
    h("h2", { id: "papers-title" }, `Papers (${formatNumber(researcher.papers.totalCount)})`),
    list,
    status,
    button,
  );
  let page = researcher.papers;
  let shown = 0;

  const showPage = (papers: Papers): HTMLElement | null => {
    const items = papers.edges.map(({ node }) => paperItem(node, researcher.slug));
    list.append(...items);
    shown += items.length;
    page = papers;
    const left = papers.totalCount - shown;
    status.textContent = `Showing ${formatNumber(shown)} of ${plural(papers.totalCount, "paper")}.`;
    button.hidden = !papers.pageInfo.hasNextPage;
    button.textContent = `Load ${Math.min(PAGE_SIZE, left)} more`;
    return items[0] ?? null;
  };
  showPage(page);

  button.addEventListener("click", async () => {
    button.disabled = true;
    button.textContent = "Loading…";
    try {
      const more = await execute(ProfilePageDocument, {
        slug: researcher.slug,
        first: PAGE_SIZE,
        after: page.pageInfo.endCursor,
        coauthors: 1,
      });
      const papers = more.researcher?.papers;
      if (!papers) {
        throw new RequestError("The researcher is gone.");
      }
      const first = showPage(papers);
      // Keyboard users go on reading where the new papers start.
      first?.querySelector<HTMLElement>(".paper-title")?.focus();
    } catch (error) {
      status.textContent = `Could not load more: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      button.disabled = false;
      if (!button.hidden) {
        button.textContent = `Load ${Math.min(PAGE_SIZE, page.totalCount - shown)} more`;
      }
    }
  });
  return section;
}

const DATE_FORMAT = new Intl.DateTimeFormat("en-US", { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" });

function paperDate(paper: Paper): string {
  if (paper.publishedOn) {
    return DATE_FORMAT.format(new Date(`${paper.publishedOn}T00:00:00Z`));
  }
  return paper.year === null || paper.year === undefined ? "Undated" : String(paper.year);
}

function paperUrl(paper: Paper): string | null {
  if (paper.arxivId) {
    return `https://arxiv.org/abs/${paper.arxivId}`;
  }
  return paper.doi ? `https://doi.org/${paper.doi}` : null;
}

function paperItem(paper: Paper, ownerSlug: string): HTMLElement {
  const url = paperUrl(paper);
  const title = url
    ? h("a", { href: url, class: "paper-title" }, paper.title)
    : h("span", { class: "paper-title", tabindex: -1 }, paper.title);
  const citations =
    paper.citationCount === null || paper.citationCount === undefined
      ? h("span", { class: "unknown", "data-citations": "" }, "citations unknown")
      : h("span", { "data-citations": paper.citationCount }, plural(paper.citationCount, "citation"));
  const meta = h("p", { class: "paper-meta" }, h("span", {}, paperDate(paper)));
  if (paper.primaryCategory) {
    append(meta, " · ", h("abbr", { title: paper.primaryCategory.name, class: "category" }, paper.primaryCategory.code));
  }
  append(meta, " · ", citations);
  const links = codeLinks(paper);
  return h(
    "li",
    { class: "paper", "data-paper-id": paper.id },
    h("h3", {}, title),
    byline(paper, ownerSlug),
    meta,
    links,
  );
}

/** The byline as printed: placed authors in order, "et al." where it was cut, then the
 * authors known to be on the paper whose place is not known. */
function byline(paper: Paper, ownerSlug: string): HTMLElement {
  const placed = paper.authors.filter((author) => author.position !== null && author.position !== undefined);
  const unplaced = paper.authors.filter((author) => author.position === null || author.position === undefined);
  const line = h("p", { class: "byline", "data-byline": "" });
  placed.forEach((author, index) => append(line, index > 0 ? ", " : null, authorLink(author, ownerSlug)));
  if (paper.authorsTruncated) {
    append(
      line,
      placed.length > 0 ? ", " : null,
      h("abbr", { class: "et-al", title: "The source cut this byline short", "data-et-al": "" }, "et al."),
    );
  }
  if (unplaced.length > 0) {
    const names = h("span", { class: "unplaced", "data-unplaced": "" });
    unplaced.forEach((author, index) => append(names, index > 0 ? ", " : null, authorLink(author, ownerSlug)));
    append(line, " ", h("span", { class: "unplaced-note" }, "· also on the paper, place in the byline unknown: "), names);
  }
  if (paper.institutions.length > 0) {
    append(
      line,
      h("span", { class: "institutions" }, ` · ${paper.institutions.map((institution) => institution.name).join(", ")}`),
    );
  }
  return line;
}

function authorLink(author: Paper["authors"][number], ownerSlug: string): HTMLElement {
  const slug = author.researcher.slug;
  if (slug === ownerSlug) {
    return h("strong", { class: "owner" }, author.displayName);
  }
  return h("a", { href: `/researchers/${encodeURIComponent(slug)}` }, author.displayName);
}

function codeLinks(paper: Paper): HTMLElement | null {
  const links = [...new Set([paper.codeUrl, ...paper.links].filter((link): link is string => Boolean(link)))];
  if (links.length === 0 && !paper.hasCode) {
    return null;
  }
  const list = h("p", { class: "links" });
  if (paper.hasCode) {
    append(list, h("span", { class: "badge", "data-code": "" }, "Code"));
  }
  links.forEach((link) => append(list, " ", h("a", { href: link, "data-link": "" }, shortLink(link))));
  return list;
}

function shortLink(link: string): string {
  return link.replace(/^https?:\/\/(www\.)?/, "").replace(/\/$/, "");
}

// --- Coauthors and categories ------------------------------------------------------------

function coauthorSection(researcher: Researcher): HTMLElement {
  const { edges, totalCount } = researcher.coauthors;
  const list = h("ol", { class: "coauthors", "data-coauthors": "" });
  for (const edge of edges) {
    const years =
      edge.firstYear === edge.lastYear ? `${edge.firstYear ?? ""}` : `${edge.firstYear ?? "?"}–${edge.lastYear ?? "?"}`;
    list.append(
      h(
        "li",
        { "data-coauthor": edge.node.slug, "data-shared": edge.sharedPaperCount },
        h("a", { href: `/researchers/${encodeURIComponent(edge.node.slug)}` }, edge.node.name),
        h("span", { class: "shared" }, ` ${plural(edge.sharedPaperCount, "shared paper")}`),
        years ? h("span", { class: "years" }, ` · ${years}`) : null,
      ),
    );
  }
  return h(
    "section",
    { class: "side-section", "aria-labelledby": "coauthors-title" },
    h("h2", { id: "coauthors-title" }, "Coauthors"),
    edges.length === 0 ? h("p", { class: "empty" }, "No coauthors stored.") : list,
    totalCount > edges.length
      ? h("p", { class: "note" }, `The ${edges.length} with the most shared papers, of ${formatNumber(totalCount)}.`)
      : null,
  );
}

function categorySection(researcher: Researcher): HTMLElement {
  const categories = researcher.metrics.categories;
  const most = Math.max(1, ...categories.map(({ count }) => count));
  const list = h("ul", { class: "categories", "data-categories": "" });
  for (const { category, count } of categories) {
    list.append(
      h(
        "li",
        { "data-category": category.code, "data-count": count },
        h("span", { class: "category-label" }, h("abbr", { title: category.name }, category.code), ` ${category.name}`),
        h("span", { class: "category-count" }, formatNumber(count)),
        h("span", { class: "category-bar", style: `width: ${(100 * count) / most}%`, "aria-hidden": "true" }),
      ),
    );
  }
  return h(
    "section",
    { class: "side-section", "aria-labelledby": "categories-title" },
    h("h2", { id: "categories-title" }, "Categories"),
    categories.length === 0 ? h("p", { class: "empty" }, "No categories.") : list,
  );
}

void load();
