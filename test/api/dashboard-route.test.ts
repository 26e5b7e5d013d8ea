// /dashboard on the API's server: the built files with their headers, a redirect to the trailing
// slash, the page for any path under it, and a message when the dashboard has not been built.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.ts';

let built: string;
let server: TestServer;
let unbuilt: TestServer;

beforeAll(async () => {
  built = await mkdtemp(path.join(tmpdir(), 'learnloop-dashboard-route-'));
  await mkdir(path.join(built, 'assets'));
  await writeFile(path.join(built, 'index.html'), '<!doctype html><div id="app"></div>');
  await writeFile(path.join(built, 'assets', 'index-abc123.js'), 'console.log(1);');
  server = await startTestServer({ dashboardDir: built });
  unbuilt = await startTestServer({ db: server.db, dashboardDir: path.join(built, 'missing') });
});
afterAll(async () => {
  await unbuilt?.stop();
  await server?.stop();
  await rm(built, { recursive: true, force: true });
});

test('the page, its assets cached for good, the page itself revalidated, under a same-origin CSP', async () => {
  const page = await fetch(`${server.url}/dashboard/`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<div id="app">');
  expect(page.headers.get('cache-control')).toBe('no-cache');
  expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
  const asset = await fetch(`${server.url}/dashboard/assets/index-abc123.js`);
  expect(asset.status).toBe(200);
  expect(asset.headers.get('content-type')).toMatch(/javascript/);
  expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  // Any other path under /dashboard/ is the page (its views live in the fragment).
  expect(await (await fetch(`${server.url}/dashboard/learners`)).text()).toContain('<div id="app">');
});

test('/dashboard redirects to /dashboard/; only GET and HEAD; other paths are the API’s', async () => {
  const bare = await fetch(`${server.url}/dashboard`, { redirect: 'manual' });
  expect(bare.status).toBe(308);
  expect(bare.headers.get('location')).toBe('/dashboard/');
  expect((await fetch(`${server.url}/dashboard/`, { method: 'POST' })).status).toBe(405);
  expect((await fetch(`${server.url}/dashboard/`, { method: 'HEAD' })).status).toBe(200);
  expect((await fetch(`${server.url}/dashboards`)).status).toBe(404);
  expect((await fetch(`${server.url}/health`)).status).toBe(200);
});

test('without a build, the page says how to make one', async () => {
  const response = await fetch(`${unbuilt.url}/dashboard/`);
  expect(response.status).toBe(503);
  expect(await response.text()).toContain('npm run build:web');
});
