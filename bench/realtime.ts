// Benchmark of real-time plan adaptation (issue 6):
//
//   npm run bench:realtime [-- --subscribers 5000 --sessions 200 --attempts 50 --concurrency 2 --connect-batch 250]
//
// On a fresh PostgreSQL database (ll_bench_rt_<random> on BENCH_DATABASE_URL, default
// postgresql://postgres@127.0.0.1:5432/test; dropped at the end) it inserts, in bulk SQL, a question
// bank of 400 questions over 8 subcategories, `--subscribers` learners (plus 50 for warm-up), for
// `--sessions` of them an open session with `--attempts` graded attempts and some masteries, and for
// half of those a plan for tomorrow (the nightly path, replanLearners). Then:
//  1. the server (the real createApp, in-process pub/sub) starts in a child process
//     (bench/realtime-server.ts), so its memory is measured apart from the clients;
//  2. every learner connects its own graphql-ws client (`ws`) and subscribes to planAdjusted(its userId);
//     the set-up time runs until the server holds all the subscriptions;
//  3. the sessions are ended over HTTP by `--concurrency` closed-loop callers while everyone listens
//     (default 2, the CPU count of our CI machine: more measures queueing, not endSession);
//     for each one: endSession's latency, and the delivery latency from endSession's response to
//     the message at its learner's client (both clocks are this process's);
//  4. every message is checked: the right learner, trigger SESSION_END, once; any session without
//     a message 10 s after the last response is lost.
// File descriptors: both processes need one per connection; the bench checks the limit first (Node
// raises its soft limit to the hard one at start; a hard limit below the need stops it with a message).
// Exits 1 when a message was lost or misdelivered or a request failed (a missed latency target is
// reported, not an error).
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { type Client, createClient } from 'graphql-ws';
import pg from 'pg';
import { WebSocket } from 'ws';
import { createScratchDatabase, type ScratchDatabase } from '../src/db/scratch-database.ts';
import { addDays, localDate } from '../src/domain/calendar.ts';
import { decodeGlobalId, encodeGlobalId } from '../src/ids.ts';
import { benchDatabaseUrl, parseBenchOptions } from './options.ts';

const options = parseBenchOptions(
  'usage: npm run bench:realtime -- [--subscribers N=5000] [--sessions N=200] [--attempts N=50] [--concurrency N=2]\n' +
    '                                  [--connect-batch N=250]',
  {
    subscribers: { type: 'string', default: '5000' },
    sessions: { type: 'string', default: '200' },
    attempts: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '2' },
    'connect-batch': { type: 'string', default: '250' },
  },
);
const args = options.values;
const subscriberCount = options.number('subscribers', args.subscribers);
const sessionCount = options.number('sessions', args.sessions);
const attemptsPerSession = options.number('attempts', args.attempts);
const concurrency = options.number('concurrency', args.concurrency);
const connectBatch = options.number('connect-batch', args['connect-batch']);
const fail = options.fail;
if (sessionCount > subscriberCount)
  fail('--sessions cannot exceed --subscribers: each session belongs to a listening learner');
const warmupCount = 50;

// ---------------------------------------------------------------------------------------------
// File descriptors: every client socket is one here, every server socket one in the server. Node
// raises its own soft limit to the hard limit at start, so the hard limit is what counts.

const fdsNeeded = subscriberCount + 1_024;
const limits = openFileLimits();
if (limits.soft !== null && limits.soft < fdsNeeded) {
  fail(
    `open files: the limit is ${limits.soft} (hard ${limits.hard}) and ${fdsNeeded} are needed: ` +
      `raise it (ulimit -n ${fdsNeeded}, as root or in limits.conf) or use fewer --subscribers`,
  );
}

function openFileLimits(pid: number | 'self' = 'self'): { soft: number | null; hard: number | null } {
  try {
    const match = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(
      readFileSync(`/proc/${pid}/limits`, 'utf8'),
    );
    const parse = (v: string) => (v === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(v));
    return match ? { soft: parse(match[1]!), hard: parse(match[2]!) } : { soft: null, hard: null };
  } catch {
    return { soft: null, hard: null };
  }
}

const { openDatabase, replanLearners, secretKey, signToken, topicOf } = await import('./app.ts');

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const planAdjustedQuery = `subscription BenchPlanAdjusted($userId: ID!) {
  planAdjusted(userId: $userId) {
    id planDate trigger session { id } after { subcategory targetQuestions priority reason }
  }
}`;
const endSessionQuery = `mutation BenchEndSession($id: ID!) {
  endSession(id: $id) {
    id endedAt durationSec
    summary { questionsAttempted accuracy topicsCovered }
    analytics { learningVelocity conceptSwitches }
  }
}`;

// ---------------------------------------------------------------------------------------------
// Database

const subcategories = ['Algebra', 'Geometry', 'Arithmetic', 'Statistics', 'Vocabulary', 'Reading', 'Grammar', 'Logic'];
const questionCount = 400;

interface Learner {
  userId: string;
  globalId: string;
  token: string;
  sessionId: string | null;
}

function createDatabase(): Promise<ScratchDatabase> {
  return createScratchDatabase(benchDatabaseUrl, 'll_bench_rt');
}

/** Everything in bulk SQL: questions, learners, sessions with graded attempts, masteries. */
async function seed(
  sql: pg.Client,
  key: Uint8Array,
): Promise<{ learners: Learner[]; warmup: Learner[]; serverVersion: string }> {
  const serverVersion = (await sql.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
  await sql.query(
    `INSERT INTO questions (external_id, category, subcategory, difficulty_band, answer, answer_key, options,
                            importance_index)
     SELECT 'RT-' || i, CASE WHEN i % 8 < 4 THEN 'Quantitative' ELSE 'Verbal' END, ($1::text[])[i % 8 + 1],
            (ARRAY['EASY', 'MEDIUM', 'HARD'])[i % 3 + 1]::"DifficultyBand", 'A', 'a', '["A", "B", "C", "D"]'::jsonb,
            ((i * 37) % 101) / 100.0
     FROM generate_series(0, $2::int - 1) AS i`,
    [subcategories, questionCount],
  );
  const total = subscriberCount + warmupCount;
  const users = (
    await sql.query<{ id: string; n: number }>(
      `INSERT INTO users (name, email, role, timezone)
       SELECT 'RT Learner ' || i, 'rt.' || i || '@bench.example', 'LEARNER', 'UTC' FROM generate_series(1, $1::int) AS i
       RETURNING id, split_part(split_part(email, '@', 1), '.', 2)::int AS n`,
      [total],
    )
  ).rows.sort((a, b) => a.n - b.n);
  // The first `sessionCount` learners and the warm-up learners (the last ones) have a session to end.
  const withSession = [...users.slice(0, sessionCount), ...users.slice(subscriberCount)].map((u) => u.id);
  const sessions = (
    await sql.query<{ id: string; user_id: string }>(
      `INSERT INTO sessions (user_id, started_at, units)
       SELECT u, now() - interval '40 minutes', ARRAY[]::text[] FROM unnest($1::uuid[]) AS u
       RETURNING id, user_id`,
      [withSession],
    )
  ).rows;
  // attempts: question k·7 (+ a per-session offset) in session order, so a session sees every subcategory;
  // correctness leans by subcategory (30% in the first … 86% in the last), so each plan has weak and strong ones.
  await sql.query(
    `INSERT INTO attempts (user_id, question_id, session_id, attempt_no, context, user_answer, correct, time_sec,
                           hint_used, answered_at, recorded_at, client_attempt_id)
     SELECT s.user_id, q.id, s.id, 1, 'SESSION', CASE WHEN c.correct THEN 'A' ELSE 'B' END, c.correct,
            15 + (k * 13) % 40, k % 11 = 0,
            s.started_at + k * interval '40 seconds', s.started_at + k * interval '40 seconds' + interval '1 second',
            'rt-' || k
     FROM sessions s
     CROSS JOIN generate_series(1, $1::int) AS k
     CROSS JOIN LATERAL (SELECT ((abs(hashtext(s.id::text)) % $2::int) + k * 7) % $2::int AS qi) AS pick
     JOIN questions q ON q.external_id = 'RT-' || pick.qi
     CROSS JOIN LATERAL (SELECT abs(hashtext(s.id::text || ':' || k)) % 100 < 30 + 8 * (pick.qi % 8) AS correct) AS c`,
    [attemptsPerSession, questionCount],
  );
  await sql.query(
    `INSERT INTO masteries (user_id, subcategory, score, attempts_count, last_practiced_at, updated_at)
     SELECT u, sub, 0.2 + (abs(hashtext(u::text || sub)) % 60) / 100.0, 12, now() - interval '3 days', now()
     FROM unnest($1::uuid[]) AS u CROSS JOIN unnest(ARRAY['Algebra', 'Arithmetic', 'Vocabulary', 'Grammar']) AS sub`,
    [withSession],
  );
  const sessionOf = new Map(sessions.map((s) => [s.user_id, s.id]));
  const toLearner = async (u: { id: string }): Promise<Learner> => ({
    userId: u.id,
    globalId: encodeGlobalId('User', u.id),
    token: await signToken(key, { userId: u.id, role: 'LEARNER' }),
    sessionId: sessionOf.get(u.id) ?? null,
  });
  return {
    learners: await Promise.all(users.slice(0, subscriberCount).map(toLearner)),
    warmup: await Promise.all(users.slice(subscriberCount).map(toLearner)),
    serverVersion,
  };
}

// ---------------------------------------------------------------------------------------------
// The server process

interface ServerStats {
  rss: number;
  heapUsed: number;
  external: number;
  listeners: number;
}

interface ServerProcess {
  url: string;
  pid: number;
  fdLimit: number | null;
  stats(topics?: string[], gc?: boolean): Promise<ServerStats>;
  stop(): Promise<void>;
}

async function startServer(databaseUrl: string, secret: string): Promise<ServerProcess> {
  const child: ChildProcess = fork(path.join(root, 'bench/realtime-server.ts'), [], {
    cwd: root,
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      JWT_SECRET: secret,
      DATABASE_POOL_SIZE: process.env.DATABASE_POOL_SIZE ?? '10',
      REDIS_URL: '',
      LOG_LEVEL: 'warn',
    },
  });
  const ready = await new Promise<{ url: string; fdLimit: number | null }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the bench server exited with ${code} before it was ready`)));
    child.once('message', (message: { type: string; url: string; fdLimit: number | null }) => resolve(message));
  });
  let queue: Promise<unknown> = Promise.resolve();
  const ask = <T>(message: object, answer: string) => {
    const next = queue.then(
      () =>
        new Promise<T>((resolve) => {
          const onMessage = (reply: { type: string }) => {
            if (reply.type !== answer) return;
            child.off('message', onMessage);
            resolve(reply as T);
          };
          child.on('message', onMessage);
          child.send(message);
        }),
    );
    queue = next.catch(() => {});
    return next;
  };
  return {
    url: ready.url,
    pid: child.pid!,
    fdLimit: ready.fdLimit,
    stats: (topics, gc = true) => ask<ServerStats>({ type: 'stats', topics, gc }, 'stats'),
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'stop' });
      await exited;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Measurement

interface Delivery {
  subscriber: number;
  at: number;
  sessionId: string | null;
  trigger: string;
  targetsSum: number;
}

interface Ended {
  owner: number;
  sentAt: number;
  respondedAt: number;
  ok: boolean;
  error?: string;
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const ms = (v: number) => (Number.isNaN(v) ? '—' : `${v.toFixed(1)} ms`);
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
/** "p50 …, p95 …, p99 …" of sorted latencies. */
const percentiles = (sorted: readonly number[]) =>
  `p50 ${ms(percentile(sorted, 50))}, p95 ${ms(percentile(sorted, 95))}, p99 ${ms(percentile(sorted, 99))}`;
const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));

async function endSessionOver(
  http: string,
  token: string,
  sessionId: string,
): Promise<{ ok: boolean; error?: string }> {
  const response = await fetch(`${http}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({ query: endSessionQuery, variables: { id: encodeGlobalId('Session', sessionId) } }),
  });
  const body = (await response.json()) as {
    data?: { endSession?: { summary?: { questionsAttempted: number } } };
    errors?: { message: string }[];
  };
  if (body.errors?.length) return { ok: false, error: body.errors[0]!.message };
  if (body.data?.endSession?.summary?.questionsAttempted !== attemptsPerSession)
    return { ok: false, error: `unexpected summary ${JSON.stringify(body.data)}` };
  return { ok: true };
}

async function main(): Promise<number> {
  const database = await createDatabase();
  let server: ServerProcess | null = null;
  const clients: Client[] = [];
  try {
    const secret = randomBytes(24).toString('hex');
    const seedStart = performance.now();
    const { learners, warmup, serverVersion } = await prepareDatabase(database.url, secretKey(secret));
    const seedMs = performance.now() - seedStart;
    server = await startServer(database.url, secret);
    console.log(
      `PostgreSQL ${serverVersion}, Node ${process.version}, ` +
        `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}); ` +
        `seeded ${subscriberCount + warmupCount} learners, ` +
        `${sessionCount + warmupCount} sessions × ${attemptsPerSession} attempts in ${(seedMs / 1000).toFixed(1)} s`,
    );
    console.log(
      `open files: server ${server.fdLimit ?? '?'}, clients ${openFileLimits().soft ?? '?'} (need ≥ ${fdsNeeded})`,
    );
    await warmUp(server, warmup);
    const baseline = await server.stats(learners.map((l) => topicOf('plan-adjusted', l.userId)));
    const listening = await subscribeAll(server, learners, clients);
    const connected = await server.stats();
    const run = await endSessionsWhileListening(server, learners, listening.deliveries);
    const after = await server.stats();
    return report(learners, listening, run, { baseline, connected, after });
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
    await server?.stop().catch(() => {});
    await database.drop();
  }
}

/** Migrations through the app's own factory, then bulk SQL; half the learners with a session get tomorrow's plan. */
async function prepareDatabase(url: string, key: Uint8Array) {
  const db = await openDatabase({ kind: 'postgres', url, poolSize: 4 });
  try {
    const sql = new pg.Client({ connectionString: url });
    await sql.connect();
    const seeded = await seed(sql, key);
    await sql.query('ANALYZE');
    await sql.end();
    // As the nightly job leaves them.
    const now = new Date();
    const tomorrow = addDays(localDate(now, 'UTC'), 1);
    await db.prisma.$transaction((tx) =>
      replanLearners(
        tx,
        seeded.learners.slice(0, Math.floor(sessionCount / 2)).map((l) => ({ userId: l.userId, planDate: tomorrow })),
        'NIGHTLY',
        { now },
      ),
    );
    return seeded;
  } finally {
    await db.close();
  }
}

/** A few sessions ended with nobody listening (JIT, pools, prepared statements). */
async function warmUp(server: ServerProcess, warmup: readonly Learner[]): Promise<void> {
  for (const learner of warmup) {
    const result = await endSessionOver(server.url, learner.token, learner.sessionId!);
    if (!result.ok) throw new Error(`warm-up endSession failed: ${result.error}`);
  }
}

interface Listening {
  deliveries: Delivery[];
  subscriptionErrors: string[];
  connectTimes: number[];
  /** Connections closed after they were acknowledged. */
  closedEarly: () => number;
  /** Until every connection was acknowledged, and until the server counted every subscription. */
  acknowledgedMs: number;
  setupMs: number;
}

/** One graphql-ws client per learner, subscribed to their own plan, in batches of --connect-batch. */
async function subscribeAll(
  server: ServerProcess,
  learners: readonly Learner[],
  clients: Client[],
): Promise<Listening> {
  const wsUrl = `${server.url.replace(/^http/, 'ws')}/graphql`;
  const listening = { deliveries: [] as Delivery[], subscriptionErrors: [] as string[], connectTimes: [] as number[] };
  let closedEarly = 0;
  const setupStart = performance.now();
  for (let from = 0; from < learners.length; from += connectBatch) {
    const batch = learners.slice(from, from + connectBatch);
    await Promise.all(
      batch.map((learner, j) =>
        subscribeOne(wsUrl, learner, from + j, listening, clients, () => {
          closedEarly += 1;
        }),
      ),
    );
  }
  const acknowledgedMs = performance.now() - setupStart;
  let subscribed = 0;
  const deadline = performance.now() + 60_000;
  while (performance.now() < deadline) {
    subscribed = (await server.stats(undefined, false)).listeners;
    if (subscribed >= learners.length) break;
    await sleep(50);
  }
  const setupMs = performance.now() - setupStart;
  if (subscribed < learners.length)
    throw new Error(
      `only ${subscribed} of ${learners.length} subscriptions reached the server ` +
        `(${listening.subscriptionErrors.slice(0, 3).join('; ')})`,
    );
  return { ...listening, closedEarly: () => closedEarly, acknowledgedMs, setupMs };
}

/** Connects one learner and subscribes to planAdjusted; resolves once acknowledged (or refused). */
function subscribeOne(
  wsUrl: string,
  learner: Learner,
  index: number,
  into: Pick<Listening, 'deliveries' | 'subscriptionErrors' | 'connectTimes'>,
  clients: Client[],
  onClosedEarly: () => void,
): Promise<void> {
  return new Promise<void>((resolve) => {
    const started = performance.now();
    let settled = false;
    const settle = () => {
      if (!settled) {
        settled = true;
        resolve();
      }
    };
    const client = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${learner.token}` },
      retryAttempts: 0,
      lazy: true,
      on: {
        connected: () => {
          into.connectTimes.push(performance.now() - started);
          settle();
        },
        closed: () => {
          if (!settled) into.subscriptionErrors.push(`connection ${index} closed before it was acknowledged`);
          else onClosedEarly();
          settle();
        },
      },
    });
    clients.push(client);
    client.subscribe<{
      planAdjusted: { trigger: string; session: { id: string } | null; after: { targetQuestions: number }[] };
    }>(
      { query: planAdjustedQuery, variables: { userId: learner.globalId } },
      {
        next: (result) => {
          const at = performance.now();
          if (result.errors?.length || !result.data) {
            into.subscriptionErrors.push(JSON.stringify(result.errors));
            return;
          }
          const adjusted = result.data.planAdjusted;
          into.deliveries.push({
            subscriber: index,
            at,
            sessionId: adjusted.session ? decodeGlobalId(adjusted.session.id)!.id : null,
            trigger: adjusted.trigger,
            targetsSum: adjusted.after.reduce((s, u) => s + u.targetQuestions, 0),
          });
        },
        error: (error) => {
          into.subscriptionErrors.push(String((error as { reason?: string }).reason ?? error));
          settle();
        },
        complete: () => {},
      },
    );
  });
}

interface SessionRun {
  /** [sessionId, index of its learner] for every learner with a session. */
  owners: [string, number][];
  ended: Map<string, Ended>;
  runMs: number;
}

/** Ends every session over HTTP with --concurrency callers, then waits for the deliveries. */
async function endSessionsWhileListening(
  server: ServerProcess,
  learners: readonly Learner[],
  deliveries: readonly Delivery[],
): Promise<SessionRun> {
  const owners = learners.map((l, i) => [l.sessionId, i] as const).filter((e): e is [string, number] => e[0] !== null);
  const ended = new Map<string, Ended>();
  let next = 0;
  const runStart = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < owners.length) {
        const [sessionId, owner] = owners[next++]!;
        const entry: Ended = { owner, sentAt: performance.now(), respondedAt: NaN, ok: false };
        ended.set(sessionId, entry);
        try {
          const result = await endSessionOver(server.url, learners[owner]!.token, sessionId);
          entry.ok = result.ok;
          entry.error = result.error;
        } catch (error) {
          entry.error = (error as Error).message;
        }
        entry.respondedAt = performance.now();
      }
    }),
  );
  const runMs = performance.now() - runStart;
  // Wait for the stragglers (at most 10 s), then a second more for duplicates or strays.
  const waitUntil = performance.now() + 10_000;
  const deliveredSessions = () => new Set(deliveries.map((d) => d.sessionId)).size;
  while (deliveredSessions() < owners.length && performance.now() < waitUntil) await sleep(20);
  await sleep(1_000);
  return { owners, ended, runMs };
}

/** Each session's first delivery, checked against its owner; what was lost, duplicated or misdelivered. */
function tally(deliveries: readonly Delivery[], run: SessionRun) {
  const ownerOf = new Map(run.owners);
  const firstDelivery = new Map<string, Delivery>();
  let duplicates = 0;
  let misdelivered = 0;
  for (const delivery of deliveries) {
    const owner = delivery.sessionId ? ownerOf.get(delivery.sessionId) : undefined;
    if (owner !== delivery.subscriber || delivery.trigger !== 'SESSION_END' || delivery.targetsSum !== 30) {
      misdelivered += 1;
      continue;
    }
    if (firstDelivery.has(delivery.sessionId!)) duplicates += 1;
    else firstDelivery.set(delivery.sessionId!, delivery);
  }
  const failedRequests = [...run.ended.values()].filter((e) => !e.ok);
  const lost = run.owners.filter(([sessionId]) => run.ended.get(sessionId)?.ok && !firstDelivery.has(sessionId)).length;
  const endLatencies = [...run.ended.values()]
    .filter((e) => e.ok)
    .map((e) => e.respondedAt - e.sentAt)
    .sort((a, b) => a - b);
  let beforeResponse = 0;
  const fromResponse: number[] = [];
  const fromRequest: number[] = [];
  for (const [sessionId, delivery] of firstDelivery) {
    const entry = run.ended.get(sessionId)!;
    const delta = delivery.at - entry.respondedAt;
    if (delta < 0) beforeResponse += 1;
    fromResponse.push(Math.max(0, delta));
    fromRequest.push(delivery.at - entry.sentAt);
  }
  fromResponse.sort((a, b) => a - b);
  fromRequest.sort((a, b) => a - b);
  return {
    firstDelivery,
    duplicates,
    misdelivered,
    failedRequests,
    lost,
    endLatencies,
    beforeResponse,
    fromResponse,
    fromRequest,
  };
}

/** Prints the figures, the targets and a JSON line; 0 when nothing was lost or failed. */
function report(
  learners: readonly Learner[],
  listening: Listening,
  run: SessionRun,
  memory: { baseline: ServerStats; connected: ServerStats; after: ServerStats },
): number {
  const { baseline, connected, after } = memory;
  const { connectTimes, subscriptionErrors, setupMs, acknowledgedMs } = listening;
  const { owners, runMs } = run;
  const t = tally(listening.deliveries, run);
  const { firstDelivery, duplicates, misdelivered, failedRequests, lost, endLatencies, fromResponse } = t;
  connectTimes.sort((a, b) => a - b);
  const perConnection = (after.rss - baseline.rss) / learners.length;
  const perConnectionConnected = (connected.rss - baseline.rss) / learners.length;

  const line = (label: string, value: string) => console.log(`  ${label.padEnd(44)} ${value}`);
  console.log(
    `\nReal-time plan adaptation: ${learners.length} graphql-ws subscribers (one learner each) on one server, ` +
      `${owners.length} sessions × ${attemptsPerSession} attempts ended over HTTP by ${concurrency} callers`,
  );
  line(
    'connection set-up (all subscribed, server-side)',
    `${(setupMs / 1000).toFixed(2)} s ` +
      `(${Math.round(learners.length / (setupMs / 1000))} connections/s, batches of ${connectBatch})`,
  );
  line(
    '  per connection: open + connection_ack',
    `${percentiles(connectTimes)} (all acknowledged after ${(acknowledgedMs / 1000).toFixed(2)} s)`,
  );
  line(
    'server RSS (after GC)',
    `${mb(baseline.rss)} idle → ${mb(connected.rss)} with ${learners.length} subscribers → ` +
      `${mb(after.rss)} after the run`,
  );
  line(
    'server RSS per connection',
    `${(perConnectionConnected / 1024).toFixed(1)} KB subscribed, ` +
      `${(perConnection / 1024).toFixed(1)} KB after the run ` +
      `(heap ${((connected.heapUsed - baseline.heapUsed) / learners.length / 1024).toFixed(1)} KB)`,
  );
  line(
    'endSession (summary, analytics, plan adjustment)',
    `${percentiles(endLatencies)}, max ${ms(endLatencies.at(-1) ?? NaN)}; ` +
      `${(owners.length / (runMs / 1000)).toFixed(0)} sessions/s`,
  );
  line(
    'delivery latency from endSession response',
    `${percentiles(fromResponse)}, max ${ms(fromResponse.at(-1) ?? NaN)} ` +
      `(${t.beforeResponse} arrived before the response, counted as 0 ms)`,
  );
  line('delivery latency from endSession request', percentiles(t.fromRequest));
  line(
    'delivered / lost / duplicated / misdelivered',
    `${firstDelivery.size} / ${lost} / ${duplicates} / ${misdelivered}`,
  );
  line(
    'failed requests / subscription errors / closed',
    `${failedRequests.length} / ${subscriptionErrors.length} / ${listening.closedEarly()}`,
  );
  for (const sample of [...failedRequests.map((f) => f.error), ...subscriptionErrors].slice(0, 5))
    console.log(`    ! ${sample}`);

  const p99 = percentile(fromResponse, 99);
  const p95End = percentile(endLatencies, 95);
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  console.log('\nTargets');
  line('delivery p99 < 250 ms', `${ms(p99)}: ${verdict(p99 < 250)}`);
  line('endSession p95 < 50 ms', `${ms(p95End)}: ${verdict(p95End < 50)}`);
  line(
    'zero lost or misdelivered',
    `${lost + duplicates + misdelivered}: ${verdict(lost + duplicates + misdelivered === 0)}`,
  );
  console.log(
    `\nJSON ${JSON.stringify({
      subscribers: learners.length,
      sessions: owners.length,
      attemptsPerSession,
      concurrency,
      setupMs: Math.round(setupMs),
      connectAckMs: {
        p50: percentile(connectTimes, 50),
        p95: percentile(connectTimes, 95),
        p99: percentile(connectTimes, 99),
      },
      rssBytes: { idle: baseline.rss, subscribed: connected.rss, after: after.rss },
      rssPerConnectionBytes: Math.round(perConnectionConnected),
      endSessionMs: { p50: percentile(endLatencies, 50), p95: p95End, p99: percentile(endLatencies, 99) },
      deliveryFromResponseMs: { p50: percentile(fromResponse, 50), p95: percentile(fromResponse, 95), p99 },
      lost,
      duplicates,
      misdelivered,
      failedRequests: failedRequests.length,
      subscriptionErrors: subscriptionErrors.length,
    })}`,
  );
  return lost + duplicates + misdelivered + failedRequests.length + subscriptionErrors.length === 0 ? 0 : 1;
}

process.exit(await main());
