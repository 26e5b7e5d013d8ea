// Benchmark of the nightly and decay jobs against the database's floor.
//
//   npm run bench:nightly [-- --only postgres|pglite] [--learners 100000] [--attempts 1000000]
//                            [--pglite-learners 10000] [--pglite-attempts 100000] [--keep]
//   npm run bench:nightly -- --scaling [--only postgres|pglite] [--scaling-learners 10000,100000,300000]
//
// For each backend (a fresh PostgreSQL database ll_bench_nightly_<random> on BENCH_DATABASE_URL,
// dropped at the end unless --keep; then in-memory PGlite) it:
//   1. seeds the simulation of bench/simulation.ts (seeded: setseed) over the 30 days before the cutoff;
//   2. times the floor: the bare aggregates over the same attempts that NIGHTLY cannot do without
//      (mean credit per (user, subcategory) of SESSION attempts, and counts per question), warm;
//   3. times NIGHTLY over all of them (the first run: its window is every attempt), per step, and
//      then the write floor: copying the rows that run wrote (scores, history points, plans,
//      patterns) into bare copies of their tables with the same indexes, one INSERT … SELECT each;
//   4. times NIGHTLY on each of the two days after, each over one more day of attempts: the first
//      starts the carried plans, the second is the steady state;
//   5. times MASTERY_DECAY three days later, when every learner is inactive (every score decays);
// and reports the process's peak RSS (for PGlite that includes the database itself).
// With --scaling it instead seeds each population of --scaling-learners with 10 attempts per learner
// and times the first night and the next (a thirtieth of the attempts again), per step and in CPU
// time of this process, so the growth with the population and with the night's work shows (issue 16).
// Targets (issue 16): NIGHTLY ≤ 12 s and ≤ 5× (read floor + write floor), a steady night (the one after
// the next) ≤ 3 s, peak RSS < 1 GiB; MASTERY_DECAY < 5 s (issue 5).

import os from 'node:os';
import { type Database, openDatabase } from '../src/db/client.ts';
import type { MigrationConnection } from '../src/db/migrate.ts';
import { createScratchDatabase } from '../src/db/scratch-database.ts';
import { dateString } from '../src/domain/calendar.ts';
import { loadJobsConfig } from '../src/jobs/config.ts';
import { runJob, type StepEvent } from '../src/jobs/run.ts';
import { type Backend, benchDatabaseUrl, parseBenchOptions } from './options.ts';
import { questionCount, simulationStatements } from './simulation.ts';

const options = parseBenchOptions(
  'usage: npm run bench:nightly -- [--only postgres|pglite] [--learners N=100000] [--attempts N=1000000]\n' +
    '                                 [--pglite-learners N=10000] [--pglite-attempts N=100000] [--keep]\n' +
    '       npm run bench:nightly -- --scaling [--only postgres|pglite] [--scaling-learners 10000,100000,300000]',
  {
    only: { type: 'string' },
    learners: { type: 'string', default: '100000' },
    attempts: { type: 'string', default: '1000000' },
    'pglite-learners': { type: 'string', default: '10000' },
    'pglite-attempts': { type: 'string', default: '100000' },
    keep: { type: 'boolean', default: false },
    scaling: { type: 'boolean', default: false },
    'scaling-learners': { type: 'string', default: '10000,100000,300000' },
  },
);
const args = options.values;
const count = (name: string, text: string) => options.number(name, text, { min: 100 });
const backends = options.backends(args.only);
const sizes: Record<Backend, { learners: number; attempts: number }> = {
  postgres: { learners: count('learners', args.learners), attempts: count('attempts', args.attempts) },
  pglite: {
    learners: count('pglite-learners', args['pglite-learners']),
    attempts: count('pglite-attempts', args['pglite-attempts']),
  },
};
const baseUrl = benchDatabaseUrl;

const cutoff = new Date('2025-03-31T02:00:00Z'); // the NIGHTLY slot that closes 2025-03-30
const config = loadJobsConfig({}, { settleMs: 0 });

// ---------------------------------------------------------------------------------------------
// Memory: the process's resident set, sampled, and its peak as the kernel reports it.

let sampledPeak = 0;
const sampler = setInterval(() => (sampledPeak = Math.max(sampledPeak, process.memoryUsage.rss())), 50);
sampler.unref();
const mib = (bytes: number) => bytes / 2 ** 20;
const peakRssMiB = () => Math.max(mib(sampledPeak), process.resourceUsage().maxRSS / 1024);

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

// ---------------------------------------------------------------------------------------------
// The simulation, in SQL.

/**
 * One more day of attempts, recorded in the day after (cutoff + day − 1 days), for the steady-state
 * nights. Shaped like a day of the seeded thirty (bench/simulation.ts): 80% in blocks of about 5 by
 * one learner in one subcategory (a session's), the rest by learners drawn alone, so a day touches
 * about 11,000 of 100,000 learners. They come as recordAttempt stores them: a prediction and an
 * estimate each, and the learners' skill states moved (attempts, credit, last attempt, plan mastery;
 * the ability terms are left as they were), so that night replays nobody; the 30 days before have
 * neither (imported history: the first night replays every learner).
 */
function nextDayStatement(learners: number, attempts: number, day: number): string {
  const T = `'${cutoff.toISOString()}'::timestamptz + interval '${day - 1} days'`;
  const total = Math.round(attempts / 30);
  const inBlocks = Math.round(total * 0.8);
  return `
    CREATE TEMP TABLE bench_next AS
    SELECT u.id AS user_id, q.id AS question_id, q.sub, p.j, p.context, p.recorded_at,
           random() < 1 / (1 + exp(q.hardness - u.ability)) AS correct,
           1 / (1 + exp(q.hardness - u.ability)) AS predicted, 1 / (1 + exp(-u.ability)) AS estimate
    FROM (SELECT j, CASE WHEN j < ${inBlocks} THEN b.user_idx ELSE floor(power(random(), 1.5) * ${learners})::int END
                      AS user_idx,
                 CASE WHEN j < ${inBlocks} THEN b.sub + 8 * floor(random() * ${questionCount / 8})::int
                      ELSE floor(random() * ${questionCount})::int END AS question_idx,
                 CASE WHEN j % 5 = 0 AND j >= ${inBlocks} THEN 'PRACTICE' ELSE 'SESSION' END AS context,
                 CASE WHEN j < ${inBlocks} THEN b.started_at + (j % 5) * interval '3 minutes'
                      ELSE ${T} + random() * interval '23 hours' END AS recorded_at
          FROM generate_series(0, ${total - 1}) j
          LEFT JOIN (SELECT k, floor(power(random(), 1.5) * ${learners})::int AS user_idx,
                            floor(random() * 8)::int AS sub, ${T} + random() * interval '22 hours' AS started_at
                     FROM generate_series(0, ${Math.ceil(inBlocks / 5)}) k) b ON b.k = j / 5) p
    JOIN bench_users u ON u.idx = p.user_idx
    JOIN bench_questions q ON q.idx = p.question_idx;
    INSERT INTO attempts (user_id, question_id, session_id, attempt_no, context, user_answer, correct, time_sec,
                          hint_used, answered_at, recorded_at, client_attempt_id, mastery_at_attempt,
                          predicted_correct, mastery_after, difficulty_at_attempt)
    SELECT user_id, question_id, NULL, ${day * 1000} + row_number() OVER (PARTITION BY user_id, question_id ORDER BY j),
           context::"AttemptContext", 'A', correct, 30, false, recorded_at, recorded_at,
           'bench-next-${day}-' || j, greatest(0, least(1, estimate)), predicted, estimate,
           (SELECT q.difficulty FROM questions q WHERE q.id = question_id)
    FROM bench_next;
    INSERT INTO skill_states AS k (user_id, subcategory, theta, attempts, credit_sum, recent, last_attempt_at,
                                   updated_at, plan_mastery)
    SELECT n.user_id, s.subcategory, 0, count(*), count(*) FILTER (WHERE n.correct), 0.5, max(n.recorded_at), now(),
           (array_agg(n.estimate ORDER BY n.recorded_at DESC))[1]
    FROM bench_next n JOIN questions s ON s.id = n.question_id
    GROUP BY n.user_id, s.subcategory
    ON CONFLICT (user_id, subcategory) DO UPDATE
    SET attempts = k.attempts + EXCLUDED.attempts, credit_sum = k.credit_sum + EXCLUDED.credit_sum,
        last_attempt_at = EXCLUDED.last_attempt_at, updated_at = EXCLUDED.updated_at,
        plan_mastery = EXCLUDED.plan_mastery;
    DROP TABLE bench_next`;
}

const floorQueries = {
  credit: `
    SELECT count(*)::int AS groups, sum(performance) AS total FROM (
      SELECT a.user_id, q.subcategory,
             avg(CASE WHEN NOT a.correct THEN 0.0 WHEN a.hint_used THEN 0.5 ELSE 1.0 END::float8) AS performance
      FROM attempts a JOIN questions q ON q.id = a.question_id
      WHERE a.recorded_at <= '${cutoff.toISOString()}' AND a.context = 'SESSION'
      GROUP BY a.user_id, q.subcategory) s`,
  perQuestion: `
    SELECT count(*)::int AS questions, sum(n) AS total FROM (
      SELECT question_id, count(*) AS n, count(*) FILTER (WHERE correct) AS correct
      FROM attempts WHERE recorded_at <= '${cutoff.toISOString()}'
      GROUP BY question_id) s`,
};

// ---------------------------------------------------------------------------------------------

interface Result {
  backend: Backend;
  learners: number;
  attempts: number;
  seedMs: Record<string, number>;
  floorMs: { credit: number; perQuestion: number; total: number };
  writeFloor: { ms: number; rows: Record<string, number> };
  nightly: { ms: number; steps: Record<string, number>; stats: unknown };
  /** The two nights after the first, each over one more day of attempts. */
  nextNights: { attempts: number; ms: number; steps: Record<string, number> }[];
  decay: { ms: number; masteries: number };
  rows: { masteries: number; history: number };
  peakRssMiB: number;
}

async function open(backend: Backend): Promise<{ db: Database; drop: () => Promise<void> }> {
  if (backend === 'pglite') {
    const db = await openDatabase({ kind: 'pglite', dataDir: null });
    return { db, drop: () => db.close() };
  }
  const scratch = await createScratchDatabase(baseUrl, 'll_bench_nightly');
  const db = await openDatabase({ kind: 'postgres', url: scratch.url, poolSize: 4 });
  return {
    db,
    drop: async () => {
      await db.close();
      if (args.keep) return console.log(`kept ${scratch.url}`);
      await scratch.drop();
    },
  };
}

async function nightly(db: Database, at: Date, date: string) {
  const steps: Record<string, number> = {};
  const onStep = (event: StepEvent) => {
    steps[event.step] = event.ms;
    process.stdout.write(`    ${event.step.padEnd(24)} ${(event.ms / 1000).toFixed(2).padStart(7)} s\n`);
  };
  const { ms, value } = await timed(() => runJob(db, config, { job: 'NIGHTLY', at, date }, { onStep }));
  if (value.outcome !== 'succeeded') throw new Error(`NIGHTLY ${value.outcome}: ${value.run.error}`);
  const stats = value.run.stats as Record<string, number>;
  console.log(
    `    plans: ${stats.learnersPlanned} active, ${stats.plansSkipped} not planned again, ` +
      `${stats.plansChanged} changed, ${stats.plansCarried} carried; ` +
      `patterns: ${stats.patterns} current, ${stats.patternsComputed} computed, ${stats.patternsWritten} written`,
  );
  return { ms, steps, stats };
}

async function bench(backend: Backend): Promise<Result> {
  const { learners, attempts } = sizes[backend];
  console.log(`\n== ${backend}: ${learners.toLocaleString('en')} learners, ${attempts.toLocaleString('en')} attempts`);
  const { db, drop } = await open(backend);
  let conn: MigrationConnection | null = null;
  try {
    conn = await db.connect();
    const c = conn;
    await c.exec(`SET max_parallel_workers_per_gather = 0; SELECT setseed(0.42)`); // reproducible random()
    const seedMs: Record<string, number> = {};
    for (const { label, sql } of simulationStatements({ learners, attempts, cutoff, days: 30 })) {
      seedMs[label] = (await timed(() => c.exec(sql))).ms;
      console.log(`  seed ${label.padEnd(10)} ${(seedMs[label]! / 1000).toFixed(1).padStart(6)} s`);
    }
    seedMs.analyze = (await timed(() => c.exec('RESET max_parallel_workers_per_gather; ANALYZE'))).ms;
    seedMs.total = Object.values(seedMs).reduce((a, b) => a + b, 0);
    const [{ n }] = (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM attempts')) as [{ n: number }];
    console.log(
      `  seeded ${n.toLocaleString('en')} attempts in ${(seedMs.total / 1000).toFixed(1)} s (analyze included)`,
    );

    // The floor, warm: the best of three after one warm-up, with the jobs' work_mem.
    await c.exec(`SET work_mem = '${config.workMemMb}MB'`);
    await c.query(floorQueries.credit);
    await c.query(floorQueries.perQuestion);
    const best = async (sql: string) =>
      Math.min(...(await sequential(3, () => timed(() => c.query(sql)))).map((r) => r.ms));
    const credit = await best(floorQueries.credit);
    const perQuestion = await best(floorQueries.perQuestion);
    const floorMs = { credit, perQuestion, total: credit + perQuestion };
    console.log(
      `  floor: mean credit per (user, subcategory) ${(credit / 1000).toFixed(2)} s ` +
        `+ counts per question ${(perQuestion / 1000).toFixed(2)} s = ${(floorMs.total / 1000).toFixed(2)} s`,
    );
    await conn.release();
    conn = null;

    console.log(`  NIGHTLY as of ${cutoff.toISOString()} (first run: every attempt)`);
    const first = await nightly(db, cutoff, '2025-03-30');
    console.log(
      `  NIGHTLY total ${(first.ms / 1000).toFixed(2)} s = ${(first.ms / floorMs.total).toFixed(1)}× the floor`,
    );

    const writeFloor = await measureWriteFloor(db);
    console.log(
      `  write floor: ${Object.entries(writeFloor.rows)
        .map(([t, n]) => `${n.toLocaleString('en')} ${t}`)
        .join(', ')} copied in ${(writeFloor.ms / 1000).toFixed(2)} s; ` +
        `NIGHTLY = ${(first.ms / (floorMs.total + writeFloor.ms)).toFixed(1)}× (read floor + write floor)`,
    );

    // The next night (the day after the first night: the carries start) and the one after (steady state).
    const nights: Result['nextNights'] = [];
    for (const day of [1, 2]) {
      const c2 = await db.connect();
      const inserted = await timed(() =>
        c2.exec(`SELECT setseed(0.${42 + day}); ${nextDayStatement(learners, attempts, day)}`),
      );
      await c2.release();
      const at = new Date(cutoff.getTime() + day * 86_400_000);
      console.log(
        `  NIGHTLY as of ${at.toISOString()} (day ${day} after: ${Math.round(attempts / 30).toLocaleString('en')} ` +
          `new attempts, inserted in ${(inserted.ms / 1000).toFixed(1)} s)`,
      );
      const night = await nightly(db, at, dateString(new Date(at.getTime() - 86_400_000)));
      console.log(`  NIGHTLY total ${(night.ms / 1000).toFixed(2)} s`);
      nights.push({ attempts: Math.round(attempts / 30), ms: night.ms, steps: night.steps });
    }
    const nextAt = new Date(cutoff.getTime() + 2 * 86_400_000);

    const decayAt = new Date(nextAt.getTime() + 3 * 86_400_000);
    const decay = await timed(() => runJob(db, config, { job: 'MASTERY_DECAY', at: decayAt }));
    if (decay.value.outcome !== 'succeeded')
      throw new Error(`MASTERY_DECAY ${decay.value.outcome}: ${decay.value.run.error}`);
    const decayed = (decay.value.run.stats as { masteriesDecayed: number }).masteriesDecayed;
    console.log(
      `  MASTERY_DECAY as of ${decayAt.toISOString()}: ` +
        `${decayed.toLocaleString('en')} scores in ${(decay.ms / 1000).toFixed(2)} s`,
    );

    const rows = { masteries: await db.prisma.mastery.count(), history: await db.prisma.masteryHistory.count() };
    return {
      backend,
      learners,
      attempts: n,
      seedMs,
      floorMs,
      writeFloor,
      nightly: first,
      nextNights: nights,
      decay: { ms: decay.ms, masteries: decayed },
      rows,
      peakRssMiB: peakRssMiB(),
    };
  } finally {
    if (conn) await conn.release();
    await drop();
  }
}

/**
 * The rows NIGHTLY wrote, written again into bare copies of their tables (indexes, no foreign keys): what writing them
 * costs at least.
 */
async function measureWriteFloor(db: Database): Promise<{ ms: number; rows: Record<string, number> }> {
  const tables = ['masteries', 'mastery_history', 'plan_adjustments', 'learning_patterns'];
  const conn = await db.connect();
  try {
    const rows: Record<string, number> = {};
    for (const table of tables)
      await conn.exec(`CREATE TABLE bench_copy_${table} (LIKE ${table} INCLUDING DEFAULTS INCLUDING INDEXES)`);
    const { ms } = await timed(async () => {
      for (const table of tables) {
        const [{ n }] = (await conn.query<{ n: number }>(
          `WITH copied AS (INSERT INTO bench_copy_${table} SELECT * FROM ${table} RETURNING 1)
           SELECT count(*)::int AS n FROM copied`,
        )) as [{ n: number }];
        rows[table] = n;
      }
    });
    for (const table of tables) await conn.exec(`DROP TABLE bench_copy_${table}`);
    return { ms, rows };
  } finally {
    await conn.release();
  }
}

/** The machine's 1, 5 and 15 minute load averages (other work shares its cores). */
function loadAverage(): string {
  return os
    .loadavg()
    .map((n) => n.toFixed(1))
    .join(' ');
}

async function sequential<T>(times: number, work: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < times; i++) out.push(await work());
  return out;
}

// ---------------------------------------------------------------------------------------------
// --scaling: the first and the next night over growing populations, 10 attempts per learner.

interface ScalingRow {
  backend: Backend;
  learners: number;
  attempts: number;
  first: { ms: number; steps: Record<string, number>; apiWaitMs: number };
  next: { attempts: number; ms: number; steps: Record<string, number>; apiWaitMs: number };
}

/**
 * Runs the night while a stand-in for the API asks the database `SELECT 1` every 50 ms, and reports
 * the longest time from when a read was due until it was answered. On PGlite the database runs on
 * this process's thread and serves one transaction at a time, so a read waits both for the thread
 * (its timer fires late) and for the run's transaction.
 */
async function nightlyBesideReads(db: Database, at: Date, date: string) {
  let running = true;
  let longest = 0;
  const reads = (async () => {
    for (let due = performance.now(); running; due += 50) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
      await db.prisma.$queryRaw`SELECT 1`;
      longest = Math.max(longest, performance.now() - due);
      due = Math.max(due, performance.now() - 50);
    }
  })();
  try {
    const night = await nightly(db, at, date);
    running = false;
    await reads; // the read queued behind the run's transaction is answered after it
    return { ...night, apiWaitMs: longest };
  } finally {
    running = false;
  }
}

const ms = (value: number) => `${(value / 1000).toFixed(2)} s`;

async function scalingRow(backend: Backend, learners: number): Promise<ScalingRow> {
  const attempts = learners * 10;
  console.log(
    `\n== scaling, ${backend}: ${learners.toLocaleString('en')} learners, ${attempts.toLocaleString('en')} attempts`,
  );
  const { db, drop } = await open(backend);
  try {
    const conn = await db.connect();
    try {
      await conn.exec(`SET max_parallel_workers_per_gather = 0; SELECT setseed(0.42)`);
      for (const { sql } of simulationStatements({ learners, attempts, cutoff, days: 30 })) await conn.exec(sql);
      await conn.exec('RESET max_parallel_workers_per_gather; ANALYZE');
    } finally {
      await conn.release();
    }
    const first = await nightlyBesideReads(db, cutoff, '2025-03-30');
    console.log(`  first night ${(first.ms / 1000).toFixed(2)} s, a read beside it waited ≤ ${ms(first.apiWaitMs)}`);
    const c2 = await db.connect();
    await c2.exec(`SELECT setseed(0.43); ${nextDayStatement(learners, attempts, 1)}; ANALYZE attempts`);
    await c2.release();
    const next = await nightlyBesideReads(db, new Date(cutoff.getTime() + 86_400_000), '2025-03-31');
    console.log(`  next night ${(next.ms / 1000).toFixed(2)} s, a read beside it waited ≤ ${ms(next.apiWaitMs)}`);
    return {
      backend,
      learners,
      attempts,
      first: { ms: first.ms, steps: first.steps, apiWaitMs: first.apiWaitMs },
      next: { attempts: Math.round(attempts / 30), ms: next.ms, steps: next.steps, apiWaitMs: next.apiWaitMs },
    };
  } finally {
    await drop();
  }
}

if (args.scaling) {
  const populations = args['scaling-learners'].split(',').map((n) => count('scaling-learners', n));
  const rows: ScalingRow[] = [];
  for (const backend of backends) for (const learners of populations) rows.push(await scalingRow(backend, learners));
  const stepNames = [...new Set(rows.flatMap((r) => [...Object.keys(r.first.steps), ...Object.keys(r.next.steps)]))];
  const header = [
    'backend',
    'learners',
    'attempts',
    'new attempts',
    'NIGHTLY first / next',
    'read waited first / next',
    ...stepNames,
  ];
  const cell = (r: ScalingRow, step: string) =>
    `${((r.first.steps[step] ?? 0) / 1000).toFixed(2)} / ${((r.next.steps[step] ?? 0) / 1000).toFixed(2)}`;
  console.log(`\nseconds, first night / next night; load average ${loadAverage()}`);
  console.log(`| ${header.join(' | ')} |`);
  console.log(`| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`);
  for (const r of rows) {
    const total = `${(r.first.ms / 1000).toFixed(2)} / ${(r.next.ms / 1000).toFixed(2)}`;
    const counts = [r.learners, r.attempts, r.next.attempts].map((n) => n.toLocaleString('en'));
    const waited = `${ms(r.first.apiWaitMs)} / ${ms(r.next.apiWaitMs)}`;
    console.log(`| ${[r.backend, ...counts, total, waited, ...stepNames.map((step) => cell(r, step))].join(' | ')} |`);
  }
  console.log(`\n${JSON.stringify(rows)}`);
  process.exit(0);
}

const results: Result[] = [];
for (const backend of backends) results.push(await bench(backend));

const s = ms;
console.log(`\nload average ${loadAverage()}`);
const columns = [
  'backend',
  'learners',
  'attempts',
  'seed',
  'floor',
  'NIGHTLY',
  '×floor',
  'write floor',
  '×(floor + write floor)',
  'next night / the one after',
  'DECAY (scores)',
  'peak RSS',
];
const tableRow = (cells: string[]) => `| ${cells.join(' | ')} |`;
console.log(`\n${tableRow(columns)}`);
console.log(tableRow(columns.map((_, i) => (i === 0 ? '---' : '---:'))));
for (const r of results) {
  console.log(
    tableRow([
      r.backend,
      r.learners.toLocaleString('en'),
      r.attempts.toLocaleString('en'),
      s(r.seedMs.total!),
      s(r.floorMs.total),
      s(r.nightly.ms),
      `${(r.nightly.ms / r.floorMs.total).toFixed(1)}×`,
      s(r.writeFloor.ms),
      `${(r.nightly.ms / (r.floorMs.total + r.writeFloor.ms)).toFixed(1)}×`,
      r.nextNights.map((night) => s(night.ms)).join(' / '),
      `${s(r.decay.ms)} (${r.decay.masteries.toLocaleString('en')})`,
      `${Math.round(r.peakRssMiB)} MiB`,
    ]),
  );
}
const pgResult = results.find((r) => r.backend === 'postgres');
if (pgResult) {
  const steady = pgResult.nextNights.at(-1)!.ms;
  const floors = pgResult.floorMs.total + pgResult.writeFloor.ms;
  const checks = [
    [`NIGHTLY ≤ 12 s`, pgResult.nightly.ms <= 12_000],
    [`NIGHTLY ≤ 5× (read + write floor)`, pgResult.nightly.ms <= 5 * floors],
    [`the night after the next ≤ 3 s`, steady <= 3_000],
    [`peak RSS < 1 GiB`, pgResult.peakRssMiB < 1024],
    [`MASTERY_DECAY < 5 s`, pgResult.decay.ms < 5_000],
  ] as const;
  console.log(`\ntargets (PostgreSQL): ${checks.map(([name, ok]) => `${name} ${ok ? 'met' : 'MISSED'}`).join('; ')}`);
}
console.log(`\n${JSON.stringify(results)}`);
