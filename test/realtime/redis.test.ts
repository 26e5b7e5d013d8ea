// Pub/sub through Redis: across instances, and Redis going away.
//  - Two instances on one PostgreSQL database (postgres project; it needs REDIS_URL, which CI sets:
//    without it the suite fails rather than skip).
//  - A Redis that is not there: the API keeps working (both projects; no Redis needed).
//  - A Redis that goes away and comes back: a private redis-server child process on a free port
//    (postgres project, where Redis is installed).
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { topicOf } from '../../src/pubsub.ts';
import { createTestDatabase, describeOnlyOn, type TestDatabase } from '../support/database.ts';
import { createPerson, createWorld, type Person, type World } from '../support/fixtures.ts';
import { dataOf, startTestServer, type TestServer } from '../support/server.ts';
import { capturingLogger } from './capturing-logger.ts';
import { redisSubscribers, type SubscriptionResult, sseSubscribe, waitFor, wsClients, wsSubscribe } from './clients.ts';
import { RealtimeAdjustments, RealtimePlan, RealtimePlanAdjusted } from './documents.ts';
import { endSession, playSession } from './session-play.ts';

const clients = wsClients();
const client = (url: string, token?: string | null) => clients.open(url, token);
afterAll(async () => {
  await clients.disposeAll();
});

function requireRedisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) {
    throw new Error(
      'REDIS_URL is not set: the postgres test project checks pub/sub across instances through Redis ' +
        '(CI sets REDIS_URL=redis://127.0.0.1:6379).',
    );
  }
  return url;
}

function adjustmentOf<T extends { planAdjusted: unknown }>(result: SubscriptionResult<T>): T['planAdjusted'] {
  expect(result.errors).toBeUndefined();
  return result.data!.planAdjusted;
}

/** Waits until the instance listens for the learner's plan changes and Redis has its SUBSCRIBE. */
async function listeningThroughRedis(server: TestServer, redisUrl: string, person: Person, count = 1): Promise<void> {
  const topic = topicOf('plan-adjusted', person.userId);
  await waitFor(`${count} local listener(s) on ${topic}`, () => server.bus.listenerCount(topic) === count);
  await waitFor(
    `Redis to know the subscriber of ${topic}`,
    async () => (await redisSubscribers(redisUrl, topic)) >= 1,
    15_000,
  );
}

describeOnlyOn('postgres', 'across instances (Redis)', () => {
  let db: TestDatabase;
  let a: TestServer;
  let b: TestServer;
  let world: World;
  let redisUrl: string;

  beforeAll(async () => {
    redisUrl = requireRedisUrl();
    db = await createTestDatabase();
    a = await startTestServer({ db, redisUrl });
    b = await startTestServer({ db, redisUrl });
    world = await createWorld(a);
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await db?.destroy();
  });

  test('subscribed on instance A, the session ended on instance B: the adjustment arrives on A, once', async () => {
    const learner = await createPerson(a, world.admin.token, 'Xena Crossing');
    const ws = wsSubscribe(client(a.url, learner.token), RealtimePlanAdjusted, { userId: learner.id });
    const sse = sseSubscribe(a.url, learner.token, RealtimePlanAdjusted, { userId: learner.id });
    await listeningThroughRedis(a, redisUrl, learner, 2);

    const sessionId = await playSession(b, world, learner.token, { Algebra: 'wrong', Geometry: 'right' });
    await endSession(b, learner.token, sessionId);
    const pushed = adjustmentOf(await ws.inbox.next(2_000));
    expect(adjustmentOf(await sse.inbox.next(2_000))).toEqual(pushed);
    expect(pushed).toMatchObject({ trigger: 'SESSION_END', session: { id: sessionId } });
    const target = (s: string) => pushed.after.find((u) => u.subcategory === s)!.targetQuestions;
    expect(target('Algebra')).toBeGreaterThan(target('Geometry'));
    const { user } = dataOf(await a.request(RealtimePlan, { id: learner.id, date: pushed.planDate }, learner.token));
    expect(user!.plan.units.map(({ id: _id, ...u }) => u)).toEqual(pushed.after);

    expect(await ws.inbox.unreadAfter(300)).toEqual([]);
    await endSession(b, learner.token, sessionId); // a repeat, on either instance, pushes nothing
    await endSession(a, learner.token, sessionId);
    expect(await ws.inbox.unreadAfter(500)).toEqual([]);
    expect(await sse.inbox.unreadAfter(0)).toEqual([]);
    ws.stop();
    sse.stop();
  });
});

describe('Redis not there', () => {
  test('mutations keep working, the failure is logged, nothing crashes', async () => {
    const db = await createTestDatabase();
    const { log, lines } = capturingLogger();
    const server = await startTestServer({ db, redisUrl: 'redis://127.0.0.1:1', log });
    try {
      const world = await createWorld(server);
      const learner = await createPerson(server, world.admin.token, 'Rita Redisless');
      // Subscribing is accepted (its SUBSCRIBE waits for Redis); ending a session works and stores the plan.
      const ws = wsSubscribe(client(server.url, learner.token), RealtimePlanAdjusted, { userId: learner.id });
      await waitFor(
        'the local listener',
        () => server.bus.listenerCount(topicOf('plan-adjusted', learner.userId)) === 1,
      );
      const sessionId = await playSession(server, world, learner.token, { Algebra: 'wrong' });
      const ended = await endSession(server, learner.token, sessionId);
      expect(ended).toMatchObject({ id: sessionId, summary: { questionsAttempted: 3, questionsCorrect: 0 } });
      const { user } = dataOf(await server.request(RealtimeAdjustments, { id: learner.id }, learner.token));
      expect(user!.planAdjustments.edges.map((e) => e.node)).toMatchObject([
        { trigger: 'SESSION_END', session: { id: sessionId } },
      ]);
      // The publish gives up after a few reconnection attempts and says so; the process lives on.
      await waitFor(
        'the failed publish to be logged',
        () => lines.some((l) => l.includes('redis command failed')),
        10_000,
      );
      expect(lines.some((l) => l.includes('redis connection error'))).toBe(true);
      expect(ws.inbox.items).toEqual([]);
      // Later mutations work as well.
      expect(
        (
          await endSession(
            server,
            learner.token,
            await playSession(server, world, learner.token, { Geometry: 'right' }),
          )
        ).summary,
      ).toMatchObject({ accuracy: 1 });
      ws.stop();
    } finally {
      await server.stop();
      await db.destroy();
    }
  });
});

describeOnlyOn('postgres', 'Redis going away and coming back', () => {
  let redis: ChildProcess | null = null;
  afterEach(async () => {
    if (redis) await stopRedis(redis);
    redis = null;
  });

  test('a session ended while Redis is down still succeeds; once Redis is back, delivery resumes', async () => {
    requireRedisUrl(); // the project that runs this has Redis installed
    const port = await freePort();
    const redisUrl = `redis://127.0.0.1:${port}`;
    redis = await startRedis(port);
    const db = await createTestDatabase();
    const { log, lines } = capturingLogger();
    const server = await startTestServer({ db, redisUrl, log });
    try {
      const world = await createWorld(server);
      const learner = await createPerson(server, world.admin.token, 'Ronan Restart');
      const ws = wsSubscribe(client(server.url, learner.token), RealtimePlanAdjusted, { userId: learner.id });
      await listeningThroughRedis(server, redisUrl, learner);
      const first = await playSession(server, world, learner.token, { Algebra: 'wrong' });
      await endSession(server, learner.token, first);
      expect(adjustmentOf(await ws.inbox.next(2_000)).session?.id).toBe(first);

      await stopRedis(redis);
      redis = null;
      await waitFor('the lost connection to be logged', () => lines.some((l) => l.includes('redis connection error')));
      const during = await playSession(server, world, learner.token, { Geometry: 'wrong' });
      const ended = await endSession(server, learner.token, during);
      expect(ended).toMatchObject({ id: during, summary: { questionsAttempted: 3 } });

      redis = await startRedis(port);
      await waitFor(
        'the reconnection to be logged',
        () => lines.some((l) => l.includes('redis connection restored')),
        15_000,
      );
      await listeningThroughRedis(server, redisUrl, learner);
      const after = await playSession(server, world, learner.token, { Algebra: 'right' });
      await endSession(server, learner.token, after);
      // The adjustment of the session ended during the outage may or may not have got through; the one after must.
      let delivered = adjustmentOf(await ws.inbox.next(2_000));
      if (delivered.session?.id === during) delivered = adjustmentOf(await ws.inbox.next(2_000));
      expect(delivered).toMatchObject({ trigger: 'SESSION_END', session: { id: after } });
      expect(ws.inbox.ended).toBeNull(); // the WebSocket and its subscription lived through the outage
      ws.stop();
    } finally {
      await server.stop();
      await db.destroy();
    }
  });
});

async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** A private, throw-away redis-server (no persistence) on the port; resolves once it answers. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error) => reject(new Error(`cannot start redis-server (is it installed?): ${error.message}`)));
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  failed.catch(() => {});
  await Promise.race([
    waitFor(`redis-server on port ${port}`, () => redisPing(`redis://127.0.0.1:${port}`), 10_000),
    failed,
  ]);
  return child;
}

async function redisPing(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}
