// graphql-ws on the HTTP server's port and path, executing through the Yoga app's envelop (the same
// plugins, limits and context as over HTTP), the way graphql-yoga's examples/graphql-ws attaches it.
import type { IncomingMessage, Server } from 'node:http';
import type { DocumentNode, ExecutionArgs } from 'graphql';
import { GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Authenticator, Context } from './context.ts';
import { withCode } from './request-errors.ts';
import { authorizationIn, operationAuthorization } from './server/authorization.ts';
import type { ServerContext } from './server.ts';

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
): WebSocketAttachment {
  // Upgrades are handed over by hand (noServer): a WebSocketServer bound to the HTTP server would repeat
  // its errors (a port in use), and graphql-ws would print each as an internal error.
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (request, socket, head) => {
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== path) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  });
  const sockets = new Set<WebSocket>();
  wss.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  useServer<Record<string, unknown>, Extra>(
    {
      onConnect: (ctx) => authenticateConnection(authenticator, ctx.connectionParams, ctx.extra.socket),
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
 * token); a missing one is refused per subscription with UNAUTHENTICATED.
 */
async function authenticateConnection(
  authenticator: Authenticator,
  connectionParams: Record<string, unknown> | undefined,
  socket: WebSocket,
): Promise<boolean> {
  const header = authorizationIn(connectionParams);
  if (header === undefined) return true;
  const { viewer, authError } = await authenticator.authenticate(header);
  if (viewer) return true;
  socket.close(4401, closeReason(`UNAUTHENTICATED: ${authError ?? 'bad token'}`));
  return false;
}

/** A WebSocket close reason is at most 123 bytes of UTF-8. */
function closeReason(text: string): string {
  let reason = text;
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1);
  return reason;
}
