// Benchmark of the queries the web dashboard sends, at scale, on PostgreSQL.
//
//   npm run bench:dashboard [-- --learners 100000] [--attempts 1000000] [--days 90] [--runs 20] [--keep]
//
// 1. Seeds the simulation of bench/simulation.ts over the 90 days before now (learners in four time
//    zones) in a fresh database ll_bench_dashboard_<random> on BENCH_DATABASE_URL (dropped at the end
//    unless --keep), runs NIGHTLY once (masteries, plans, patterns, a day of usage), and gives the
//    sampled learners 90 days of mastery history (what 90 nightly runs would have stored for them).
// 2. Starts the server and sends the dashboard's own documents (web/src/documents.ts) over HTTP, one
//    at a time, as the page does: the cohort view at 7, 30 and 90 days, learner list pages (plain,
//    paged, searched), the learner view (its two requests, as a coach and as the learner) and the
//    operations view. Prints p50/p95/max per query after two warm-up requests each.
// Targets (issue 15): learner view p95 < 100 ms, cohort view at 90 days p95 < 1 s.
import { availableParallelism, loadavg } from 'node:os';
import type { Role } from '../src/auth.ts';
import { createScratchDatabase } from '../src/db/scratch-database.ts';
import { encodeGlobalId } from '../src/ids.ts';
import { loadJobsConfig } from '../src/jobs/config.ts';
import { runJob } from '../src/jobs/run.ts';
import {
  CohortDocument,
  LearnerDocument,
  LearnersDocument,
  MyLearnerDocument,
  OperationsDocument,
  PlansDocument,
} from '../web/src/documents.ts';
import type { TypedDocumentString } from '../web/src/gql/graphql.ts';
import { createApp, createEventBus, createLogger, graphqlPath, openDatabase, secretKey, signToken } from './app.ts';
import { defer, unwind } from './cleanup.ts';
import { benchDatabaseUrl, parseBenchOptions } from './options.ts';
import { simulationStatements } from './simulation.ts';

const options = parseBenchOptions(
  'usage: npm run bench:dashboard -- [--learners N=100000] [--attempts N=1000000] [--days N=90] [--runs N=20]\n' +
    '                                   [--keep]',
  {
    learners: { type: 'string', default: '100000' },
    attempts: { type: 'string', default: '1000000' },
    days: { type: 'string', default: '90' },
    runs: { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
  },
);
const args = options.values;
const learners = options.number('learners', args.learners);
const attempts = options.number('attempts', args.attempts);
const days = options.number('days', args.days);
const runs = options.number('runs', args.runs);
if (days > 366) options.fail('--days must be at most 366');
const baseUrl = benchDatabaseUrl;
const timezones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'];
/** Learners whose view is timed (each given a full mastery history). */
const sampledLearners = 200;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const isoDay = (date: Date) => date.toISOString().slice(0, 10);
const addDays = (day: string, n: number) => isoDay(new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000));

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

async function main() {
  console.log(`== PostgreSQL: ${learners.toLocaleString('en')} learners, ${attempts.toLocaleString('en')} attempts`);
  console.log(`   over ${days} days (the machine may be shared: figures are noisy)`);
  const scratch = await createScratchDatabase(baseUrl, 'll_bench_dashboard');
  defer('bench database', () => (args.keep ? Promise.resolve(console.log(`kept ${scratch.url}`)) : scratch.drop()));
  const db = await openDatabase({ kind: 'postgres', url: scratch.url, poolSize: 10 });
  defer('database', () => db.close());

  // Now, to the hour: the cohort's "today" is the last day of the simulation.
  const cutoff = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
  const today = isoDay(cutoff);
  const conn = await db.connect();
  await conn.exec(`SET max_parallel_workers_per_gather = 0; SELECT setseed(0.42)`);
  let seedMs = 0;
  for (const { label, sql } of simulationStatements({ learners, attempts, cutoff, days, timezones })) {
    const { ms } = await timed(() => conn.exec(sql));
    seedMs += ms;
    console.log(`  seed ${label.padEnd(10)} ${seconds(ms).padStart(8)}`);
  }
  await conn.exec('RESET max_parallel_workers_per_gather; ANALYZE');
  await conn.release();

  const config = loadJobsConfig({}, { settleMs: 0 });
  const night = await timed(() => runJob(db, config, { job: 'NIGHTLY', at: cutoff, date: addDays(today, -1) }));
  if (night.value.outcome !== 'succeeded') throw new Error(`NIGHTLY ${night.value.outcome}: ${night.value.run.error}`);
  console.log(`  NIGHTLY ${seconds(night.ms)}`);
  // What autovacuum does soon after a large run: the planner's statistics of the rollup tables.
  await db.prisma.$executeRawUnsafe(
    'ANALYZE daily_activity, daily_cohort_activity, cohort_range_subcategory_learners, cohort_range_learners, ' +
      'masteries',
  );

  // The sampled learners: random ones among those who practised, each with a history point per day and
  // subcategory of theirs.
  const sample = await db.prisma.$queryRawUnsafe<{ id: string }[]>(
    `SELECT id::text FROM users WHERE role = 'LEARNER' AND EXISTS (SELECT 1 FROM masteries m WHERE m.user_id = users.id)
     ORDER BY md5(id::text) LIMIT ${sampledLearners}`,
  );
  const history = await timed(() =>
    db.prisma.$executeRawUnsafe(
      `INSERT INTO mastery_history (user_id, subcategory, date, score)
       SELECT m.user_id, m.subcategory, d::date, greatest(0, least(1, m.score + (random() - 0.5) * 0.2))
       FROM masteries m CROSS JOIN generate_series('${addDays(today, -days)}'::date, '${addDays(today, -1)}'::date,
            interval '1 day') d
       WHERE m.user_id = ANY('{${sample.map((s) => s.id).join(',')}}'::uuid[])
       ON CONFLICT DO NOTHING`,
    ),
  );
  await db.prisma.$executeRawUnsafe('ANALYZE mastery_history');
  console.log(`  ${history.value.toLocaleString('en')} history points for ${sample.length} learners`);
  console.log(`  seeded in ${seconds(seedMs + night.ms + history.ms)}\n`);

  const key = secretKey('bench-dashboard-secret-0123456789abcdef');
  const log = createLogger('silent');
  const bus = createEventBus(null, log);
  const app = createApp({ db, pubsub: bus.pubsub, log, jobs: config, key });
  const url = await app.start(0, '127.0.0.1');
  defer('server', async () => {
    await app.stop();
    await bus.close();
  });
  const token = (userId: string, role: Role) => signToken(key, { userId, role });
  const admin = await token('00000000-0000-0000-0000-000000000000', 'ADMIN');

  async function send<R, V>(bearer: string, document: TypedDocumentString<R, V>, variables: V): Promise<R> {
    const response = await fetch(`${url}${graphqlPath}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        authorization: `Bearer ${bearer}`,
      },
      body: JSON.stringify({ query: document.toString(), variables }),
    });
    const body = (await response.json()) as { data?: R; errors?: unknown[] };
    if (body.errors?.length || !body.data) throw new Error(JSON.stringify(body.errors ?? body));
    return body.data;
  }

  const results: { query: string; p50: number; p95: number; max: number; n: number }[] = [];
  /** Times `work` for each of `cases` (cycled to `runs` requests) after two warm-up requests. */
  async function measure<C>(query: string, cases: C[], work: (c: C) => Promise<unknown>) {
    for (const c of cases.slice(0, 2)) await work(c);
    const times: number[] = [];
    for (let i = 0; i < Math.max(runs, cases.length); i++)
      times.push((await timed(() => work(cases[i % cases.length]!))).ms);
    times.sort((a, b) => a - b);
    const row = { query, p50: quantile(times, 0.5), p95: quantile(times, 0.95), max: times.at(-1)!, n: times.length };
    results.push(row);
    const ms = (value: number) => `${value.toFixed(1).padStart(7)} ms`;
    console.log(`  ${query.padEnd(44)} p50 ${ms(row.p50)}  p95 ${ms(row.p95)}  max ${ms(row.max)}  (n=${row.n})`);
  }

  for (const span of [7, 30, 90].filter((n) => n <= days)) {
    await measure(`cohort view, ${span} days`, [0], () =>
      send(admin, CohortDocument, { from: addDays(today, -(span - 1)), to: today }),
    );
  }

  const firstPage = await send(admin, LearnersDocument, { first: 25, search: null });
  const cursors = [firstPage.users.pageInfo.endCursor];
  for (let i = 0; i < 10; i++) {
    const page = await send(admin, LearnersDocument, { first: 25, search: null, after: cursors.at(-1) });
    cursors.push(page.users.pageInfo.endCursor);
  }
  await measure('learner list, first page', [0], () => send(admin, LearnersDocument, { first: 25, search: null }));
  await measure('learner list, pages 2–11', cursors, (after) =>
    send(admin, LearnersDocument, { first: 25, search: null, after }),
  );
  await measure('learner list, search "learner 42"', [0], () =>
    send(admin, LearnersDocument, { first: 25, search: 'learner 42' }),
  );
  await measure('learner list, search a rare email', [0], () =>
    send(admin, LearnersDocument, { first: 25, search: `learner${learners - 7}@` }),
  );

  const historyFrom = addDays(today, -89);
  const learnersWithTokens = await Promise.all(
    sample.map(async ({ id }) => ({ id: encodeGlobalId('User', id), token: await token(id, 'LEARNER') })),
  );
  const plans = (id: string, bearer: string) => send(bearer, PlansDocument, { id, today, tomorrow: addDays(today, 1) });
  await measure('learner view 1/2 (coach): learner', learnersWithTokens, (l) =>
    send(admin, LearnerDocument, { id: l.id, historyFrom }),
  );
  await measure('learner view 2/2 (coach): plans', learnersWithTokens, (l) => plans(l.id, admin));
  await measure('learner view 1/2 (learner): me', learnersWithTokens, (l) =>
    send(l.token, MyLearnerDocument, { historyFrom }),
  );
  await measure('learner view, both requests (learner)', learnersWithTokens, async (l) => {
    await send(l.token, MyLearnerDocument, { historyFrom });
    await plans(l.id, l.token);
  });
  await measure('operations view', [0], () =>
    send(admin, OperationsDocument, { from: addDays(today, -29), to: today }),
  );

  const target = (query: string, ms: number) => {
    const row = results.find((r) => r.query === query);
    return row ? `${query}: p95 ${row.p95.toFixed(1)} ms (target < ${ms} ms) ${row.p95 < ms ? 'met' : 'MISSED'}` : '';
  };
  // The figures are only as good as the machine is idle: say how busy it was.
  const load = loadavg().map((n) => n.toFixed(1));
  console.log(`\nload average over the run: ${load.join(', ')} (1, 5, 15 min) on ${availableParallelism()} CPUs`);
  console.log(target('learner view, both requests (learner)', 100));
  console.log(target('cohort view, 90 days', 1000));
}

try {
  await main();
} finally {
  await unwind();
}
