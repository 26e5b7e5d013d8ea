// Real subscription clients for the real-time tests: graphql-ws over `ws`, and an SSE reader over
// fetch. Both put what they receive into an Inbox the tests wait on with a bounded timeout.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import { Redis } from 'ioredis';
import { WebSocket } from 'ws';
import { graphqlPath } from '../../src/server.ts';

export interface SubscriptionResult<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** Messages as they arrive; `next` waits for the next one unread, `nothingWithin` for silence. */
export class Inbox<T> {
  readonly items: T[] = [];
  private read = 0;
  private waiters: (() => void)[] = [];
  /** Set when the stream ended (completed, errored or closed). */
  ended: { reason: string; error?: unknown } | null = null;

  push(item: T): void {
    this.items.push(item);
    this.wake();
  }

  end(reason: string, error?: unknown): void {
    if (!this.ended) this.ended = { reason, error };
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** The next unread message; fails when none arrives within `timeoutMs` or the stream ends first. */
  async next(timeoutMs = 2_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (this.read >= this.items.length) {
      if (this.ended)
        throw new Error(
          `the stream ended (${this.ended.reason}) before another message arrived: ${describe(this.ended.error)}`,
        );
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no message within ${timeoutMs} ms (received ${this.items.length} so far)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.items[this.read++]!;
  }

  /** Waits `ms` and returns the messages that arrived unread meanwhile (a test expects none). */
  async unreadAfter(ms: number): Promise<T[]> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    const unread = this.items.slice(this.read);
    this.read = this.items.length;
    return unread;
  }

  /** Waits until the stream has ended, within `timeoutMs`. */
  async untilEnded(timeoutMs = 2_000): Promise<NonNullable<Inbox<T>['ended']>> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the stream did not end within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.ended;
  }
}

function describe(error: unknown): string {
  if (error && typeof error === 'object' && 'code' in error && 'reason' in error)
    return `close ${String(error.code)} ${String(error.reason)}`;
  if (error instanceof Error) return error.message;
  return JSON.stringify(error) ?? String(error);
}

export interface Subscription<T> {
  inbox: Inbox<SubscriptionResult<T>>;
  stop(): void;
}

/** A graphql-ws client for one token (or none); it never retries, so a refusal shows as it is. */
export function wsClient(
  baseUrl: string,
  token?: string | null,
): Client & { closes: { code: number; reason: string }[] } {
  const closes: { code: number; reason: string }[] = [];
  const client = createClient({
    url: `${baseUrl.replace(/^http/, 'ws')}${graphqlPath}`,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    on: {
      closed: (event) =>
        closes.push({ code: (event as { code: number }).code, reason: String((event as { reason: unknown }).reason) }),
    },
  });
  return Object.assign(client, { closes });
}

export function wsSubscribe<T, V extends Record<string, unknown>>(
  client: Client,
  document: TypedDocumentNode<T, V>,
  variables: V,
  /** The operation's extensions: GraphiQL sends its headers here (`{ headers: { authorization } }`). */
  extensions?: Record<string, unknown>,
): Subscription<T> {
  const inbox = new Inbox<SubscriptionResult<T>>();
  const stop = client.subscribe<T>(
    { query: print(document), variables, ...(extensions ? { extensions } : {}) },
    {
      next: (result) => inbox.push(result as SubscriptionResult<T>),
      error: (error) => inbox.end('error', error),
      complete: () => inbox.end('complete'),
    },
  );
  return { inbox, stop };
}

/** GraphQL over SSE (Yoga's "distinct connections" mode): a POST with Accept: text/event-stream. */
export function sseSubscribe<T, V extends Record<string, unknown>>(
  baseUrl: string,
  token: string | null,
  document: TypedDocumentNode<T, V>,
  variables: V,
): Subscription<T> & { status: Promise<number> } {
  const inbox = new Inbox<SubscriptionResult<T>>();
  const abort = new AbortController();
  let resolveStatus!: (status: number) => void;
  const status = new Promise<number>((resolve) => (resolveStatus = resolve));
  void (async () => {
    try {
      const response = await fetch(`${baseUrl}${graphqlPath}`, {
        method: 'POST',
        headers: {
          accept: 'text/event-stream',
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ query: print(document), variables }),
        signal: abort.signal,
      });
      resolveStatus(response.status);
      if (!response.body) return inbox.end('no body');
      if (!response.headers.get('content-type')?.startsWith('text/event-stream')) {
        // A refusal before the stream started comes as a plain GraphQL response.
        inbox.push((await response.json()) as SubscriptionResult<T>);
        return inbox.end('complete');
      }
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        for (let boundary = buffer.search(/\r?\n\r?\n/); boundary >= 0; boundary = buffer.search(/\r?\n\r?\n/)) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary).replace(/^\r?\n\r?\n/, '');
          const event = parseEvent(block);
          if (event.event === 'complete') return inbox.end('complete');
          if (event.data) inbox.push(JSON.parse(event.data) as SubscriptionResult<T>);
        }
      }
      inbox.end('closed');
    } catch (error) {
      resolveStatus(0);
      inbox.end(abort.signal.aborted ? 'stopped' : 'error', error);
    }
  })();
  return { inbox, stop: () => abort.abort(), status };
}

/** One SSE event: `event:` and `data:` lines (comments, the keep-alives, are skipped). */
function parseEvent(block: string): { event: string; data: string } {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return { event, data: data.join('\n') };
}

/** Polls a condition every 10 ms until it holds, failing after `timeoutMs`. */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Subscribers Redis knows for a channel (PUBSUB NUMSUB). */
export async function redisSubscribers(redisUrl: string, channel: string): Promise<number> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const reply = (await redis.pubsub('NUMSUB', channel)) as [string, number];
    return Number(reply[1]);
  } catch {
    return 0;
  } finally {
    redis.disconnect();
  }
}

/** graphql-ws clients a test file opens, all disposed at once in its afterAll. */
export function wsClients(): {
  open(baseUrl: string, token?: string | null): ReturnType<typeof wsClient>;
  disposeAll(): Promise<void>;
} {
  const opened: ReturnType<typeof wsClient>[] = [];
  return {
    open(baseUrl, token) {
      const c = wsClient(baseUrl, token);
      opened.push(c);
      return c;
    },
    async disposeAll() {
      await Promise.all(opened.map((c) => c.dispose()));
    },
  };
}
