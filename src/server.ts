// The HTTP server: the Yoga app (GraphQL over HTTP, GraphiQL, SSE) and graphql-ws (src/websocket.ts)
// on the same port and path, GET /health and /ready (src/server/health.ts), GET /metrics (src/metrics.ts).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EnvelopArmor } from '@escape.tech/graphql-armor';
import type { GraphQLError } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance, type YogaServerOptions } from 'graphql-yoga';
import { Authenticator, type Context } from './context.ts';
import type { Database } from './db/client.ts';
import { type AdaptationSettings, defaultAdaptation } from './domain/learner-model.ts';
import { maskError } from './error-masking.ts';
import { ConfigError } from './errors.ts';
import { refuseUnstorableText } from './input-guard.ts';
import type { JobsConfig } from './jobs/config.ts';
import { HeavyWork, type Limits, limitsFromEnv } from './limits.ts';
import type { Logger } from './logger.ts';
import type { PubSub, RedisState } from './pubsub.ts';
import { codeRequestErrors, payloadTooLarge } from './request-errors.ts';
import { requestLog } from './request-log.ts';
import { schema } from './schema/index.ts';
import { corsPolicy } from './server/cors.ts';
import { dashboardHandler } from './server/dashboard.ts';
import { graphiqlOptions, graphiqlRenderer } from './server/graphiql.ts';
import { health, type Probe, readiness } from './server/health.ts';
import { createMetrics } from './server/metrics.ts';
import { openResponses } from './server/streams.ts';
import { endSubscriptionsAtTokenExpiry } from './token-expiry.ts';
import { attachWebSocket } from './websocket.ts';

export interface AppOptions {
  db: Database;
  pubsub: PubSub;
  log: Logger;
  /** The jobs' settings (runJob acts in their time zone). */
  jobs: JobsConfig;
  /** The HS256 key tokens are verified with. */
  key: Uint8Array;
  /** A token GraphiQL opens with (development mode). */
  graphiqlToken?: string;
  /** The learner model's parameters and TARGET_SUCCESS (default: the model's defaults, 0.75). */
  adaptation?: AdaptationSettings;
  /** Abuse limits (default: from the environment, src/limits.ts). */
  limits?: Limits;
  /** The built dashboard served at /dashboard (default dist/dashboard). */
  dashboardDir?: string;
  /** Origins allowed to call with credentials (CORS_ORIGINS); null or absent: the server's own. */
  corsOrigins?: string[] | null;
  /** Redis as /ready shows it. */
  redisState?: () => RedisState;
}

export interface App {
  server: Server;
  yoga: YogaServerInstance<ServerContext, Context>;
  /** Listens; resolves to the base URL (port 0 picks a free port). */
  start(port: number, host?: string): Promise<string>;
  /** Stops accepting, closes sockets and drains requests in flight. The database is the caller's. */
  stop(): Promise<void>;
}

export const graphqlPath = '/graphql';

/**
 * What the transport hands Yoga: the Node request, and over WebSocket the connection parameters and
 * the operation's Authorization value (null: none; src/server/authorization.ts).
 */
export type ServerContext = {
  req: IncomingMessage;
  res?: ServerResponse;
  connectionParams?: Record<string, unknown>;
  wsAuthorization?: string | null;
};

export function createApp(options: AppOptions): App {
  const limits = options.limits ?? limitsFromEnv();
  const authenticator = new Authenticator(options.db, options.key, limits.jwtMaxTtlSeconds);
  const erasures = forgetErasedUsers(options.pubsub, authenticator);
  const heavy = new HeavyWork(
    () => options.db.prisma.user.count({ where: { role: 'LEARNER' } }),
    limits.heavyQueries,
    limits.heavyQueriesPerUser,
  );
  void heavy.refresh();
  const metrics = createMetrics(options.db);
  const yoga = createYogaApp(options, authenticator, heavy, limits, metrics.plugins);
  const dashboard = dashboardHandler(options.dashboardDir);
  const responses = openResponses();
  const probe = (res: ServerResponse, { status, body }: Probe) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const server = createServer((req, res) => {
    if (dashboard(req, res)) return;
    const path = req.url?.split('?')[0]?.replace(/\/$/, '');
    if (path === '/health') return probe(res, health());
    if (path === '/ready') {
      void readiness(options.db, options.redisState?.() ?? 'off').then((result) => probe(res, result));
      return;
    }
    responses.track(req, res);
    void yoga(req, res);
  });
  const webSocket = attachWebSocket(server, graphqlPath, yoga, authenticator, limits, options.log);
  metrics.watch(server, webSocket.connections);
  return {
    server,
    yoga,
    start: (port, host = '127.0.0.1') => listen(server, port, host),
    stop: async () => {
      metrics.close();
      erasures.stop();
      await webSocket.close();
      responses.endStreams();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Requests in flight get a moment to finish; then whatever is left is cut.
      const cut = setTimeout(() => server.closeAllConnections(), stopGraceMs).unref();
      await closed;
      clearTimeout(cut);
    },
  };
}

/** Erasures on any instance (through Redis when set) reach this one's authenticator. */
function forgetErasedUsers(pubsub: PubSub, authenticator: Authenticator): { stop(): void } {
  const events = pubsub.subscribe('user-erased');
  void (async () => {
    for await (const { userId } of events) authenticator.forget(userId);
  })();
  return { stop: () => void events.return?.() };
}

/** How long stop() lets requests in flight finish before closing their connections. */
const stopGraceMs = 5_000;

/** The Yoga app: the schema, its context (the caller from the bearer token), error masking, the plugins. */
function createYogaApp(
  options: AppOptions,
  authenticator: Authenticator,
  heavy: HeavyWork,
  limits: Limits,
  metricsPlugins: Plugin[],
): YogaServerInstance<ServerContext, Context> {
  const { db, pubsub, log, jobs } = options;
  const adaptation = options.adaptation ?? defaultAdaptation;
  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: graphqlPath,
    landingPage: false,
    graphiql: graphiqlOptions(options.graphiqlToken),
    renderGraphiQL: graphiqlRenderer(),
    cors: corsPolicy(options.corsOrigins ?? null),
    // Bodies are capped like graphql-ws messages: 413 by Content-Length, or counted as a chunked body streams in.
    maxRequestBodySize: limits.messageBytes,
    context: async ({ request, wsAuthorization }) => {
      const header = wsAuthorization !== undefined ? wsAuthorization : request.headers.get('authorization');
      return { db, pubsub, log, jobs, adaptation, heavy, ...(await authenticator.authenticate(header)) };
    },
    maskedErrors: { maskError: (error, message) => maskError(error, message, log) },
    logging: {
      debug: (...args) => log.debug(args.map(String).join(' ')),
      info: (...args) => log.info(args.map(String).join(' ')),
      warn: (...args) => log.warn(args.map(String).join(' ')),
      error: (...args) => log.error(args.map(String).join(' ')),
    },
    plugins: [...yogaPlugins(limits), ...metricsPlugins, requestLog(log)],
  });
}

type YogaPlugins = NonNullable<YogaServerOptions<ServerContext, Context>['plugins']>;

/** Armor's refusals are the client's mistake: give them the code clients branch on. */
const tagRefusal = [
  (_ctx: unknown, error: GraphQLError) =>
    Object.assign(error.extensions as Record<string, unknown>, { code: 'BAD_USER_INPUT' }),
];

/** The Yoga plugins, in order: request limits, the error coding, unstorable text, token expiry. */
function yogaPlugins(limits: Limits): YogaPlugins {
  const armor = new EnvelopArmor({
    maxDepth: { n: 10, onReject: tagRefusal },
    maxAliases: { n: 15, onReject: tagRefusal },
    maxTokens: { n: 2000, onReject: tagRefusal },
    maxDirectives: { n: 50, onReject: tagRefusal },
    // Cost is limited by the list-aware complexity plugin of the schema.
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: true },
  });
  return [
    ...armor.protect().plugins,
    codeRequestErrors,
    payloadTooLarge(limits.messageBytes),
    refuseUnstorableText,
    endSubscriptionsAtTokenExpiry,
  ];
}

function listen(server: Server, port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, port, host)));
    server.listen(port, host, () => {
      const address = server.address() as AddressInfo;
      const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
      resolve(`http://${shownHost}:${address.port}`);
    });
  });
}

/** A port in use or not ours to take: one line that says what to do. */
function listenError(error: NodeJS.ErrnoException, port: number, host: string): Error {
  if (error.code === 'EADDRINUSE')
    return new ConfigError(
      `port ${port} on ${host} is in use (another Learnloop?): stop it, or set PORT to a free port.`,
    );
  if (error.code === 'EACCES')
    return new ConfigError(`port ${port} on ${host} needs privileges this process lacks: set PORT above 1023.`);
  return error;
}
