// A minimal GraphQL-over-HTTP client for the benchmarks and the crash test, with a deadline on every request.

export interface GqlResult<T = any> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

export async function gql<T = any>(
  url: string,
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
  timeoutMs = 10_000,
): Promise<GqlResult<T>> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return (await response.json()) as GqlResult<T>;
}

/** `data` of an operation that must succeed. */
export async function gqlData<T = any>(url: string, token: string, query: string, variables: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<T> {
  const result = await gql<T>(url, token, query, variables, timeoutMs);
  if (result.errors?.length || !result.data) throw new Error(`GraphQL errors: ${JSON.stringify(result).slice(0, 500)}`);
  return result.data;
}

export const GENERATE = `mutation($input: GenerateVideoInput!) { generateVideo(input: $input) {
  __typename
  ... on GenerateVideoSuccess { deduplicated job { id status } }
  ... on Error { message }
} }`;

export const CANCEL = `mutation($id: ID!) { cancelVideoJob(id: $id) {
  __typename
  ... on CancelVideoJobSuccess { job { id status version updatedAt } }
  ... on Error { message }
} }`;

/** Creates a job; returns its global id. */
export async function generate(url: string, token: string, input: Record<string, unknown>): Promise<string> {
  const data = await gqlData<{ generateVideo: { __typename: string; job?: { id: string }; message?: string } }>(url, token, GENERATE, { input });
  if (data.generateVideo.__typename !== 'GenerateVideoSuccess') {
    throw new Error(`generateVideo: ${data.generateVideo.__typename} ${data.generateVideo.message ?? ''}`);
  }
  return data.generateVideo.job!.id;
}

export async function cancel(url: string, token: string, id: string): Promise<{ status: string; updatedAt: string }> {
  const data = await gqlData<{ cancelVideoJob: { __typename: string; job?: { status: string; updatedAt: string }; message?: string } }>(url, token, CANCEL, { id });
  if (data.cancelVideoJob.__typename !== 'CancelVideoJobSuccess') {
    throw new Error(`cancelVideoJob: ${data.cancelVideoJob.__typename} ${data.cancelVideoJob.message ?? ''}`);
  }
  return data.cancelVideoJob.job!;
}
