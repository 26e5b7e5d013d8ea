// The server as an HTTP citizen: GraphQL-over-HTTP conformance, health, limits, masked errors, and
// the committed SDL being the schema the server runs.
import { readFile } from 'node:fs/promises';
import { printSchema } from 'graphql';
import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { schema } from '../../src/schema/index.ts';
import { schemaFile } from '../../src/schema/sdl-file.ts';
import { createWorld, type World } from '../support/fixtures.ts';
import { codesOf, startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let world: World;

beforeAll(async () => {
  server = await startTestServer();
  world = await createWorld(server);
});
afterAll(async () => server?.stop());

test('schema.graphql is the SDL of the built schema (run `npm run schema` after changing src/schema)', async () => {
  expect(await readFile(schemaFile, 'utf8')).toBe(`${printSchema(schema)}\n`);
});

describe('GraphQL over HTTP (graphql-http audit suite)', () => {
  for (const audit of serverAudits({ url: () => server.endpoint })) {
    test(audit.name, async () => {
      const result = await audit.fn();
      // MUST requirements have to pass; SHOULD/MAY are reported by the suite as warnings.
      if (audit.name.startsWith('MUST')) expect(result.status, JSON.stringify(result)).toBe('ok');
      else expect(['ok', 'warn']).toContain(result.status);
    });
  }
});

test('/health says the process is alive, /ready that the database answers and is migrated', async () => {
  const response = await fetch(`${server.url}/health`);
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ status: 'ok' });
  const ready = await fetch(`${server.url}/ready`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toEqual({ status: 'ready', database: 'ok', migrations: 'applied', redis: 'off' });
});

test('GraphiQL is served to browsers', async () => {
  const response = await fetch(server.endpoint, { headers: { accept: 'text/html' } });
  expect(response.status).toBe(200);
  expect(await response.text()).toMatch(/graphiql/i);
});

describe('limits', () => {
  test('too deep a query is refused with a code', async () => {
    const deep =
      '{ me { sessions { edges { node { user { sessions { edges { node { user { sessions { edges { node { id } } } ' +
      '} } } } } } } } } }';
    const response = await server.request(deep, {}, world.alice.token);
    expect(codesOf(response)).toContain('BAD_USER_INPUT');
    expect(response.errors?.[0]?.message).toMatch(/depth/i);
  });

  test('too many aliases are refused', async () => {
    const aliases = Array.from({ length: 20 }, (_, i) => `a${i}: me { id }`).join(' ');
    const response = await server.request(`{ ${aliases} }`, {}, world.alice.token);
    expect(codesOf(response)).toContain('BAD_USER_INPUT');
    expect(response.errors?.[0]?.message).toMatch(/alias/i);
  });

  test('too costly a query is refused', async () => {
    const response = await server.request(
      '{ questions(first: 100) { edges { node { id } } } ' +
        'users(first: 100) { edges { node { sessions(first: 100) { edges { node { attempts { id question { id } } } ' +
        '} } } } } }',
      {},
      world.coach.token,
    );
    expect(codesOf(response)).toContain('BAD_USER_INPUT');
    expect(response.errors?.[0]?.message).toMatch(/costs/);
  });

  test('field suggestions are not leaked', async () => {
    const response = await server.request('{ me { nam } }', {}, world.alice.token);
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.message).not.toMatch(/Did you mean/);
    expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
  });

  test('variables that do not fit their type are BAD_USER_INPUT', async () => {
    const response = await server.request(
      'query($id: ID!, $d: Date!) { user(id: $id) { plan(date: $d) { date } } }',
      { id: world.alice.id, d: '2026-02-30' },
      world.alice.token,
    );
    expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.data ?? null).toBeNull();
  });

  test('connections return at most 100 nodes', async () => {
    const response = await server.request(
      '{ questions(first: 1000) { edges { node { id } } } }',
      {},
      world.alice.token,
    );
    expect(response.errors).toBeUndefined();
  });
});

test('a database that goes away: masked errors (no stack, no internals), /ready 503, /health up', async () => {
  const fragile = await startTestServer();
  try {
    const token = await fragile.tokenFor(world.alice.userId, 'COACH');
    await fragile.db.close();
    const response = await fragile.request('{ questions(first: 1) { edges { node { id } } } }', {}, token);
    expect(codesOf(response)).toEqual(['INTERNAL_SERVER_ERROR']);
    expect(JSON.stringify(response)).not.toMatch(/stack|prisma|pglite|at \w+ \(/i);
    const health = await fetch(`${fragile.url}/health`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${fragile.url}/ready`);
    expect(ready.status).toBe(503);
    const body = await ready.text();
    expect(JSON.parse(body)).toEqual({
      status: 'not ready',
      database: 'unavailable',
      migrations: 'unknown',
      redis: 'off',
    });
    expect(body).not.toMatch(/prisma|pglite|postgres|127\.0\.0\.1|5432|closed/i);
  } finally {
    await fragile.app.stop();
    await fragile.bus.close();
    await fragile.db.destroy();
  }
});

test('a learner token whose subject names no user is UNAUTHENTICATED; a staff subject may be any string', async () => {
  const learner = await server.tokenFor('not-a-user', 'LEARNER');
  expect(codesOf(await server.request('{ me { id } }', {}, learner))).toEqual(['UNAUTHENTICATED']);
  const coach = await server.tokenFor('not-a-uuid', 'COACH');
  const response = await server.request<{ me: null }, Record<string, never>>('{ me { id } }', {}, coach);
  expect(codesOf(response)).toEqual([]);
  expect(response.data?.me).toBeNull();
});
