// The HTTP server: graphql-yoga (GraphQL over HTTP, GraphiQL, SSE) and graphql-ws on the same port and path.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EnvelopArmor } from '@escape.tech/graphql-armor';
import { type DocumentNode, type ExecutionArgs, GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga, isAsyncIterable, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { type WebSocket, WebSocketServer } from 'ws';
import { Authenticator, type Context } from './context.ts';
import type { Database } from './db/client.ts';
import type { Logger } from './logger.ts';
import type { PubSub } from './pubsub.ts';
import { schema } from './schema/index.ts';
import { authorizationIn, operationAuthorization } from './server/authorization.ts';
import { graphiqlOptions, graphiqlRenderer } from './server/graphiql.ts';

export interface AppOptions {
  db: Database;
  pubsub: PubSub;
  log: Logger;
  /** The HS256 key tokens are verified with. */
  key: Uint8Array;
  /** A token GraphiQL opens with (development mode). */
  graphiqlToken?: string;
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

  const yoga = createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: graphqlPath,
    landingPage: false,
    graphiql: graphiqlOptions(options.graphiqlToken),
    renderGraphiQL: graphiqlRenderer(),
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
    plugins: [...armor.protect().plugins, codeRequestErrors],
  });

  const server = createServer((req, res) => {
    if (req.url === '/health' || req.url === '/health/') {
      void health(db).then(({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
      return;
    }
    void yoga(req, res);
  });

  const wss = new WebSocketServer({ server, path: graphqlPath });
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
        server.once('error', reject);
        server.listen(port, host, () => {
          const address = server.address() as AddressInfo;
          const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
          resolve(`http://${shownHost}:${address.port}`);
        });
      }),
    stop: async () => {
      for (const socket of sockets) socket.close(1001, 'server shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A WebSocket close reason is at most 123 bytes of UTF-8. */
function closeReason(text: string): string {
  let reason = text;
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1);
  return reason;
}

async function health(db: Database): Promise<{ status: number; body: Record<string, string> }> {
  try {
    await db.prisma.$queryRaw`SELECT 1`;
    return { status: 200, body: { status: 'ok', database: 'ok' } };
  } catch (error) {
    return { status: 503, body: { status: 'unavailable', database: (error as Error).message } };
  }
}
