// A started server like test/support/server.ts's, but over an event bus and logger the test made
// (to read what the server logs about Redis).
import { Writable } from 'node:stream';
import { print } from 'graphql';
import pino from 'pino';
import { signToken } from '../../src/auth.ts';
import type { Logger } from '../../src/logger.ts';
import { createEventBus } from '../../src/pubsub.ts';
import { createApp, graphqlPath } from '../../src/server.ts';
import type { TestDatabase } from '../support/database.ts';
import { testKey, type GraphQLResponse, type TestServer } from '../support/server.ts';

/** A logger whose JSON lines land in `lines`. */
export function capturingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

/** Serves the database with a bus on `redisUrl`; stop() stops the server and the bus, not the database. */
export async function startServerWithRedis(db: TestDatabase, redisUrl: string, log: Logger): Promise<TestServer> {
  const bus = createEventBus(redisUrl, log);
  const app = createApp({ db, pubsub: bus.pubsub, log, key: testKey });
  const url = await app.start(0, '127.0.0.1');
  const endpoint = `${url}${graphqlPath}`;
  return {
    url,
    endpoint,
    db,
    app,
    bus,
    tokenFor: (userId, role = 'LEARNER') => signToken(testKey, { userId, role }),
    async request(document, variables, token) {
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ query: typeof document === 'string' ? document : print(document), variables }),
      });
      const body = (await response.json()) as Omit<GraphQLResponse<never>, 'status'>;
      return { status: response.status, ...body } as GraphQLResponse<never>;
    },
    async stop() {
      await app.stop();
      await bus.close();
    },
  };
}
