// graphql-codegen: the page's one operation, typed from the schema the server exports. The
// operation lives with the typed-client tests (tests/clients/operations/), which run it
// against a live server, so the page's query is one the test suite already runs.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../../schema.graphql",
  documents: "../../tests/clients/operations/ProfilePage.graphql",
  generates: {
    "src/generated/graphql.ts": {
      plugins: ["typescript-operations", "typed-document-node"],
      config: {
        // Documents as typed strings: the page posts them with fetch, no GraphQL runtime shipped.
        documentMode: "string",
        enumsAsTypes: true,
        strictScalars: true,
        scalars: { Date: "string", DateTime: "string" },
        skipTypename: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
