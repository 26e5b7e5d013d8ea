// graphql-ws on the HTTP server's port and path, executing through the Yoga app's envelop (the same
// plugins, limits and context as over HTTP), the way graphql-yoga's examples/graphql-ws attaches it.
import type { IncomingMessage, Server } from 'node:http';
import type { DocumentNode, ExecutionArgs } from 'graphql';
import { GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Authenticator, Context } from './context.ts';
import { maskError } from './error-masking.ts';
import { apiError } from './errors.ts';
import { type Limits, PerKeyCap } from './limits.ts';
import type { Logger } from './logger.ts';
import { withCode } from './request-errors.ts';
import { authorizationIn, operationAuthorization } from './server/authorization.ts';
import type { ServerContext } from './server.ts';
import { atInstant, tokenExpiredMessage } from './token-expiry.ts';

export interface WebSocketAttachment {
  /** Closes every connection (1001) and the WebSocket server. */
  close(): Promise<void>;
  /** WebSocket connections open now. */
  connections(): number;
}

type Extra = { request: IncomingMessage; socket: WebSocket };

export function attachWebSocket(
  server: Server,
  path: string,
  yoga: YogaServerInstance<ServerContext, Context>,
  authenticator: Authenticator,
  limits: Limits,
  log: Logger,
): WebSocketAttachment {
  // Messages are capped like HTTP bodies: a larger one closes the socket (1009). Upgrades are handed
  // over by hand (noServer): a WebSocketServer bound to the HTTP server would repeat its errors (a port
  // in use), and graphql-ws would print each as an internal error.
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.messageBytes });
  server.on('upgrade', (request, socket, head) => {
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== path) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  });
  const connectionsPerUser = new PerKeyCap(limits.connectionsPerUser);
  const sockets = new Set<WebSocket>();
  wss.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  useServer<Record<string, unknown>, Extra>(
    {
      onConnect: async (ctx) => {
        try {
          return await authenticateConnection(
            authenticator,
            ctx.connectionParams,
            ctx.extra.socket,
            connectionsPerUser,
            limits,
          );
        } catch (error) {
          // The token's subject could not be looked up (the database is down or busy): 1013, try again
          // later, which graphql-ws clients retry, rather than an internal error (4500, final).
          const masked = maskError(error, 'Unexpected error.', log) as GraphQLError;
          const code = masked.extensions?.code === 'UNAVAILABLE' ? 1013 : 4500;
          ctx.extra.socket.close(code, closeReason(`${String(masked.extensions?.code)}: ${masked.message}`));
          return false;
        }
      },
      execute: (args) => (args.rootValue as { execute: (a: ExecutionArgs) => unknown }).execute(args) as never,
      subscribe: (args) => (args.rootValue as { subscribe: (a: ExecutionArgs) => unknown }).subscribe(args) as never,
      onSubscribe: async (ctx, _id, params) => {
        // The new operation is already counted among the connection's subscriptions.
        if (Object.keys(ctx.subscriptions).length > limits.subscriptionsPerConnection) {
          return [
            apiError(
              'RATE_LIMITED',
              `At most ${limits.subscriptionsPerConnection} operations per connection: ` +
                'complete one first, or open another connection.',
            ),
          ];
        }
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
        let contextValue: Context;
        try {
          contextValue = await enveloped.contextFactory();
        } catch (error) {
          // The database is down or busy (the token's subject is looked up): this operation's error, masked
          // like any other (UNAVAILABLE), not an internal error that closes the connection.
          return [maskError(error, 'Unexpected error.', log) as GraphQLError];
        }
        return {
          schema: enveloped.schema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue,
          rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe },
        };
      },
    },
    wss,
  );
  return {
    connections: () => sockets.size,
    async close() {
      for (const socket of sockets) socket.close(1001, 'server shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/**
 * A token that is present but bad closes the connection with 4401 and the reason
 * "UNAUTHENTICATED: …" (graphql-ws clients treat 4401 as final and do not retry with the same
 * token); a missing one is refused per subscription with UNAUTHENTICATED. A user past their
 * connection cap is closed with 4429 (final too: no reconnect storm), and a connection closes with
 * 4401 when its token expires.
 */
async function authenticateConnection(
  authenticator: Authenticator,
  connectionParams: Record<string, unknown> | undefined,
  socket: WebSocket,
  connectionsPerUser: PerKeyCap,
  limits: Limits,
): Promise<boolean> {
  const header = authorizationIn(connectionParams);
  if (header === undefined) return true;
  const { viewer, authError, tokenExpiresAt } = await authenticator.authenticate(header);
  if (!viewer) {
    socket.close(4401, closeReason(`UNAUTHENTICATED: ${authError ?? 'bad token'}`));
    return false;
  }
  const release = connectionsPerUser.acquire(viewer.userId ?? viewer.subject);
  if (!release) {
    const cap = `at most ${limits.connectionsPerUser} connections per user: close one first`;
    socket.close(4429, closeReason(`RATE_LIMITED: ${cap}`));
    return false;
  }
  socket.once('close', release);
  if (tokenExpiresAt !== null) {
    const cancel = atInstant(tokenExpiresAt, () => socket.close(4401, `UNAUTHENTICATED: ${tokenExpiredMessage}`));
    socket.once('close', cancel);
  }
  return true;
}

/** A WebSocket close reason is at most 123 bytes of UTF-8. */
function closeReason(text: string): string {
  let reason = text;
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1);
  return reason;
}
