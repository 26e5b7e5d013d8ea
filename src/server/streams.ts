// Open responses of the HTTP server, so that stopping it ends SSE streams cleanly (a stream never
// finishes by itself, and server.close() would wait for it until the forced exit).
import type { ServerResponse } from 'node:http';

export interface OpenResponses {
  track(response: ServerResponse): void;
  /** Ends every open text/event-stream response: the client sees the stream end, not an error. */
  endStreams(): void;
}

export function openResponses(): OpenResponses {
  const open = new Set<ServerResponse>();
  return {
    track(response) {
      open.add(response);
      response.once('close', () => open.delete(response));
    },
    endStreams() {
      for (const response of open) {
        if (String(response.getHeader('content-type') ?? '').startsWith('text/event-stream')) response.end();
      }
    },
  };
}
