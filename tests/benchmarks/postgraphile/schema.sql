-- What PostGraphile needs beyond the tables of `public` to answer the benchmark's profile
-- page: a researcher's papers newest first, in the order scholargraph's
-- `papers(orderBy: PUBLISHED_ON DESC)` gives them (unknown dates as the oldest, then id).
-- The header figures come from the kept table researcher_indicators through its foreign key.
-- Applied (idempotently) by tests/benchmarks/bench_api.py before PostGraphile starts.
CREATE SCHEMA IF NOT EXISTS postgraphile_bench;

CREATE OR REPLACE FUNCTION postgraphile_bench.researcher_papers_newest(r public.researcher)
RETURNS SETOF public.paper
LANGUAGE sql STABLE AS $$
  SELECT p.*
  FROM public.paper AS p
  JOIN public.authorship AS a ON a.paper_id = p.id
  WHERE a.researcher_id = r.id
  ORDER BY coalesce(p.year, 0) DESC, coalesce(p.published_on, DATE '0001-01-01') DESC, p.id DESC
$$;
