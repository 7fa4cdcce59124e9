// Posts a typed document to the API; the result has the type graphql-codegen generated for it.
import type { TypedDocumentString } from "./generated/graphql";

export const ENDPOINT = "/graphql";

interface GraphQLError {
  message: string;
  extensions?: { code?: string };
}

/** The API answered with errors (or without data): the page shows the first message. */
export class RequestError extends Error {}

export async function execute<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
): Promise<TResult> {
  let response: Response;
  try {
    response = await fetch(ENDPOINT, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/graphql-response+json, application/json",
      },
      body: JSON.stringify({ query: document.toString(), variables }),
    });
  } catch {
    throw new RequestError("The server did not answer. Is it running?");
  }
  let body: { data?: TResult | null; errors?: GraphQLError[] };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new RequestError(`The server answered ${response.status} without a GraphQL result.`);
  }
  const [first] = body.errors ?? [];
  if (first !== undefined) {
    throw new RequestError(first.message);
  }
  if (body.data == null) {
    throw new RequestError(`The server answered ${response.status} without data.`);
  }
  return body.data;
}
