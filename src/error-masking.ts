// What a client sees of an error (Yoga's maskError): expected errors keep their code; a GraphQLError
// without one (a bad cursor, a negative `first`, an ID of another type, from the libraries) is the
// client's mistake, BAD_USER_INPUT; a database that is down or busy is UNAVAILABLE (HTTP 503 with
// Retry-After) and a statement over API_STATEMENT_TIMEOUT_MS is TIMEOUT; anything else is logged
// and shown as INTERNAL_SERVER_ERROR, without internals.
import { GraphQLError } from 'graphql';
import type { Logger } from './logger.ts';

/** Seconds a client is asked to wait before retrying an UNAVAILABLE request. */
export const retryAfterSeconds = 1;

/** SQLSTATEs and driver error kinds of a database that is unreachable, shutting down or out of connections. */
const unavailableCodes = /^(08|53|57P0[1-3]$|40001$|40P01$|55P03$)/;
const unavailableKinds = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'TooManyConnections',
  'SocketTimeout',
  'TransactionWriteConflict',
]);
const unavailableMessages = new RegExp(
  [
    'timeout exceeded when trying to connect',
    'Connection terminated',
    'ECONNREFUSED',
    'ECONNRESET',
    'Unable to start a transaction in the given time',
    "Can't reach database server",
    'Transaction already closed',
    'the database system is (starting up|shutting down)',
  ].join('|'),
  'i',
);
/** Prisma's own codes for the same: P1001 unreachable, P1017 closed, P2024 pool timeout, P2028 transaction start. */
const unavailablePrismaCodes = new Set(['P1001', 'P1017', 'P2024', 'P2028', 'P2034']);

/** The causes of an error as far as they go: itself, `cause`, and a Prisma driver adapter's cause. */
function* chain(error: unknown): Generator<Record<string, unknown>> {
  let current = error;
  for (let depth = 0; depth < 8 && current && typeof current === 'object'; depth++) {
    const node = current as Record<string, unknown>;
    yield node;
    const adapter = (node.meta as { driverAdapterError?: { cause?: unknown } } | undefined)?.driverAdapterError;
    if (adapter) yield* chain(adapter.cause ?? adapter);
    current = node.cause ?? node.originalError;
  }
}

export function databaseFailure(error: unknown): 'TIMEOUT' | 'UNAVAILABLE' | null {
  for (const node of chain(error)) {
    const codes = [node.code, node.originalCode].filter((c): c is string => typeof c === 'string');
    if (codes.includes('57014')) return 'TIMEOUT';
    if (codes.some((c) => unavailableCodes.test(c) || unavailablePrismaCodes.has(c))) return 'UNAVAILABLE';
    if (typeof node.kind === 'string' && unavailableKinds.has(node.kind)) return 'UNAVAILABLE';
    if (typeof node.message === 'string' && unavailableMessages.test(node.message)) return 'UNAVAILABLE';
  }
  return null;
}

const failureMessages = {
  TIMEOUT:
    'The request took longer than the API allows (API_STATEMENT_TIMEOUT_MS): ask for a shorter range or fewer items.',
  UNAVAILABLE: `The database is unavailable or busy: retry in ${retryAfterSeconds} s.`,
};

export function maskError(error: unknown, message: string, log: Logger): Error {
  const original = error instanceof GraphQLError ? error.originalError : error;
  if (error instanceof GraphQLError && (original instanceof GraphQLError || !original)) {
    return error.extensions?.code ? error : withExtensions(error, { code: 'BAD_USER_INPUT' });
  }
  const failure = databaseFailure(original);
  if (failure) {
    log.warn({ err: original }, `request failed: ${failure}`);
    const extensions =
      failure === 'UNAVAILABLE'
        ? { code: failure, http: { status: 503, headers: { 'retry-after': String(retryAfterSeconds) } } }
        : { code: failure };
    return withExtensions(error instanceof GraphQLError ? error : null, extensions, failureMessages[failure]);
  }
  log.error({ err: original }, 'unexpected error');
  return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}

/** The error with these extensions (and message), keeping where it happened but not what caused it. */
export function withExtensions(
  error: GraphQLError | null,
  extensions: Record<string, unknown>,
  message = error?.message ?? '',
): GraphQLError {
  return new GraphQLError(message, {
    nodes: error?.nodes,
    source: error?.source,
    positions: error?.positions,
    path: error?.path,
    extensions: { ...error?.extensions, ...extensions },
  });
}
