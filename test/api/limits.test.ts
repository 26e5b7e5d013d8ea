// Abuse limits (docs/security.md): real-time caps, message size, analytics priced by learners × days,
// the API statement timeout, and a retryable 503 when the pool is exhausted.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { openDatabase } from '../../src/db/client.ts';
import { databaseFailure, maskError } from '../../src/error-masking.ts';
import { HeavyWork } from '../../src/limits.ts';
import { createLogger } from '../../src/logger.ts';
import { waitFor, wsClients, wsSubscribe } from '../realtime/clients.ts';
import { RealtimePlanAdjusted } from '../realtime/documents.ts';
import { createTestDatabase, describeOnlyOn } from '../support/database.ts';
import { createPerson, createWorld, type World } from '../support/fixtures.ts';
import { codesOf, startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let world: World;
const clients = wsClients();

beforeAll(async () => {
  server = await startTestServer({
    limits: { subscriptionsPerConnection: 3, connectionsPerUser: 2, messageBytes: 20_000 },
  });
  world = await createWorld(server);
});
afterAll(async () => {
  await clients.disposeAll();
  await server?.stop();
});

describe('real-time caps', () => {
  test('past the operations of one connection, a subscription is RATE_LIMITED', async () => {
    const client = clients.open(server.url, world.alice.token);
    const open = [1, 2, 3].map(() => wsSubscribe(client, RealtimePlanAdjusted, { userId: world.alice.id }));
    const fourth = wsSubscribe(client, RealtimePlanAdjusted, { userId: world.alice.id });
    const ended = await fourth.inbox.untilEnded();
    expect((ended.error as { extensions?: { code?: string } }[])[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(open.every((s) => s.inbox.ended === null)).toBe(true);
    for (const s of open) s.stop();
  });

  test("past a user's connections, the next one closes with 4429", async () => {
    const first = clients.open(server.url, world.bob.token);
    const second = clients.open(server.url, world.bob.token);
    const third = clients.open(server.url, world.bob.token);
    const subs = [first, second, third].map((c) => wsSubscribe(c, RealtimePlanAdjusted, { userId: world.bob.id }));
    await waitFor('a connection refused', () => [first, second, third].some((c) => c.closes.length > 0));
    const refused = [first, second, third].flatMap((c) => c.closes);
    expect(refused.map((c) => c.code)).toEqual([4429]);
    expect(refused[0]!.reason).toMatch(/^RATE_LIMITED/);
    for (const s of subs) s.stop();
  });

  test('a message over the size limit closes the socket (1009)', async () => {
    const socket = new WebSocket(`${server.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { pad: 'x'.repeat(30_000) } }));
    expect(await closed).toBe(1009);
  });
});

describe('HTTP request bodies are capped like WebSocket messages', () => {
  const createUser = (pad: string) =>
    JSON.stringify({
      query: 'mutation($input: CreateUserInput!) { createUser(input: $input) { id } }',
      variables: { input: { name: 'Padded', email: `padded.${pad.length}@example.com`, pad } },
    });
  const post = (body: BodyInit, headers: Record<string, string> = {}) =>
    fetch(server.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${world.admin.token}`, ...headers },
      body,
      duplex: 'half',
    } as RequestInit);
  const users = () => server.db.prisma.user.count();

  test('a body over MAX_MESSAGE_BYTES is 413 PAYLOAD_TOO_LARGE and writes nothing', async () => {
    const before = await users();
    const response = await post(createUser('x'.repeat(30_000)));
    expect(response.status).toBe(413);
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors.map((e) => e.extensions.code)).toEqual(['PAYLOAD_TOO_LARGE']);
    expect(body.errors[0]!.message).toMatch(/20000 bytes/);
    expect(await users()).toBe(before);
  });

  test('so is one sent in chunks without a Content-Length', async () => {
    const before = await users();
    const text = new TextEncoder().encode(createUser('y'.repeat(30_000)));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < text.length; at += 4_096) controller.enqueue(text.slice(at, at + 4_096));
        controller.close();
      },
    });
    const response = await post(stream);
    expect(response.status).toBe(413);
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors.map((e) => e.extensions.code)).toEqual(['PAYLOAD_TOO_LARGE']);
    expect(await users()).toBe(before);
  });

  test('a body within the cap is served as before', async () => {
    const response = await post(JSON.stringify({ query: `{ me { id } }\n# ${'z'.repeat(15_000)}` }));
    expect(response.status).toBe(200);
    expect(((await response.json()) as { errors?: unknown }).errors).toBeUndefined();
  });
});

describe('analytics priced by learners × days', () => {
  test('a year of the cohort passes alone; three aliased years of it over 30,000 learners are refused', async () => {
    const db = await createTestDatabase();
    await db.prisma.$executeRaw`
      INSERT INTO users (name, email)
      SELECT 'L' || g, 'l' || g || '@price.example.com' FROM generate_series(1, 30000) g`;
    const priced = await startTestServer({ db });
    try {
      const { admin } = await createWorld(priced);
      const year = 'from: "2025-01-01", to: "2025-12-31"';
      const one = await priced.request(`{ cohortOverview(${year}) { from } }`, {}, admin.token);
      expect(one.errors).toBeUndefined();
      const three = await priced.request(
        `{ ${['a', 'b', 'c'].map((alias) => `${alias}: cohortOverview(${year}) { from }`).join(' ')} }`,
        {},
        admin.token,
      );
      expect(codesOf(three)).toEqual(['BAD_USER_INPUT']);
      expect(three.errors?.[0]?.message).toMatch(/over the limit/);
    } finally {
      await priced.stop();
      await db.destroy();
    }
  });
});

describe('heavy analytics take turns', () => {
  /** Work that runs until released, recording when it started. */
  function controlled(log: string[]) {
    const releases = new Map<string, () => void>();
    const work = (name: string) => () =>
      new Promise<string>((resolve) => {
        log.push(name);
        releases.set(name, () => resolve(name));
      });
    const release = async (name: string) => {
      releases.get(name)!();
      await new Promise((resolve) => setTimeout(resolve, 0));
    };
    return { work, release };
  }

  test("one user's fields run one at a time; another user's go first into a free slot", async () => {
    const heavy = new HeavyWork(async () => 0, 2, 1);
    const started: string[] = [];
    const { work, release } = controlled(started);
    const coachA = ['a1', 'a2', 'a3'].map((name) => heavy.run('coach-a', work(name)));
    await new Promise((resolve) => setTimeout(resolve, 0));
    const coachB = heavy.run('coach-b', work('b1'));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(started).toEqual(['a1', 'b1']);
    await release('a1');
    expect(started).toEqual(['a1', 'b1', 'a2']);
    await release('b1');
    await release('a2');
    await release('a3');
    expect(await Promise.all([...coachA, coachB])).toEqual(['a1', 'a2', 'a3', 'b1']);
  });

  test('waiting users take turns; past the waiting cap, RATE_LIMITED', async () => {
    const heavy = new HeavyWork(async () => 0, 1, 1, 4);
    const started: string[] = [];
    const { work, release } = controlled(started);
    const runs = [
      heavy.run('a', work('a1')),
      heavy.run('a', work('a2')),
      heavy.run('a', work('a3')),
      heavy.run('b', work('b1')),
      heavy.run('c', work('c1')),
    ];
    const refused = await heavy.run('c', work('c2')).catch((error: { extensions: { code: string } }) => error);
    expect(refused).toMatchObject({ extensions: { code: 'RATE_LIMITED' } });
    for (const name of ['a1', 'a2', 'b1', 'c1', 'a3']) await release(name);
    expect(started).toEqual(['a1', 'a2', 'b1', 'c1', 'a3']);
    await Promise.all(runs);
  });

  test("a cohort overview with many aliases gets every field, one user's fields queued", async () => {
    const fields = 'days { date } subcategories { subcategory } atRisk { reason }';
    const aliases = ['a', 'b', 'c', 'd', 'e'].map(
      (a) => `${a}: cohortOverview(from: "2026-01-01", to: "2026-01-31") { ${fields} }`,
    );
    const response = await server.request(`{ ${aliases.join(' ')} }`, {}, world.coach.token);
    expect(response.errors).toBeUndefined();
    for (const alias of ['a', 'b', 'c', 'd', 'e']) {
      expect((response.data as Record<string, { days: unknown[] }>)[alias]!.days).toHaveLength(31);
    }
  });
});

describeOnlyOn('postgres', 'database limits', () => {
  test('a statement over API_STATEMENT_TIMEOUT_MS is TIMEOUT, said for a person', async () => {
    const scratch = await createTestDatabase();
    const db = await openDatabase({ kind: 'postgres', url: scratch.url!, poolSize: 2 }, { statementTimeoutMs: 100 });
    try {
      const error = await db.prisma.$queryRaw`SELECT pg_sleep(1)`.then(
        () => null,
        (e: unknown) => e,
      );
      expect(databaseFailure(error)).toBe('TIMEOUT');
      const masked = maskError(error, 'Unexpected error.', createLogger('silent'));
      expect(masked.message).toMatch(/API_STATEMENT_TIMEOUT_MS/);
      expect((masked as { extensions?: { code?: string } }).extensions?.code).toBe('TIMEOUT');
    } finally {
      await db.close();
      await scratch.destroy();
    }
  });

  test('with every pool connection taken, a request is a 503 UNAVAILABLE with Retry-After', async () => {
    const held = await Promise.all(Array.from({ length: 8 }, () => server.db.connect()));
    try {
      const response = await fetch(server.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${world.admin.token}` },
        body: JSON.stringify({ query: 'mutation { upsertUsers(input: []) { index } }' }),
      });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('1');
      const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
      expect(body.errors[0]!.extensions.code).toBe('UNAVAILABLE');
    } finally {
      for (const connection of held) await connection.release();
    }
  });

  test('over graphql-ws too: the connection closes with 1013 (retry), an operation gets UNAVAILABLE', async () => {
    // Subjects the server has not looked up yet: their tokens need the database.
    const first = await createPerson(server, world.admin.token, 'Wanda Waiting');
    const second = await createPerson(server, world.admin.token, 'Otto Operation');
    const held = await Promise.all(Array.from({ length: 8 }, () => server.db.connect()));
    try {
      const connecting = clients.open(server.url, first.token);
      const refused = wsSubscribe(connecting, RealtimePlanAdjusted, { userId: first.id });
      await refused.inbox.untilEnded(20_000);
      expect(connecting.closes.map((c) => c.code)).toEqual([1013]);
      expect(connecting.closes[0]!.reason).toMatch(/^UNAVAILABLE: /);

      const open = clients.open(server.url, null);
      const operation = wsSubscribe(
        open,
        RealtimePlanAdjusted,
        { userId: second.id },
        {
          headers: { authorization: `Bearer ${second.token}` },
        },
      );
      const ended = await operation.inbox.untilEnded(20_000);
      expect((ended.error as { extensions?: { code?: string } }[]).map((e) => e.extensions?.code)).toEqual([
        'UNAVAILABLE',
      ]);
      expect(open.closes).toEqual([]);
    } finally {
      for (const connection of held) await connection.release();
    }
  });
});
