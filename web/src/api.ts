// The dashboard's GraphQL client: queries with fetch, subscriptions over graphql-ws, both on the
// same origin's /graphql with the signed-in token.
import { type Client, createClient } from 'graphql-ws';
import type { TypedDocumentString } from './gql/graphql.ts';

export const endpoint = '/graphql';

/** A GraphQL error as the API reports it: the message and its extensions.code (FORBIDDEN, …). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

interface GraphQLResult<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

function failure(result: GraphQLResult<unknown>, status: number): ApiError {
  const first = result.errors?.[0];
  if (first) return new ApiError(first.message, first.extensions?.code ?? 'ERROR');
  return new ApiError(`The server answered ${status} without data.`, 'ERROR');
}

export async function request<TResult, TVariables>(
  token: string,
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
): Promise<TResult> {
  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({ query: document.toString(), variables }),
    });
  } catch {
    throw new ApiError('The server cannot be reached; check that Learnloop is running.', 'NETWORK');
  }
  const result = (await response.json().catch(() => ({}))) as GraphQLResult<TResult>;
  if (result.errors?.length || !result.data) throw failure(result, response.status);
  return result.data;
}

let socket: { token: string; client: Client } | null = null;

/** One graphql-ws connection per token, shared by every subscription of the page. */
function wsClient(token: string): Client {
  if (socket?.token === token) return socket.client;
  void socket?.client.dispose();
  const url = new URL(endpoint, window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const client = createClient({
    url: url.href,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: Number.POSITIVE_INFINITY,
    lazy: true,
  });
  socket = { token, client };
  return client;
}

/** Calls onData for each event; returns the function that stops the subscription. */
export function subscribe<TResult, TVariables extends Record<string, unknown>>(
  token: string,
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  onData: (data: TResult) => void,
  onError: (error: ApiError) => void,
): () => void {
  return wsClient(token).subscribe<TResult>(
    { query: document.toString(), variables },
    {
      next: (result) => {
        if (result.data) onData(result.data as TResult);
        else if (result.errors?.length) onError(failure(result as GraphQLResult<unknown>, 200));
      },
      error: (error) => {
        const errors = Array.isArray(error) ? (error as { message: string; extensions?: { code?: string } }[]) : [];
        if (errors.length) onError(failure({ errors }, 200));
        else onError(new ApiError('The live connection closed; reload to reconnect.', 'NETWORK'));
      },
      complete: () => {},
    },
  );
}
