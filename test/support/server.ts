// Starts the real server on a free port over a fresh test database, with helpers to sign tokens
// and send typed operations over HTTP.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { type Role, secretKey, signToken } from '../../src/auth.ts';
import type { OpenOptions } from '../../src/db/client.ts';
import type { AdaptationSettings } from '../../src/domain/learner-model.ts';
import { type JobsConfig, loadJobsConfig } from '../../src/jobs/config.ts';
import { type Limits, limitsFromEnv } from '../../src/limits.ts';
import { createLogger, type Logger } from '../../src/logger.ts';
import { createEventBus, type EventBus } from '../../src/pubsub.ts';
import { type App, createApp, graphqlPath } from '../../src/server.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

export const testSecret = 'test-secret-for-learnloop-suite-0123456789';
export const testKey = secretKey(testSecret);

export interface GraphQLResponse<T> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; [k: string]: unknown } }[];
}

export interface TestServer {
  url: string;
  endpoint: string;
  db: TestDatabase;
  app: App;
  bus: EventBus;
  tokenFor(userId: string, role?: Role): Promise<string>;
  request<TResult, TVariables>(
    document: TypedDocumentNode<TResult, TVariables> | string,
    variables?: TVariables,
    token?: string | null,
  ): Promise<GraphQLResponse<TResult>>;
  stop(): Promise<void>;
}

export interface TestServerOptions extends OpenOptions {
  /** A database the test owns (stop() leaves it open); otherwise a fresh one that stop() destroys. */
  db?: TestDatabase;
  redisUrl?: string | null;
  log?: Logger;
  /** The built dashboard to serve at /dashboard (default dist/dashboard). */
  dashboardDir?: string;
  /** The jobs' settings runJob uses (default: from the environment). */
  jobs?: JobsConfig;
  /** The learner model's parameters and TARGET_SUCCESS (default: the defaults). */
  adaptation?: AdaptationSettings;
  /** Abuse limits to change (the rest from the environment's defaults). */
  limits?: Partial<Limits>;
  /** The token GraphiQL opens with (as development mode gives it). */
  graphiqlToken?: string;
  /** CORS_ORIGINS (default: the server's own origin). */
  corsOrigins?: string[];
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const db = options.db ?? (await createTestDatabase(options));
  const log = options.log ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const bus = createEventBus(options.redisUrl ?? null, log);
  const app = createApp({
    db,
    pubsub: bus.pubsub,
    log,
    jobs: options.jobs ?? loadJobsConfig(),
    key: testKey,
    adaptation: options.adaptation,
    dashboardDir: options.dashboardDir,
    limits: { ...limitsFromEnv({}), ...options.limits },
    graphiqlToken: options.graphiqlToken,
    corsOrigins: options.corsOrigins,
    redisState: bus.redisState,
  });
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
      if (!options.db) await db.destroy();
    },
  };
}

/** The data of a response that must have succeeded; fails the test with the errors otherwise. */
export function dataOf<T>(response: GraphQLResponse<T>): T {
  if (response.errors?.length || !response.data) {
    throw new Error(`GraphQL errors: ${JSON.stringify(response.errors ?? response)}`);
  }
  return response.data;
}

/** The codes of a response's errors. */
export function codesOf(response: GraphQLResponse<unknown>): (string | undefined)[] {
  return (response.errors ?? []).map((e) => e.extensions?.code);
}
