// Errors from parsing and validation (GraphQL Armor's limits included) are the client's: they get
// the code BAD_USER_INPUT, over HTTP (a Yoga plugin) and over WebSocket (src/websocket.ts) alike.
import { GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';

export const codeRequestErrors: Plugin = {
  onValidate:
    () =>
    ({ result, setResult }) => {
      if (result.length > 0) setResult(result.map(withCode));
    },
  onParse:
    () =>
    ({ result, replaceParseResult }) => {
      if (result instanceof GraphQLError) replaceParseResult(withCode(result));
    },
  // Variables that do not fit their types (a Date of 2026-02-30, say) fail before any field runs:
  // the result has errors and no data.
  onExecute: () => ({
    onExecuteDone: ({ result, setResult }) => {
      if (!isAsyncIterable(result) && result.data === undefined && result.errors?.length) {
        setResult({ ...result, errors: result.errors.map(withCode) });
      }
    },
  }),
};

/** The error with the code BAD_USER_INPUT, unless it has a code already. */
export function withCode(error: Error): GraphQLError {
  if (!(error instanceof GraphQLError))
    return new GraphQLError(error.message, { extensions: { code: 'BAD_USER_INPUT' } });
  if (error.extensions?.code) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    extensions: { ...error.extensions, code: 'BAD_USER_INPUT' },
  });
}

/**
 * Yoga refuses a body over maxRequestBodySize with REQUEST_ENTITY_TOO_LARGE (HTTP 413); clients get the
 * code graphql-ws uses for the same limit, and a message that says the limit.
 */
export function payloadTooLarge(maxBytes: number): Plugin {
  const message = `The request body is larger than the ${maxBytes} bytes allowed (MAX_MESSAGE_BYTES): send less.`;
  return {
    onResultProcess: ({ result, setResult }) => {
      if (Array.isArray(result) || isAsyncIterable(result)) return;
      if (!result.errors?.some((e) => e.extensions?.code === 'REQUEST_ENTITY_TOO_LARGE')) return;
      setResult({
        ...result,
        errors: result.errors.map((e) =>
          e.extensions?.code === 'REQUEST_ENTITY_TOO_LARGE'
            ? new GraphQLError(message, { extensions: { ...e.extensions, code: 'PAYLOAD_TOO_LARGE' } })
            : e,
        ),
      });
    },
  };
}
