// Request bodies are capped like graphql-ws messages (MAX_MESSAGE_BYTES): the body is read here,
// before Yoga sees the request, and one larger than the cap (by its Content-Length, or counted as it
// streams in) is answered 413 with the code PAYLOAD_TOO_LARGE. The rest of such a body is never
// buffered: the connection closes after the answer.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The 413 answer, as a GraphQL response so that clients find the code where they look for it. */
function refuse(res: ServerResponse, maxBytes: number): void {
  const message = `The request body is larger than the ${maxBytes} bytes allowed (MAX_MESSAGE_BYTES): send less.`;
  res
    .writeHead(413, { 'content-type': 'application/json; charset=utf-8', connection: 'close' })
    .end(JSON.stringify({ errors: [{ message, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] }));
}

/**
 * Reads the body of a request that has one into `req.body` (Yoga's Node adapter takes it from there);
 * resolves false when it was refused (the response is sent).
 */
export function readBoundedBody(req: IncomingMessage, res: ServerResponse, maxBytes: number): Promise<boolean> {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return Promise.resolve(true);
  if (Number(req.headers['content-length'] ?? 0) > maxBytes) {
    refuse(res, maxBytes);
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.pause();
      chunks.length = 0;
      refuse(res, maxBytes);
      resolve(false);
    };
    req.on('data', onData);
    req.once('end', () => {
      if (size > maxBytes) return;
      (req as IncomingMessage & { body?: Buffer }).body = Buffer.concat(chunks);
      resolve(true);
    });
    // A client that goes away mid-body: nothing to answer.
    req.once('error', () => resolve(false));
    req.once('aborted', () => resolve(false));
  });
}
