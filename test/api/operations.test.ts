// What an operator sees: /metrics moving with the traffic, one log line per operation without
// personal data, and CORS limited to the allowed origins.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { capturingLogger } from '../realtime/capturing-logger.ts';
import { sseSubscribe, waitFor, wsClients, wsSubscribe } from '../realtime/clients.ts';
import { RealtimePlanAdjusted } from '../realtime/documents.ts';
import { testDatabaseKind } from '../support/database.ts';
import { createWorld, type World } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let world: World;
const captured = capturingLogger();
const clients = wsClients();

beforeAll(async () => {
  server = await startTestServer({ log: captured.log });
  world = await createWorld(server);
});
afterAll(async () => {
  await clients.disposeAll();
  await server?.stop();
});

/** The sum of a metric's samples whose labels include `labels`. */
async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const response = await fetch(`${server.url}/metrics`);
  expect(response.status).toBe(200);
  let sum = 0;
  for (const line of (await response.text()).split('\n')) {
    const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) sum += Number(match[3]);
  }
  return sum;
}

describe('/metrics', () => {
  test('a query moves the operation counter and duration; an error counts by its code', async () => {
    const op = { operationName: 'MetricsQuestions', operationType: 'query' };
    const before = await metric('graphql_envelop_request', op);
    const durations = await metric('graphql_envelop_request_duration_count', op);
    const http = await metric('graphql_yoga_http_duration_count', { path: '/graphql', statusCode: '200' });
    const query = 'query MetricsQuestions { questions(first: 1) { edges { node { id } } } }';
    expect((await server.request(query, {}, world.alice.token)).errors).toBeUndefined();
    expect(await metric('graphql_envelop_request', op)).toBe(before + 1);
    expect(await metric('graphql_envelop_request_duration_count', op)).toBe(durations + 1);
    expect(await metric('graphql_yoga_http_duration_count', { path: '/graphql', statusCode: '200' })).toBe(http + 1);

    const forbidden = { operationName: 'MetricsUsers', code: 'FORBIDDEN' };
    const errors = await metric('graphql_envelop_error_result', forbidden);
    await server.request('query MetricsUsers { users(first: 1) { edges { node { id } } } }', {}, world.alice.token);
    expect(await metric('graphql_envelop_error_result', forbidden)).toBe(errors + 1);
    const invalid = { operationName: 'MetricsInvalid', code: 'BAD_USER_INPUT', phase: 'validate' };
    await server.request('query MetricsInvalid { me { nope } }', {}, world.alice.token);
    expect(await metric('graphql_envelop_error_result', invalid)).toBe(1);
  });

  test('open subscriptions and connections, by transport', async () => {
    const ws = wsSubscribe(clients.open(server.url, world.alice.token), RealtimePlanAdjusted, {
      userId: world.alice.id,
    });
    const sse = sseSubscribe(server.url, world.alice.token, RealtimePlanAdjusted, { userId: world.alice.id });
    expect(await sse.status).toBe(200);
    await waitFor('both subscriptions counted', async () => {
      return (
        (await metric('learnloop_open_subscriptions', { transport: 'websocket' })) === 1 &&
        (await metric('learnloop_open_subscriptions', { transport: 'sse' })) === 1
      );
    });
    expect(await metric('learnloop_open_connections', { protocol: 'websocket' })).toBe(1);
    expect(await metric('learnloop_open_connections', { protocol: 'http' })).toBeGreaterThanOrEqual(2);
    ws.stop();
    sse.stop();
    await waitFor('both subscriptions ended', async () => (await metric('learnloop_open_subscriptions')) === 0);
  });

  test('job runs by job and outcome, with their durations', async () => {
    const labels = { job: 'PATTERNS', outcome: 'succeeded' };
    const before = await metric('learnloop_job_runs_total', labels);
    const run = await server.request('mutation { runJob(job: PATTERNS) { status } }', {}, world.admin.token);
    expect(run.data).toEqual({ runJob: { status: 'SUCCEEDED' } });
    expect(await metric('learnloop_job_runs_total', labels)).toBe(before + 1);
    expect(await metric('learnloop_job_run_duration_seconds_count', labels)).toBe(before + 1);
  });

  test('database pool use (PostgreSQL) and the process', async () => {
    if (testDatabaseKind === 'postgres') {
      expect(await metric('learnloop_database_pool_connections', { state: 'max' })).toBe(8);
      expect(await metric('learnloop_database_pool_connections', { state: 'total' })).toBeGreaterThanOrEqual(1);
    } else {
      expect(await metric('learnloop_database_pool_connections')).toBe(0);
    }
    expect(await metric('process_resident_memory_bytes')).toBeGreaterThan(0);
  });
});

describe('request log', () => {
  const linesOf = (operation: string) =>
    captured.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.operation === operation);

  test('one line per operation: name, type, duration, outcome, role; never the token or the variables', async () => {
    const secretAnswer = 'my-very-personal-answer';
    await server.request(
      'query LogMe($note: String) { me { name } questions(first: 1, subcategory: $note) { edges { node { id } } } }',
      { note: secretAnswer },
      world.alice.token,
    );
    await server.request('query LogForbidden { users(first: 1) { edges { node { id } } } }', {}, world.alice.token);
    await server.request('query LogInvalid { me { nope } }', {}, null);
    const [ok] = linesOf('LogMe');
    expect(linesOf('LogMe')).toHaveLength(1);
    expect(ok).toMatchObject({ msg: 'graphql operation', type: 'query', outcome: 'ok', role: 'LEARNER' });
    expect(ok!.ms).toBeTypeOf('number');
    expect(linesOf('LogForbidden')).toEqual([expect.objectContaining({ outcome: 'error', codes: ['FORBIDDEN'] })]);
    expect(linesOf('LogInvalid')).toEqual([
      expect.objectContaining({ outcome: 'error', codes: ['BAD_USER_INPUT'], role: 'anonymous' }),
    ]);
    const all = captured.lines.join('\n');
    expect(all).not.toContain(world.alice.token);
    expect(all).not.toContain(secretAnswer);
    expect(all).not.toContain('Alice');
  });

  test('a subscription logs one line when it ends, with the events it delivered', async () => {
    const client = clients.open(server.url, world.bob.token);
    const document = parse('subscription LogPlan($userId: ID!) { planAdjusted(userId: $userId) { id } }');
    const sub = wsSubscribe(client, document as TypedDocumentNode<unknown, { userId: string }>, {
      userId: world.bob.id,
    });
    await waitFor('subscribed', () => server.bus.listenerCount(`plan-adjusted:${world.bob.userId}`) === 1);
    expect(linesOf('LogPlan')).toEqual([]);
    sub.stop();
    await waitFor('its line', () => linesOf('LogPlan').length === 1);
    expect(linesOf('LogPlan')[0]).toMatchObject({ type: 'subscription', outcome: 'ok', events: 0, role: 'LEARNER' });
  });
});

describe('CORS', () => {
  const preflight = (url: string, origin: string) =>
    fetch(`${url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });

  test("by default only the server's own origin (GraphiQL, the dashboard) gets CORS headers", async () => {
    const own = await preflight(server.url, server.url);
    expect(own.headers.get('access-control-allow-origin')).toBe(server.url);
    expect(own.headers.get('access-control-allow-credentials')).toBe('true');
    const other = await preflight(server.url, 'https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(other.headers.get('access-control-allow-credentials')).toBeNull();
  });

  test('CORS_ORIGINS lists the origins allowed', async () => {
    const configured = await startTestServer({
      db: server.db,
      corsOrigins: ['https://app.example', 'http://localhost:5173'],
    });
    try {
      for (const origin of ['https://app.example', 'http://localhost:5173']) {
        expect((await preflight(configured.url, origin)).headers.get('access-control-allow-origin')).toBe(origin);
      }
      expect(
        (await preflight(configured.url, 'https://evil.example')).headers.get('access-control-allow-origin'),
      ).toBeNull();
      expect((await preflight(configured.url, configured.url)).headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await configured.stop();
    }
  });
});
