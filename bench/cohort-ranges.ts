// What NIGHTLY's activityRollup step costs on the next night, with the preset ranges shifted by a day
// (this code) and worked out again in full (the code before: the first run's way), on PostgreSQL.
//
//   npx tsx bench/cohort-ranges.ts [-- --learners 100000] [--attempts 1000000] [--runs 3]
//
// Seeds the simulation of bench/simulation.ts over the 90 days before now (learners in four time zones),
// rolls it up once (the first night, committed), then adds the next day's attempts (3% of the seeded
// ones, a tenth of them synced late: answered up to 10 days before) and times the step as of the next
// night: shifted, and with the previous ranges deleted first (built in full), alternating, each in a
// transaction rolled back; then the same on a quiet night (no new attempt).
import { loadavg } from 'node:os';
import { createScratchDatabase } from '../src/db/scratch-database.ts';
import type { Transaction } from '../src/db/types.ts';
import type { RunContext } from '../src/jobs/context.ts';
import { rollUpActivity } from '../src/jobs/steps/activity-rollup.ts';
import { clearCohortRanges } from '../src/jobs/steps/cohort-ranges.ts';
import { createLogger, loadJobsConfig, openDatabase } from './app.ts';
import { defer, unwind } from './cleanup.ts';
import { benchDatabaseUrl, parseBenchOptions } from './options.ts';
import { simulationStatements } from './simulation.ts';

const options = parseBenchOptions('usage: npx tsx bench/cohort-ranges.ts -- [--learners N] [--attempts N] [--runs N]', {
  learners: { type: 'string', default: '100000' },
  attempts: { type: 'string', default: '1000000' },
  runs: { type: 'string', default: '3' },
});
const learners = options.number('learners', options.values.learners);
const attempts = options.number('attempts', options.values.attempts);
const runs = options.number('runs', options.values.runs);
const load = () =>
  loadavg()
    .map((n) => n.toFixed(1))
    .join(' / ');

/** A rollback that carries what the work returned out of the transaction. */
class RolledBack<T> extends Error {
  constructor(readonly value: T) {
    super('rolled back');
  }
}

async function main() {
  const scratch = await createScratchDatabase(benchDatabaseUrl, 'll_bench_ranges');
  defer('bench database', () => scratch.drop());
  const db = await openDatabase({ kind: 'postgres', url: scratch.url, poolSize: 2 });
  defer('database', () => db.close());
  const cutoff = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
  const T = `'${cutoff.toISOString()}'::timestamptz`;
  const conn = await db.connect();
  await conn.exec('SET max_parallel_workers_per_gather = 0; SELECT setseed(0.42)');
  const timezones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'];
  for (const { sql } of simulationStatements({ learners, attempts, cutoff, days: 90, timezones })) await conn.exec(sql);
  await conn.exec('RESET max_parallel_workers_per_gather; ANALYZE');
  await conn.release();
  const config = loadJobsConfig({}, { settleMs: 0 });
  const context = (tx: Transaction, at: Date): RunContext => ({
    tx,
    job: 'NIGHTLY',
    runId: '00000000-0000-0000-0000-000000000000',
    slot: at,
    at,
    date: at.toISOString().slice(0, 10),
    windowStart: null,
    windowEnd: at,
    stale: false,
    full: false,
    config,
    log: createLogger('silent'),
    pubsub: null,
    afterCommit: () => {},
  });
  const first = performance.now();
  await db.prisma.$transaction((tx) => rollUpActivity(context(tx, cutoff)), { timeout: 600_000 });
  await db.prisma.$executeRawUnsafe('ANALYZE daily_activity, cohort_range_subcategory_learners, cohort_range_learners');
  const firstMs = performance.now() - first;
  console.log(
    `${learners} learners, ${attempts} attempts: first night's step ${firstMs.toFixed(0)} ms (load ${load()})`,
  );

  const nextAt = new Date(cutoff.getTime() + 86_400_000);
  const time = async (shift: boolean) => {
    const started = performance.now();
    try {
      await db.prisma.$transaction(
        async (tx) => {
          if (!shift) await clearCohortRanges(tx); // no previous ranges: built in full, as before
          throw new RolledBack(await rollUpActivity(context(tx, nextAt)));
        },
        { timeout: 600_000 },
      );
    } catch (error) {
      if (!(error instanceof RolledBack)) throw error;
      return { ms: performance.now() - started, stats: error.value };
    }
    throw new Error('not rolled back');
  };
  const compare = async (night: string) => {
    for (let i = 0; i < runs; i++) {
      for (const shift of [true, false]) {
        const { ms, stats } = await time(shift);
        console.log(
          `  ${night}, ${shift ? 'shifted' : 'in full'}: ${ms.toFixed(0)} ms ` +
            `(${stats.activityRowsRolledUp} rows rolled up; load ${load()})`,
        );
      }
    }
  };
  await compare('quiet night');
  const next = await db.prisma.$executeRawUnsafe(`
    INSERT INTO attempts (user_id, question_id, attempt_no, context, user_answer, correct, time_sec, answered_at,
                          recorded_at, client_attempt_id)
    SELECT a.user_id, a.question_id, a.attempt_no + 1000, a.context, a.user_answer, a.correct, a.time_sec,
           x.at - CASE WHEN random() < 0.1 THEN random() * interval '10 days' ELSE interval '0' END, x.at,
           'bench-next-' || a.id
    FROM attempts a CROSS JOIN LATERAL (SELECT ${T} + random() * interval '23 hours' AS at) x
    WHERE random() < 0.03`);
  await db.prisma.$executeRawUnsafe('ANALYZE attempts');
  console.log(`  the next day: ${next} attempts`);
  await compare('next night');
}

try {
  await main();
} finally {
  await unwind();
}
