// The HTTP server: the Yoga app (GraphQL over HTTP, GraphiQL, SSE) and graphql-ws (src/websocket.ts)
// on the same port and path, and GET /health.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EnvelopArmor } from '@escape.tech/graphql-armor';
import type { GraphQLError } from 'graphql';
import { createYoga, type YogaServerInstance, type YogaServerOptions } from 'graphql-yoga';
import { Authenticator, type Context } from './context.ts';
import type { Database } from './db/client.ts';
import { maskError } from './error-masking.ts';
import { refuseUnstorableText } from './input-guard.ts';
import type { JobsConfig } from './jobs/config.ts';
import { HeavyWork, type Limits, limitsFromEnv } from './limits.ts';
import type { Logger } from './logger.ts';
import type { PubSub } from './pubsub.ts';
import { codeRequestErrors } from './request-errors.ts';
import { schema } from './schema/index.ts';
import { dashboardHandler } from './server/dashboard.ts';
import { type AdaptationSettings, defaultAdaptation } from './services/learner-state.ts';
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

/** What the transport hands Yoga: the Node request, and over WebSocket the connection parameters. */
export type ServerContext = { req: IncomingMessage; res?: ServerResponse; connectionParams?: Record<string, unknown> };

export function createApp(options: AppOptions): App {
  const limits = options.limits ?? limitsFromEnv();
  const authenticator = new Authenticator(options.db, options.key, limits.jwtMaxTtlSeconds);
  const heavy = new HeavyWork(() => options.db.prisma.user.count({ where: { role: 'LEARNER' } }), limits.heavyQueries);
  void heavy.refresh();
  const yoga = createYogaApp(options, authenticator, heavy);
  const dashboard = dashboardHandler(options.dashboardDir);
  const server = createServer((req, res) => {
    if (dashboard(req, res)) return;
    if (req.url === '/health' || req.url === '/health/') {
      void health(options.db).then(({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
      return;
    }
    void yoga(req, res);
  });
  const webSocket = attachWebSocket(server, graphqlPath, yoga, authenticator, limits);
  return {
    server,
    yoga,
    start: (port, host = '127.0.0.1') => listen(server, port, host),
    stop: async () => {
      await webSocket.close();
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The Yoga app: the schema, its context (the caller from the bearer token), error masking, the plugins. */
function createYogaApp(
  options: AppOptions,
  authenticator: Authenticator,
  heavy: HeavyWork,
): YogaServerInstance<ServerContext, Context> {
  const { db, pubsub, log, jobs } = options;
  const adaptation = options.adaptation ?? defaultAdaptation;
  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: graphqlPath,
    landingPage: false,
    graphiql: graphiqlOptions(options.graphiqlToken),
    context: async ({ request, connectionParams }) => {
      const header = connectionParams
        ? String(connectionParams.authorization ?? connectionParams.Authorization ?? '')
        : request.headers.get('authorization');
      return { db, pubsub, log, jobs, adaptation, heavy, ...(await authenticator.authenticate(header)) };
    },
    maskedErrors: { maskError: (error, message) => maskError(error, message, log) },
    logging: {
      debug: (...args) => log.debug(args.map(String).join(' ')),
      info: (...args) => log.info(args.map(String).join(' ')),
      warn: (...args) => log.warn(args.map(String).join(' ')),
      error: (...args) => log.error(args.map(String).join(' ')),
    },
    plugins: yogaPlugins(options),
  });
}

type YogaPlugins = NonNullable<YogaServerOptions<ServerContext, Context>['plugins']>;

/** Armor's refusals are the client's mistake: give them the code clients branch on. */
const tagRefusal = [
  (_ctx: unknown, error: GraphQLError) =>
    Object.assign(error.extensions as Record<string, unknown>, { code: 'BAD_USER_INPUT' }),
];

/** The Yoga plugins, in order: request limits, the error coding, unstorable text, token expiry. */
function yogaPlugins(_options: AppOptions): YogaPlugins {
  const armor = new EnvelopArmor({
    maxDepth: { n: 10, onReject: tagRefusal },
    maxAliases: { n: 15, onReject: tagRefusal },
    maxTokens: { n: 2000, onReject: tagRefusal },
    maxDirectives: { n: 50, onReject: tagRefusal },
    // Cost is limited by the list-aware complexity plugin of the schema.
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: true },
  });
  return [...armor.protect().plugins, codeRequestErrors, refuseUnstorableText, endSubscriptionsAtTokenExpiry];
}

function graphiqlOptions(token: string | undefined): YogaServerOptions<ServerContext, Context>['graphiql'] {
  return {
    title: 'Learnloop',
    subscriptionsProtocol: 'WS',
    headers: token ? JSON.stringify({ authorization: `Bearer ${token}` }, null, 2) : undefined,
    defaultQuery: [
      '# Ask for your data, e.g.',
      '{',
      '  me {',
      '    name',
      '    masteries { subcategory score }',
      '    sessions(first: 3) { edges { node { startedAt summary { accuracy topicsCovered } } } }',
      '  }',
      '}',
      '',
    ].join('\n'),
  };
}

function listen(server: Server, port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address() as AddressInfo;
      const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
      resolve(`http://${shownHost}:${address.port}`);
    });
  });
}

async function health(db: Database): Promise<{ status: number; body: Record<string, string> }> {
  try {
    await db.prisma.$queryRaw`SELECT 1`;
    return { status: 200, body: { status: 'ok', database: 'ok' } };
  } catch (error) {
    return { status: 503, body: { status: 'unavailable', database: (error as Error).message } };
  }
}
