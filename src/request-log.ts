// One pino line per GraphQL operation: its name, type, duration, outcome (ok, or the error codes)
// and the viewer's role. Never the variables, the token, answers or anything personal: an operation
// is named by the client, everything else here is the server's.
import { type DocumentNode, type GraphQLError, getOperationAST } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Context } from './context.ts';
import type { Logger } from './logger.ts';

interface Line {
  operation: string | null;
  type: string;
  role: string;
  ms: number;
  outcome: 'ok' | 'error';
  codes?: string[];
  /** Subscriptions: events delivered before it ended. */
  events?: number;
}

const codesOf = (errors: readonly (Error | GraphQLError)[] | undefined, fallback: string) => [
  ...new Set((errors ?? []).map((e) => String((e as GraphQLError).extensions?.code ?? fallback))),
];

function describe(document: DocumentNode, operationName: string | null | undefined) {
  const operation = getOperationAST(document, operationName);
  return { operation: operation?.name?.value ?? null, type: operation?.operation ?? 'unknown' };
}

export function requestLog(log: Logger): Plugin<Context> {
  const write = (line: Line) => log.info(line, 'graphql operation');
  const role = (context: Partial<Context>) => context.viewer?.role ?? 'anonymous';
  const since = (started: number) => Math.round((performance.now() - started) * 10) / 10;
  return {
    // Refused before it ran (syntax, validation, limits): the client's mistake.
    onParse: ({ context }) => {
      const started = performance.now();
      return ({ result }) => {
        if (!(result instanceof Error)) return;
        write({
          operation: null,
          type: 'unknown',
          role: role(context),
          ms: since(started),
          outcome: 'error',
          codes: ['BAD_USER_INPUT'],
        });
      };
    },
    onValidate: ({ params, context }) => {
      const started = performance.now();
      return ({ result }) => {
        if (result.length === 0) return;
        const name = (context as { params?: { operationName?: string } }).params?.operationName;
        write({
          ...describe(params.documentAST, name),
          role: role(context),
          ms: since(started),
          outcome: 'error',
          codes: codesOf(result, 'BAD_USER_INPUT'),
        });
      };
    },
    onExecute: ({ args }) => {
      const started = performance.now();
      return {
        onExecuteDone: ({ result }) => {
          if (isAsyncIterable(result)) return; // incremental delivery: not used here
          const codes = codesOf(result.errors, 'INTERNAL_SERVER_ERROR');
          write({
            ...describe(args.document, args.operationName),
            role: role(args.contextValue),
            ms: since(started),
            outcome: codes.length ? 'error' : 'ok',
            ...(codes.length ? { codes } : {}),
          });
        },
      };
    },
    onSubscribe: ({ args }) => {
      const started = performance.now();
      const base = () => ({ ...describe(args.document, args.operationName), role: role(args.contextValue) });
      return {
        onSubscribeResult: ({ result }) => {
          if (!isAsyncIterable(result)) {
            const codes = codesOf(result.errors, 'INTERNAL_SERVER_ERROR');
            write({ ...base(), ms: since(started), outcome: codes.length ? 'error' : 'ok', codes });
            return;
          }
          let events = 0;
          const codes = new Set<string>();
          return {
            onNext: ({ result: next }) => {
              events++;
              for (const code of codesOf(next.errors, 'INTERNAL_SERVER_ERROR')) codes.add(code);
            },
            onEnd: () =>
              write({
                ...base(),
                ms: since(started),
                outcome: codes.size ? 'error' : 'ok',
                ...(codes.size ? { codes: [...codes] } : {}),
                events,
              }),
          };
        },
      };
    },
  };
}
