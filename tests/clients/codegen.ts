// graphql-codegen: TypeScript types for the operations in operations/, generated from the
// SDL the server exports. Run from this folder with SCHOLARGRAPH_CODEGEN_OUT naming the file
// to write (tests/api/test_typed_clients.py points it into a temporary folder):
//   SCHOLARGRAPH_CODEGEN_OUT=/tmp/ts/src/generated/graphql.ts npx graphql-codegen --config codegen.ts
import type { CodegenConfig } from "@graphql-codegen/cli";

const out = process.env.SCHOLARGRAPH_CODEGEN_OUT;
if (!out) {
  throw new Error("set SCHOLARGRAPH_CODEGEN_OUT to the .ts file to generate");
}

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
