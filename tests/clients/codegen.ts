// graphql-codegen: TypeScript types for the operations in operations/, generated from the
// SDL the server exports. Run from this folder; it writes typescript/generated/graphql.ts,
// the file typescript/report.ts imports (as ./generated/graphql.js), unless
// SCHOLARGRAPH_CODEGEN_OUT names another (tests/api/test_typed_clients.py points it into a
// temporary folder). The README's recipe:
//   npm ci && npx graphql-codegen --config codegen.ts && npx tsc -p tsconfig.json
//   node dist/report.js read http://127.0.0.1:8000/graphql
import type { CodegenConfig } from "@graphql-codegen/cli";

const out = process.env.SCHOLARGRAPH_CODEGEN_OUT || "typescript/generated/graphql.ts";

const config: CodegenConfig = {
  schema: "../../schema.graphql",
  documents: "operations/*.graphql",
  generates: {
    [out]: {
      plugins: ["typescript-operations", "typed-document-node"],
      config: {
        // Documents as typed strings: the program posts them with fetch, no GraphQL runtime.
        documentMode: "string",
        enumsAsTypes: true,
        // Every custom scalar must be mapped; both arrive as ISO 8601 strings.
        strictScalars: true,
        scalars: { Date: "string", DateTime: "string" },
        skipTypename: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
