// An open subscription lives no longer than the token it was opened with: at the token's expiry the
// stream yields one UNAUTHENTICATED error and ends (SSE and graphql-ws alike; graphql-ws also closes
// the socket with 4401, see server.ts).
import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Context } from './context.ts';
import { unauthenticated } from './errors.ts';

/** setTimeout's longest delay (about 24.8 days): longer waits are re-armed. */
const maxTimerMs = 2 ** 31 - 1;

/** Calls `fire` at the instant `atMs` (ms since the epoch); returns a cancel function. */
export function atInstant(atMs: number, fire: () => void): () => void {
  let timer: NodeJS.Timeout;
  const arm = () => {
    const wait = atMs - Date.now();
    timer = setTimeout(wait > maxTimerMs ? arm : fire, Math.max(0, Math.min(wait, maxTimerMs)));
    timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}

export const tokenExpiredMessage = 'The token has expired: subscribe again with a new one.';

/**
 * Ends `source` at `expiresAt` with an UNAUTHENTICATED error as its last result. An iterator, not an
 * async generator: a generator suspended in `await source.next()` could not be returned from, and a
 * client leaving would keep the subscription open.
 */
function untilExpiry(
  source: AsyncIterableIterator<ExecutionResult>,
  expiresAt: number,
): AsyncIterableIterator<ExecutionResult> {
  let state: 'open' | 'expired' | 'done' = 'open';
  let wake: (() => void) | null = null;
  const cancel = atInstant(expiresAt, () => {
    if (state === 'open') state = 'expired';
    wake?.();
  });
  const finish = async (): Promise<IteratorResult<ExecutionResult>> => {
    state = 'done';
    cancel();
    await source.return?.();
    return { done: true, value: undefined };
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      if (state === 'done') return { done: true, value: undefined };
      const expired = new Promise<'expired'>((resolve) => {
        wake = () => resolve('expired');
        if (state === 'expired') resolve('expired');
      });
      const next = await Promise.race([source.next(), expired]);
      wake = null;
      if (next === 'expired' || state === 'expired') {
        await finish();
        return { done: false, value: { errors: [unauthenticated(tokenExpiredMessage)] } };
      }
      if (next.done) return finish();
      return next;
    },
    return: finish,
  };
}

export const endSubscriptionsAtTokenExpiry: Plugin<Context> = {
  onSubscribe: () => ({
    onSubscribeResult: ({ args, result, setResult }) => {
      const expiresAt = args.contextValue.tokenExpiresAt;
      if (expiresAt !== null && isAsyncIterable(result)) {
        setResult(untilExpiry(result as AsyncIterableIterator<ExecutionResult>, expiresAt));
      }
    },
  }),
};
