import { GraphQLError } from 'graphql';

/** A bad setting in the environment: the CLI prints just its message and exits. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type ErrorCode = 'BAD_USER_INPUT' | 'NOT_FOUND' | 'FORBIDDEN' | 'UNAUTHENTICATED' | 'CONFLICT';

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
