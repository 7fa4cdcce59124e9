// PostGraphile v5 as the peer of `make bench` (tests/benchmarks/bench_api.py starts it).
// The Amber preset, as a new project gets it, over the benchmark's database: the tables of
// `public` as they are, plus the schema postgraphile_bench (schema.sql) for what the profile
// page needs beyond plain relations. Production mode, no GraphiQL, no explain, no watch.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public", "postgraphile_bench"],
    }),
  ],
  grafserv: {
    host: "127.0.0.1",
    port: Number(process.env.PORT),
    graphiql: false,
    watch: false,
  },
  grafast: { explain: false },
};

export default preset;
