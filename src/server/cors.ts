// CORS: a browser may call the API with credentials only from an allowed origin: CORS_ORIGINS, or by
// default the server's own (GraphiQL and the dashboard are served from it). Any other origin gets
// no CORS headers, so the browser keeps the response from the page that asked.
import type { CORSOptions } from 'graphql-yoga';

export function corsPolicy(allowed: readonly string[] | null): (request: Request) => CORSOptions {
  return (request) => {
    const origin = request.headers.get('origin');
    if (!origin) return false;
    const origins = allowed ?? [new URL(request.url).origin];
    if (!origins.includes(origin)) return false;
    return { origin: [origin], credentials: true, methods: ['GET', 'POST', 'OPTIONS'], maxAge: 600 };
  };
}
