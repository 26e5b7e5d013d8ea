// Where a request's token is: the Authorization header over HTTP; over graphql-ws either the
// connection's parameters or, as GraphiQL sends it, each subscribe message's
// `payload.extensions.headers` (checked per operation, and winning over the connection's).

/** The value of a header-like record's `authorization` entry, whatever its case. */
export function authorizationIn(record: unknown): string | undefined {
  if (!record || typeof record !== 'object') return undefined;
  for (const [name, value] of Object.entries(record)) {
    if (name.toLowerCase() === 'authorization' && typeof value === 'string' && value.trim() !== '') return value;
  }
  return undefined;
}

/** The token of one graphql-ws operation: its own headers first, then the connection's parameters. */
export function operationAuthorization(
  extensions: Record<string, unknown> | null | undefined,
  connectionParams: Record<string, unknown> | null | undefined,
): string | undefined {
  return authorizationIn(extensions?.headers) ?? authorizationIn(connectionParams);
}
