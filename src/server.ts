// The HTTP server: graphql-yoga (GraphQL over HTTP, GraphiQL, SSE) and graphql-ws on the same port and path.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EnvelopArmor } from '@escape.tech/graphql-armor';
import { type DocumentNode, type ExecutionArgs, GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga, isAsyncIterable, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { type WebSocket, WebSocketServer } from 'ws';
import { ConfigError } from './config.ts';
import { Authenticator, type Context } from './context.ts';
import type { Database } from './db/client.ts';
import type { Logger } from './logger.ts';
import { createMetrics } from './metrics.ts';
import type { PubSub, RedisState } from './pubsub.ts';
import { requestLog } from './request-log.ts';
import { schema } from './schema/index.ts';
import { authorizationIn, operationAuthorization } from './server/authorization.ts';
import { corsPolicy } from './server/cors.ts';
import { graphiqlOptions, graphiqlRenderer } from './server/graphiql.ts';
import { health, type Probe, readiness } from './server/health.ts';
import { openResponses } from './server/streams.ts';

export interface AppOptions {
  db: Database;
  pubsub: PubSub;
  log: Logger;
  /** The HS256 key tokens are verified with. */
  key: Uint8Array;
  /** A token GraphiQL opens with (development mode). */
  graphiqlToken?: string;
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
 * the operation's Authorization value (null: none).
 */
type ServerContext = {
  req: IncomingMessage;
  res?: ServerResponse;
  connectionParams?: Record<string, unknown>;
  wsAuthorization?: string | null;
};

/** Armor's refusals are the client's mistake: give them the code clients branch on. */
const tagRefusal = [
  (_ctx: unknown, error: GraphQLError) =>
    Object.assign(error.extensions as Record<string, unknown>, { code: 'BAD_USER_INPUT' }),
];

const armor = new EnvelopArmor({
  maxDepth: { n: 10, onReject: tagRefusal },
  maxAliases: { n: 15, onReject: tagRefusal },
  maxTokens: { n: 2000, onReject: tagRefusal },
  maxDirectives: { n: 50, onReject: tagRefusal },
  // Cost is limited by the list-aware complexity plugin of the schema.
  costLimit: { enabled: false },
  blockFieldSuggestion: { enabled: true },
});

/** Errors from parsing and validation (including the limits above) are the client's: give them a code. */
const codeRequestErrors: Plugin = {
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

function withCode(error: Error): GraphQLError {
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

export function createApp(options: AppOptions): App {
  const { db, pubsub, log } = options;
  const authenticator = new Authenticator(db, options.key);
  const metrics = createMetrics(db);

  const yoga = createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: graphqlPath,
    landingPage: false,
    graphiql: graphiqlOptions(options.graphiqlToken),
    renderGraphiQL: graphiqlRenderer(),
    cors: corsPolicy(options.corsOrigins ?? null),
    context: async ({ request, wsAuthorization }) => {
      const header = wsAuthorization !== undefined ? wsAuthorization : request.headers.get('authorization');
      return { db, pubsub, log, ...(await authenticator.authenticate(header)) };
    },
    maskedErrors: {
      maskError: (error, message) => {
        const original = error instanceof GraphQLError ? error.originalError : error;
        if (original instanceof GraphQLError || (error instanceof GraphQLError && !error.originalError))
          return error as Error;
        log.error({ err: original }, 'unexpected error');
        return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      },
    },
    logging: {
      debug: (...args) => log.debug(args.map(String).join(' ')),
      info: (...args) => log.info(args.map(String).join(' ')),
      warn: (...args) => log.warn(args.map(String).join(' ')),
      error: (...args) => log.error(args.map(String).join(' ')),
    },
    plugins: [...armor.protect().plugins, codeRequestErrors, ...metrics.plugins, requestLog(log)],
  });

  const responses = openResponses();
  const probe = (res: ServerResponse, { status, body }: Probe) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const server = createServer((req, res) => {
    const path = req.url?.split('?')[0]?.replace(/\/$/, '');
    if (path === '/health') return probe(res, health());
    if (path === '/ready') {
      void readiness(db, options.redisState?.() ?? 'off').then((result) => probe(res, result));
      return;
    }
    responses.track(res);
    void yoga(req, res);
  });

  const wss = new WebSocketServer({ server, path: graphqlPath });
  // The HTTP server's errors (a port in use) are start()'s to report; the WebSocket server repeats them.
  wss.on('error', () => {});
  metrics.watch(server, wss);
  const sockets = new Set<WebSocket>();
  wss.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  useServer<Record<string, unknown>, { request: IncomingMessage; socket: WebSocket }>(
    {
      // A token that is present but bad closes the connection with 4401 and the reason
      // "UNAUTHENTICATED: …" (graphql-ws clients treat 4401 as final and do not retry with the same
      // token); a missing one is refused per subscription with UNAUTHENTICATED.
      onConnect: async (ctx) => {
        const header = authorizationIn(ctx.connectionParams);
        if (header === undefined) return true;
        const { viewer, authError } = await authenticator.authenticate(header);
        if (viewer) return true;
        ctx.extra.socket.close(4401, closeReason(`UNAUTHENTICATED: ${authError ?? 'bad token'}`));
        return false;
      },
      execute: (args) => (args.rootValue as { execute: (a: ExecutionArgs) => unknown }).execute(args) as never,
      subscribe: (args) => (args.rootValue as { subscribe: (a: ExecutionArgs) => unknown }).subscribe(args) as never,
      onSubscribe: async (ctx, _id, params) => {
        const enveloped = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          connectionParams: ctx.connectionParams,
          wsAuthorization: operationAuthorization(params.extensions, ctx.connectionParams) ?? null,
        });
        let document: DocumentNode;
        try {
          document = enveloped.parse(params.query);
        } catch (error) {
          return [withCode(error instanceof GraphQLError ? error : new GraphQLError(String(error)))];
        }
        const errors = enveloped.validate(enveloped.schema, document);
        if (errors.length > 0) return errors;
        return {
          schema: enveloped.schema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue: await enveloped.contextFactory(),
          rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe },
        };
      },
    },
    wss,
  );

  return {
    server,
    yoga,
    start: (port, host = '127.0.0.1') =>
      new Promise((resolve, reject) => {
        server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, port, host)));
        server.listen(port, host, () => {
          const address = server.address() as AddressInfo;
          const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
          resolve(`http://${shownHost}:${address.port}`);
        });
      }),
    stop: async () => {
      metrics.close();
      for (const socket of sockets) socket.close(1001, 'server shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
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

/** How long stop() lets requests in flight finish before closing their connections. */
const stopGraceMs = 5_000;

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

/** A WebSocket close reason is at most 123 bytes of UTF-8. */
function closeReason(text: string): string {
  let reason = text;
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1);
  return reason;
}
