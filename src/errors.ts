import { GraphQLError } from 'graphql';

/** A bad setting in the environment: the CLI prints just its message and exits. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** An operator's mistake on the command line (a bad option, a missing argument): one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'FORBIDDEN'
  | 'UNAUTHENTICATED'
  | 'CONFLICT'
  /** A per-user or per-connection cap was reached: close something, or retry later. */
  | 'RATE_LIMITED'
  /** The request did more work than API_STATEMENT_TIMEOUT_MS allows: ask for less. */
  | 'TIMEOUT'
  /** The database is unavailable or busy: retry after a moment (HTTP 503 with Retry-After). */
  | 'UNAVAILABLE';

/** An expected error: shown to the client with its code (Yoga masks everything else). */
export function apiError(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extensions } });
}

export const badInput = (message: string, extensions?: Record<string, unknown>) =>
  apiError('BAD_USER_INPUT', message, extensions);
export const notFound = (what: string) =>
  apiError('NOT_FOUND', `${what} does not exist (or was never visible to you).`);
export const forbidden = (message = 'You may not access this: it belongs to another learner.') =>
  apiError('FORBIDDEN', message);
export const unauthenticated = (message: string) => apiError('UNAUTHENTICATED', message);
export const conflict = (message: string) => apiError('CONFLICT', message);
