// The scheduler: catch-up of missed slots in order (bounded by JOBS_CATCHUP_DAYS), a seconds cron,
// and on PostgreSQL two schedulers racing for the same slots and a restart after downtime.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.ts';
import type { JobName } from '../../src/generated/prisma/client.ts';
import type { JobsConfig } from '../../src/jobs/config.ts';
import { createScheduler, type ScheduledRun } from '../../src/jobs/scheduler.ts';
import { createTestDatabase, describeOnlyOn, type TestDatabase } from '../support/database.ts';
import { at, emptyDatabase, testJobsConfig } from './support.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
beforeEach(async () => emptyDatabase(db));
afterAll(async () => db?.destroy());

/** Waits for a condition of the database (no timing is asserted: the test's timeout bounds it). */
async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 100));
}

const never = '0 0 1 1 *'; // a schedule that does not fire during a test
const iso = (runs: ScheduledRun[]) => runs.map((r) => [r.job, r.slot.toISOString()]);

async function ledgerRow(job: JobName, slot: string, status: 'SUCCEEDED' | 'FAILED') {
  await db.prisma.jobRun.create({ data: { job, slot: at(slot), status, finishedAt: at(slot) } });
}

async function catchUp(config: JobsConfig, now: string, database: Database = db): Promise<ScheduledRun[]> {
  const runs: ScheduledRun[] = [];
  const scheduler = createScheduler(database, config, { now: () => at(now), onRun: (run) => runs.push(run) });
  scheduler.start();
  await scheduler.caughtUp();
  await scheduler.stop();
  return runs.filter((r) => r.source === 'catch-up');
}

describe('catch-up at start', () => {
  test('missed slots of both jobs run oldest first; succeeded ones are skipped, failed ones retried', async () => {
    await ledgerRow('NIGHTLY', '2025-03-01T02:00:00Z', 'SUCCEEDED');
    await ledgerRow('MASTERY_DECAY', '2025-03-01T00:00:00Z', 'SUCCEEDED');
    await ledgerRow('MASTERY_DECAY', '2025-03-02T12:00:00Z', 'FAILED');
    await ledgerRow('MASTERY_DECAY', '2025-03-02T18:00:00Z', 'SUCCEEDED');
    const runs = await catchUp(testJobsConfig(), '2025-03-03T07:00:00Z');
    expect(iso(runs)).toEqual([
      ['MASTERY_DECAY', '2025-03-01T06:00:00.000Z'],
      ['MASTERY_DECAY', '2025-03-01T12:00:00.000Z'],
      ['MASTERY_DECAY', '2025-03-01T18:00:00.000Z'],
      ['MASTERY_DECAY', '2025-03-02T00:00:00.000Z'],
      ['NIGHTLY', '2025-03-02T02:00:00.000Z'],
      ['MASTERY_DECAY', '2025-03-02T06:00:00.000Z'],
      ['MASTERY_DECAY', '2025-03-02T12:00:00.000Z'],
      ['MASTERY_DECAY', '2025-03-03T00:00:00.000Z'],
      ['NIGHTLY', '2025-03-03T02:00:00.000Z'],
      ['MASTERY_DECAY', '2025-03-03T06:00:00.000Z'],
    ]);
    expect(runs.every((r) => r.outcome === 'succeeded')).toBe(true);
    const nightly = await db.prisma.jobRun.findMany({ where: { job: 'NIGHTLY' }, orderBy: { slot: 'asc' } });
    // The scheduled 02:00 run closes the day before.
    expect(nightly.map((r) => r.runDate?.toISOString().slice(0, 10))).toEqual([undefined, '2025-03-01', '2025-03-02']);
    expect(await db.prisma.jobRun.count({ where: { status: { not: 'SUCCEEDED' } } })).toBe(0);

    // Started again at the same moment: nothing left to catch up.
    expect(await catchUp(testJobsConfig(), '2025-03-03T07:00:00Z')).toEqual([]);
  });

  test('at most JOBS_CATCHUP_DAYS back; a database where a job never ran has nothing to catch up', async () => {
    expect(await catchUp(testJobsConfig(), '2025-03-03T07:00:00Z')).toEqual([]);
    await ledgerRow('NIGHTLY', '2025-02-01T02:00:00Z', 'SUCCEEDED');
    const runs = await catchUp(testJobsConfig({ catchupDays: 2 }), '2025-03-03T07:00:00Z');
    expect(iso(runs)).toEqual([
      ['NIGHTLY', '2025-03-02T02:00:00.000Z'],
      ['NIGHTLY', '2025-03-03T02:00:00.000Z'],
    ]);
  });
});

describe('schedule', () => {
  test('a cron with a seconds field runs a slot per second', async () => {
    const runs: ScheduledRun[] = [];
    const scheduler = createScheduler(db, testJobsConfig({ nightlyCron: '* * * * * *', decayCron: never }), {
      onRun: (run) => runs.push(run),
    });
    scheduler.start();
    await until(async () => (await db.prisma.jobRun.count({ where: { job: 'NIGHTLY', status: 'SUCCEEDED' } })) >= 2);
    await scheduler.stop();
    const rows = await db.prisma.jobRun.findMany({ where: { job: 'NIGHTLY' }, orderBy: { slot: 'asc' } });
    expect(rows.every((r) => r.status === 'SUCCEEDED' && r.slot.getMilliseconds() === 0)).toBe(true);
    expect(runs.filter((r) => r.source === 'schedule').map((r) => r.slot.getTime())).toEqual(
      rows.map((r) => r.slot.getTime()),
    );
  });
});

describeOnlyOn('postgres', 'several schedulers on one PostgreSQL', () => {
  test('two schedulers racing on a seconds cron run each slot once; a restart after downtime catches up', async () => {
    const config = testJobsConfig({ nightlyCron: '*/2 * * * * *', decayCron: never });
    const instances = await Promise.all(
      [1, 2, 3].map(() => openDatabase({ kind: 'postgres', url: db.url!, poolSize: 3 }, { migrate: false })),
    );
    try {
      const executions = new Map<number, string[]>();
      const seen = { a: [] as ScheduledRun[], b: [] as ScheduledRun[], c: [] as ScheduledRun[] };
      const scheduler = (name: 'a' | 'b' | 'c', instance: Database) =>
        createScheduler(instance, config, {
          owner: `scheduler-${name}`,
          onRun: (run) => seen[name].push(run),
          afterStep: (step, ctx) => {
            if (step === 'masteryEwma')
              executions.set(ctx.slot.getTime(), [...(executions.get(ctx.slot.getTime()) ?? []), name]);
          },
        });
      const a = scheduler('a', instances[0]!);
      const b = scheduler('b', instances[1]!);
      a.start();
      b.start();
      await until(async () => (await db.prisma.jobRun.count({ where: { status: 'SUCCEEDED' } })) >= 3);
      await Promise.all([a.stop(), b.stop()]);

      const raced = await db.prisma.jobRun.findMany({ orderBy: { slot: 'asc' } });
      expect(raced.every((r) => r.status === 'SUCCEEDED')).toBe(true);
      for (const row of raced) expect(executions.get(row.slot.getTime())).toHaveLength(1);
      // Each slot succeeded for exactly one of them; whoever lost found it taken.
      for (const row of raced) {
        const outcomes = [...seen.a, ...seen.b]
          .filter((r) => r.slot.getTime() === row.slot.getTime())
          .map((r) => r.outcome);
        expect(outcomes.filter((o) => o === 'succeeded')).toHaveLength(1);
        expect(outcomes.every((o) => ['succeeded', 'already-succeeded', 'busy'].includes(o))).toBe(true);
      }
      expect([...seen.a, ...seen.b].some((r) => r.outcome === 'already-succeeded' || r.outcome === 'busy')).toBe(true);

      // Downtime: no scheduler for a few slots; then one starts and runs the missed ones first, in order.
      const lastRaced = raced.at(-1)!.slot.getTime();
      await new Promise((resolve) => setTimeout(resolve, 4_500));
      const c = scheduler('c', instances[2]!);
      c.start();
      await c.caughtUp();
      await c.stop();
      const caughtUp = seen.c.filter((r) => r.source === 'catch-up');
      expect(caughtUp.length).toBeGreaterThanOrEqual(2);
      expect(caughtUp.every((r) => r.outcome === 'succeeded' && r.slot.getTime() > lastRaced)).toBe(true);
      expect(caughtUp.map((r) => r.slot.getTime())).toEqual(
        caughtUp.map((r) => r.slot.getTime()).sort((x, y) => x - y),
      );
      const all = await db.prisma.jobRun.findMany({ orderBy: { slot: 'asc' } });
      const slots = all.map((r) => r.slot.getTime());
      for (let i = 1; i < slots.length; i++) expect(slots[i]! - slots[i - 1]!).toBe(2000); // no slot missing
      for (const slot of slots) expect(executions.get(slot)).toHaveLength(1);
    } finally {
      await Promise.all(instances.map((i) => i.close()));
    }
  });
});
