// The web dashboard (web/, built by Vite into dist/dashboard at install: npm run build:web) served
// at /dashboard/ by the API's own server, so it talks to /graphql on the same origin.
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sirv from 'sirv';

export const dashboardPath = '/dashboard';

/** Where `npm run build:web` puts the dashboard. */
export const defaultDashboardDir = fileURLToPath(new URL('../../dist/dashboard', import.meta.url));

// Only this origin: the page loads its own scripts and styles (none from a CDN) and talks to /graphql
// over HTTP and WebSocket. Inline style attributes place the box plots.
const contentSecurityPolicy = [
  "default-src 'self'",
  "connect-src 'self' ws: wss:",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** Serves requests under /dashboard; returns false for any other path (for the caller to serve). */
export function dashboardHandler(dir = defaultDashboardDir): (req: IncomingMessage, res: ServerResponse) => boolean {
  const built = existsSync(path.join(dir, 'index.html'));
  const serve = built
    ? sirv(dir, {
        etag: true,
        // index.html for every path of the page (the views live in the URL's fragment anyway).
        single: true,
        setHeaders: (res, pathname) => {
          res.setHeader('content-security-policy', contentSecurityPolicy);
          res.setHeader('x-content-type-options', 'nosniff');
          res.setHeader('referrer-policy', 'no-referrer');
          // Vite names assets by their content hash: they never change; the page itself may.
          res.setHeader(
            'cache-control',
            pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
          );
        },
      })
    : null;
  return (req, res) => {
    const url = req.url ?? '/';
    if (url !== dashboardPath && !url.startsWith(`${dashboardPath}/`) && !url.startsWith(`${dashboardPath}?`))
      return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return true;
    }
    if (url === dashboardPath || url.startsWith(`${dashboardPath}?`)) {
      res.writeHead(308, { location: `${dashboardPath}/${url.slice(dashboardPath.length)}` }).end();
      return true;
    }
    if (!serve) {
      res
        .writeHead(503, { 'content-type': 'text/plain; charset=utf-8' })
        .end('The dashboard is not built: run `npm run build:web` (npm install does it), then reload.\n');
      return true;
    }
    req.url = url.slice(dashboardPath.length) || '/';
    serve(req, res, () => void res.writeHead(404).end());
    return true;
  };
}
