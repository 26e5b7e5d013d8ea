// Abuse benchmark (issue 12): does one abusive user slow everybody else down?
//
//   npm run bench:abuse [-- --learners 20000] [--seconds 20] [--clients 16] [--modes none,off,shared,on]
//                       [--rounds 1]
//
// On PostgreSQL (a fresh database on BENCH_DATABASE_URL, dropped at the end): learners with a year of
// attempts. Then, on the same data, for --seconds each:
//   no abuse     the clients alone: what the machine gives them (it may be shared);
//   limits off   the caps relaxed (subscriptions, connections, heavy-query concurrency, statement
//                timeout): one learner holds 10,000 planAdjusted subscriptions over 5 sockets and one
//                coach sends 15 cohortOverview requests over a year at once, again and again (the work
//                of the 15 aliases the query limits used to let through);
//   no per-user cap  as below, but the coach's heavy fields may take every heavy slot (2 at once, the
//                default before MAX_HEAVY_QUERIES_PER_USER): what the per-user cap buys, under the same load;
//   limits on    the defaults (docs/security.md): the learner at the caps (10 sockets × 20 subscriptions,
//                one more of each refused) and the coach sending the most expensive query the cost
//                limit allows (3 aliased cohortOverview over a year), again and again.
// --rounds repeats them in turn. Meanwhile --clients other learners each loop over `{ me { id } }` and
// recordAttempt. Prints their p50/p95/p99/max and errors, and where they could have waited: the event
// loop's delay and the requests waiting for a pool connection. Target: p99 < 100 ms with no errors
// (limits on).
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createScratchDatabase } from '../src/db/scratch-database.ts';
import { type Limits, limitsFromEnv } from '../src/limits.ts';
import { wsClient, wsSubscribe } from '../test/realtime/clients.ts';
import { RealtimePlanAdjusted } from '../test/realtime/documents.ts';
import {
  createApp,
  createEventBus,
  createLogger,
  graphqlPath,
  loadJobsConfig,
  openDatabase,
  secretKey,
  signToken,
} from './app.ts';
import { defer, unwind } from './cleanup.ts';
import { benchDatabaseUrl, parseBenchOptions } from './options.ts';

const options = parseBenchOptions(
  'usage: npm run bench:abuse -- [--learners N=20000] [--seconds N=20] [--clients N=16]\n' +
    '         [--modes none,off,shared,on] [--rounds N=1]',
  {
    modes: { type: 'string', default: 'none,off,shared,on' },
    rounds: { type: 'string', default: '1' },
    learners: { type: 'string', default: '20000' },
    seconds: { type: 'string', default: '20' },
    clients: { type: 'string', default: '16' },
  },
);
const learners = options.number('learners', options.values.learners);
const seconds = options.number('seconds', options.values.seconds);
const clientCount = options.number('clients', options.values.clients);
const rounds = options.number('rounds', options.values.rounds);

const key = secretKey('bench-abuse-secret-0123456789-0123456789');
const year = 'from: "2025-12-01", to: "2026-11-30"';
const cohort = (alias: string) =>
  `${alias}: cohortOverview(${year}) { days { date } subcategories { subcategory } atRisk { accuracyDrop } }`;

interface Mode {
  name: string;
  /** Whether the abuser and the coach run (off: the clients alone, the machine's own latency). */
  abuse: boolean;
  limits: Limits;
  sockets: number;
  subscriptionsPerSocket: number;
  /** The coach's round: requests sent at once, each with these aliases. */
  coachRequests: number;
  coachAliases: number;
}

const modeKeys = { none: 'no abuse', off: 'limits off', shared: 'no per-user cap', on: 'limits on' } as const;
const chosen = options.values.modes.split(',').map((m) => m.trim());
for (const m of chosen) if (!(m in modeKeys)) options.fail(`--modes: ${m} is not one of none, off, shared, on`);
const defaults = limitsFromEnv({});
const modes: Mode[] = [
  {
    name: 'no abuse',
    abuse: false,
    limits: defaults,
    sockets: 0,
    subscriptionsPerSocket: 0,
    coachRequests: 0,
    coachAliases: 0,
  },
  {
    name: 'limits off',
    abuse: true,
    limits: {
      ...defaults,
      subscriptionsPerConnection: 1_000_000,
      connectionsPerUser: 1_000_000,
      heavyQueries: 1_000,
      heavyQueriesPerUser: 1_000,
      statementTimeoutMs: 3_600_000,
    },
    sockets: 5,
    subscriptionsPerSocket: 2_000,
    coachRequests: 15,
    coachAliases: 1,
  },
  {
    name: 'no per-user cap',
    abuse: true,
    limits: { ...defaults, heavyQueriesPerUser: defaults.heavyQueries },
    sockets: defaults.connectionsPerUser + 1,
    subscriptionsPerSocket: defaults.subscriptionsPerConnection + 1,
    coachRequests: 1,
    coachAliases: 3,
  },
  {
    name: 'limits on',
    abuse: true,
    limits: defaults,
    sockets: defaults.connectionsPerUser + 1,
    subscriptionsPerSocket: defaults.subscriptionsPerConnection + 1,
    coachRequests: 1,
    coachAliases: 3,
  },
];

async function post(endpoint: string, token: string, query: string, variables?: unknown) {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
  return { status: response.status, codes: (body.errors ?? []).map((e) => e.extensions?.code ?? 'none') };
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;

async function main() {
  console.log(`== bench:abuse on PostgreSQL: ${learners.toLocaleString('en')} learners with a year of attempts,`);
  console.log(`   ${clientCount} clients, ${seconds} s per mode (the machine may be shared: figures are noisy)`);
  const scratch = await createScratchDatabase(benchDatabaseUrl, 'll_bench_abuse');
  defer('bench database', () => scratch.drop());
  const log = createLogger('silent');

  const seedDb = await openDatabase({ kind: 'postgres', url: scratch.url, poolSize: 4 });
  const t0 = performance.now();
  await seedDb.prisma.$executeRaw`
    INSERT INTO questions (external_id, category, subcategory, difficulty_band, answer, answer_key)
    SELECT 'Q' || g, 'Quantitative', 'Sub ' || (g % 8), 'MEDIUM', 'right', 'right' FROM generate_series(1, 40) g`;
  await seedDb.prisma.$executeRaw`
    INSERT INTO users (name, email, role) SELECT 'Learner ' || g, 'l' || g || '@abuse.example.com', 'LEARNER'
    FROM generate_series(1, ${learners + clientCount + 1}::int) g`;
  await seedDb.prisma
    .$executeRaw`INSERT INTO users (name, email, role) VALUES ('Coach', 'coach@abuse.example.com', 'COACH')`;
  await seedDb.prisma.$executeRaw`
    INSERT INTO attempts (user_id, question_id, attempt_no, context, user_answer, correct, time_sec, recorded_at,
                          answered_at, client_attempt_id)
    SELECT u.id, q.id, k, 'PRACTICE', 'x', random() < 0.6, 20, t, t, 'seed-' || k
    FROM users u
    CROSS JOIN generate_series(1, 10) k
    CROSS JOIN LATERAL (SELECT now() - random() * interval '360 days' AS t) r
    CROSS JOIN LATERAL (SELECT id FROM questions ORDER BY external_id OFFSET (k * 7 + length(u.email)) % 40 LIMIT 1) q
    WHERE u.role = 'LEARNER'`;
  const users = await seedDb.prisma.user.findMany({ select: { id: true, role: true }, orderBy: { email: 'asc' } });
  const questions = await seedDb.prisma.question.findMany({ select: { id: true } });
  await seedDb.close();
  console.log(`seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const gid = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString('base64');
  const coach = users.find((u) => u.role === 'COACH')!;
  const learnerIds = users.filter((u) => u.role === 'LEARNER').map((u) => u.id);
  const abuser = learnerIds[0]!;
  const clients = learnerIds.slice(1, 1 + clientCount);

  const wanted = new Set<string>(chosen.map((m) => modeKeys[m as keyof typeof modeKeys]));
  // Rounds repeat the modes in turn, so that a shared machine's changing load falls on each of them.
  const runs = Array.from({ length: rounds }, (_, round) =>
    modes.filter((m) => wanted.has(m.name)).map((mode) => ({ mode, round: round + 1 })),
  ).flat();
  for (const { mode, round } of runs) {
    const db = await openDatabase(
      { kind: 'postgres', url: scratch.url, poolSize: 10 },
      { statementTimeoutMs: mode.limits.statementTimeoutMs },
    );
    const bus = createEventBus(null, log);
    const app = createApp({ db, pubsub: bus.pubsub, log, jobs: loadJobsConfig({}), key, limits: mode.limits });
    const url = await app.start(0, '127.0.0.1');
    const endpoint = `${url}${graphqlPath}`;

    // The abuser's subscriptions.
    const abuserToken = await signToken(key, { userId: gid('User', abuser), role: 'LEARNER' });
    const sockets = Array.from({ length: mode.sockets }, () => wsClient(url, abuserToken));
    const subscriptions = sockets.flatMap((socket) =>
      Array.from({ length: mode.subscriptionsPerSocket }, () =>
        wsSubscribe(socket, RealtimePlanAdjusted, { userId: gid('User', abuser) }),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const refused = subscriptions.filter((s) => s.inbox.ended).length;
    const socketsRefused = sockets.filter((s) => s.closes.some((c) => c.code === 4429)).length;

    let running = true;
    const coachToken = await signToken(key, { userId: gid('User', coach.id), role: 'COACH' });
    const coachCodes = new Map<string, number>();
    let coachRounds = 0;
    const query = `{ ${Array.from({ length: mode.coachAliases }, (_, i) => cohort(`c${i}`)).join(' ')} }`;
    const coachLoop = (async () => {
      while (running && mode.abuse) {
        const results = await Promise.all(
          Array.from({ length: mode.coachRequests }, () => post(endpoint, coachToken, query)),
        );
        coachRounds++;
        for (const r of results)
          for (const code of r.codes.length ? r.codes : ['ok']) {
            coachCodes.set(code, (coachCodes.get(code) ?? 0) + 1);
          }
      }
    })();

    // Where the clients could wait: the event loop (JS work on the main thread) and the pool.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    let poolWaitingMax = 0;
    const poolSampler = setInterval(() => {
      poolWaitingMax = Math.max(poolWaitingMax, db.pool?.().waiting ?? 0);
    }, 10);
    const cpuAtStart = process.cpuUsage();
    const latencies: number[] = [];
    const errors = new Map<string, number>();
    const clientLoops = clients.map(async (userId, index) => {
      const token = await signToken(key, { userId: gid('User', userId), role: 'LEARNER' });
      let n = 0;
      while (running) {
        const call =
          n % 2 === 0
            ? () => post(endpoint, token, '{ me { id } }')
            : () =>
                post(endpoint, token, 'mutation($input: RecordAttemptInput!) { recordAttempt(input: $input) { id } }', {
                  input: {
                    questionId: gid('Question', questions[(n + index) % questions.length]!.id),
                    userAnswer: 'right',
                    timeSec: 9,
                    context: 'PRACTICE',
                    clientAttemptId: `${mode.name}-${n}`,
                  },
                });
        n++;
        const started = performance.now();
        const result = await call();
        latencies.push(performance.now() - started);
        for (const code of result.status >= 500 ? [`HTTP ${result.status}`, ...result.codes] : result.codes) {
          errors.set(code, (errors.get(code) ?? 0) + 1);
        }
      }
    });
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    running = false;
    await Promise.all([coachLoop, ...clientLoops]);
    loopDelay.disable();
    clearInterval(poolSampler);
    const cpu = process.cpuUsage(cpuAtStart);
    const rss = Math.round(process.memoryUsage().rss / 2 ** 20);
    for (const s of subscriptions) s.stop();
    await Promise.all(sockets.map((s) => s.dispose()));
    await app.stop();
    await bus.close();
    await db.close();

    latencies.sort((a, b) => a - b);
    const ms = (v: number) => `${v.toFixed(1)} ms`;
    console.log(`\n-- ${mode.name}${rounds > 1 ? ` (round ${round})` : ''}`);
    console.log(
      `   abuser: ${subscriptions.length - refused} subscriptions open over ${mode.sockets - socketsRefused} sockets` +
        ` (${refused} refused, ${socketsRefused} sockets refused with 4429); process RSS ${rss} MiB`,
    );
    console.log(
      `   coach: ${coachRounds} rounds of ${mode.coachRequests} × ${mode.coachAliases}-alias cohortOverview; ` +
        `outcomes ${JSON.stringify(Object.fromEntries(coachCodes))}`,
    );
    console.log(
      `   ${clientCount} clients: ${latencies.length} requests, p50 ${ms(quantile(latencies, 0.5))}, ` +
        `p95 ${ms(quantile(latencies, 0.95))}, p99 ${ms(quantile(latencies, 0.99))}, ` +
        `max ${ms(latencies.at(-1) ?? 0)}; ` +
        `errors ${JSON.stringify(Object.fromEntries(errors))}`,
    );
    const load = loadavg().map((l) => l.toFixed(1));
    const cpuSeconds = ((cpu.user + cpu.system) / 1e6).toFixed(1);
    console.log(
      `   event loop delay p99 ${ms(loopDelay.percentile(99) / 1e6)}, max ${ms(loopDelay.max / 1e6)}; ` +
        `pool waiting at most ${poolWaitingMax}; this process's CPU ${cpuSeconds} s; load average ${load.join(' ')}`,
    );
  }
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => unwind());
