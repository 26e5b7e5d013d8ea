// Open responses of the HTTP server, so that stopping it ends SSE streams cleanly (a stream never
// finishes by itself, and server.close() would wait for it until the forced exit).
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface OpenResponses {
  /** Remembers a response while it is open if its request asked for a stream (Accept: text/event-stream). */
  track(request: IncomingMessage, response: ServerResponse): void;
  /** Ends every open text/event-stream response: the client sees the stream end, not an error. */
  endStreams(): void;
}

export function openResponses(): OpenResponses {
  const open = new Set<ServerResponse>();
  return {
    track(request, response) {
      if (!request.headers.accept?.includes('text/event-stream')) return;
      open.add(response);
      response.once('close', () => open.delete(response));
    },
    endStreams() {
      for (const response of open) response.end();
    },
  };
}
