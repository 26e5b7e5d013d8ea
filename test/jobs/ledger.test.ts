// The job ledger: a slot runs once; a crash between steps leaves nothing half applied and the next
// run completes; a dead owner's run is taken over, a live one's is not.
import { beforeEach, describe, expect, test } from 'vitest';
import { openDatabase } from '../../src/db/client.ts';
import type { RunContext } from '../../src/jobs/context.ts';
import { processOwner, runJob } from '../../src/jobs/run.ts';
import { describeOnlyOn } from '../support/database.ts';
import { useTestDatabase } from '../support/hooks.ts';
import {
  at,
  createLearners,
  createQuestions,
  derivedState,
  emptyDatabase,
  hours,
  insertAttempts,
  plus,
  testJobsConfig,
} from './support.ts';

const db = useTestDatabase();
beforeEach(async () => emptyDatabase(db));

const config = testJobsConfig();
const S1 = at('2025-03-02T02:00:00Z');
const S2 = at('2025-03-03T02:00:00Z');

/** Ann: two Algebra attempts (credits 1, 0) on day 1, one abandoned session, one Geometry attempt on day 2. */
async function world() {
  const q = await createQuestions(db, [
    { externalId: 'A1', subcategory: 'Algebra' },
    { externalId: 'G1', subcategory: 'Geometry' },
  ]);
  const ann = (await createLearners(db, ['Ann'])).get('Ann')!;
  const session = await db.prisma.session.create({ data: { userId: ann, startedAt: at('2025-03-01T09:00:00Z') } });
  await insertAttempts(db, [
    {
      userId: ann,
      questionId: q.get('A1')!,
      sessionId: session.id,
      correct: true,
      recordedAt: at('2025-03-01T09:05:00Z'),
    },
    {
      userId: ann,
      questionId: q.get('A1')!,
      sessionId: session.id,
      correct: false,
      recordedAt: at('2025-03-01T09:10:00Z'),
    },
    { userId: ann, questionId: q.get('G1')!, correct: true, recordedAt: at('2025-03-02T09:00:00Z') },
  ]);
  return { ann, session };
}

class InjectedCrash extends Error {}

describe('crash between steps', () => {
  for (const step of ['masteryEwma', 'questionStatistics', 'masteryHistory', 'usageStatistics']) {
    test(`a crash after ${step} leaves nothing applied; the same slot run again completes`, async () => {
      const { session } = await world();
      const before = await derivedState(db);
      const crashed = await runJob(
        db,
        config,
        { job: 'NIGHTLY', at: S1 },
        {
          afterStep: (name) => {
            if (name === step) throw new InjectedCrash(`injected crash after ${name}`);
          },
        },
      );
      expect(crashed.outcome).toBe('failed');
      expect(crashed.run).toMatchObject({ status: 'FAILED', watermark: null });
      // Said for a person: where it stopped, never the error's own text.
      expect(crashed.run.error).toMatch(new RegExp(`^The run failed in step ${step} and nothing of it was applied`));
      expect(crashed.run.error).not.toMatch(/injected/);
      expect(await derivedState(db)).toEqual(before);

      const retried = await runJob(db, config, { job: 'NIGHTLY', at: S1 });
      expect(retried.outcome).toBe('succeeded');
      expect(retried.run).toMatchObject({ id: crashed.run.id, status: 'SUCCEEDED', error: null, watermark: S1 });
      const after = await derivedState(db);
      expect(after.masteries.map((m) => [m.subcategory, m.score, m.attemptsCount])).toEqual([
        ['Algebra', 0.6 * 0.5 + 0.4 * 0.5, 2],
      ]);
      expect(after.sessions.find((s) => s.id === session.id)?.endedAt).toEqual(at('2025-03-01T09:10:00Z'));
      expect(after.questions.find((q) => q.externalId === 'A1')).toMatchObject({ attemptsCount: 2, correctCount: 1 });
      expect(after.history).toHaveLength(1);
    });
  }

  test('after a failed slot, the next slot processes its attempts exactly once', async () => {
    await world();
    const failed = await runJob(
      db,
      config,
      { job: 'NIGHTLY', at: S1 },
      {
        afterStep: () => {
          throw new InjectedCrash('boom');
        },
      },
    );
    expect(failed.outcome).toBe('failed');
    const next = await runJob(db, config, { job: 'NIGHTLY', at: S2 });
    expect(next.run.stats).toMatchObject({ window: { after: null, upTo: S2.toISOString() }, masteryAttempts: 3 });
    // The failed slot, retried later, is behind the watermark: it applies nothing twice.
    const state = await derivedState(db);
    const retried = await runJob(db, config, { job: 'NIGHTLY', at: S1 });
    expect(retried.outcome).toBe('succeeded');
    expect(retried.run.stats).toMatchObject({ stale: true, masteriesUpdated: 0 });
    const after = await derivedState(db);
    expect(after.masteries).toEqual(state.masteries);
    expect(after.questions).toEqual(state.questions);
  });
});

test('work registered to run after commit runs once the run has committed, never if it rolled back', async () => {
  await world();
  const calls: string[] = [];
  const register = (outcome: string) => (step: string, ctx: RunContext) => {
    if (step === 'masteryEwma') ctx.afterCommit(() => void calls.push(outcome));
    if (step === 'cleanup' && outcome === 'rolled back') throw new InjectedCrash('boom');
  };
  expect((await runJob(db, config, { job: 'NIGHTLY', at: S1 }, { afterStep: register('rolled back') })).outcome).toBe(
    'failed',
  );
  expect((await runJob(db, config, { job: 'NIGHTLY', at: S1 }, { afterStep: register('committed') })).outcome).toBe(
    'succeeded',
  );
  expect(calls).toEqual(['committed']);
});

describe('ownership', () => {
  test('the same slot twice is one run', async () => {
    await world();
    const first = await runJob(db, config, { job: 'NIGHTLY', at: S1 });
    const second = await runJob(db, config, { job: 'NIGHTLY', at: S1, date: '2025-02-01' });
    expect(first.outcome).toBe('succeeded');
    expect(second).toMatchObject({ outcome: 'already-succeeded', run: { id: first.run.id } });
    expect((await db.prisma.mastery.findFirstOrThrow()).score).toBeCloseTo(0.5, 12);
    expect(await db.prisma.jobRun.count()).toBe(1);
  });

  test("a dead owner's run is taken over once its lease has expired, a live owner's is not", async () => {
    await world();
    const dead = await db.prisma.jobRun.create({
      data: {
        job: 'NIGHTLY',
        slot: S1,
        status: 'RUNNING',
        owner: 'crashed-host#1',
        leaseUntil: plus(new Date(), -60_000),
        runDate: new Date('2025-03-01T00:00:00Z'),
      },
    });
    const taken = await runJob(db, config, { job: 'NIGHTLY', at: S1 });
    expect(taken).toMatchObject({
      outcome: 'succeeded',
      run: { id: dead.id, status: 'SUCCEEDED', owner: processOwner },
    });
    expect(await db.prisma.mastery.count()).toBe(1);

    const live = await db.prisma.jobRun.create({
      data: {
        job: 'NIGHTLY',
        slot: S2,
        status: 'RUNNING',
        owner: 'other-host#2',
        leaseUntil: plus(new Date(), hours(1)),
      },
    });
    const before = await derivedState(db);
    const busy = await runJob(db, config, { job: 'NIGHTLY', at: S2 });
    expect(busy).toMatchObject({ outcome: 'busy', run: { id: live.id, owner: 'other-host#2', status: 'RUNNING' } });
    expect(await derivedState(db)).toEqual(before);
  });
});

describeOnlyOn('postgres', 'several instances on one PostgreSQL', () => {
  test('instances racing for one slot run it once; different slots run one after the other', async () => {
    await world();
    const instances = await Promise.all(
      [1, 2, 3].map(() => openDatabase({ kind: 'postgres', url: db.url!, poolSize: 3 }, { migrate: false })),
    );
    try {
      const executions: string[] = [];
      const results = await Promise.all(
        instances.map((instance, i) =>
          runJob(
            instance,
            config,
            { job: 'NIGHTLY', at: S1 },
            {
              owner: `instance-${i}`,
              afterStep: (step) => void (step === 'masteryEwma' && executions.push(`instance-${i}`)),
            },
          ),
        ),
      );
      expect(executions).toHaveLength(1);
      expect(results.filter((r) => r.outcome === 'succeeded')).toHaveLength(1);
      expect(results.every((r) => ['succeeded', 'busy', 'already-succeeded'].includes(r.outcome))).toBe(true);
      expect((await db.prisma.mastery.findFirstOrThrow({ where: { subcategory: 'Algebra' } })).score).toBeCloseTo(
        0.5,
        12,
      );

      // Two slots at once: the jobs lock runs them one after the other; each attempt is counted once.
      const q = await db.prisma.question.findUniqueOrThrow({ where: { externalId: 'G1' } });
      const ann = (await db.prisma.user.findFirstOrThrow()).id;
      await insertAttempts(db, [{ userId: ann, questionId: q.id, correct: false, recordedAt: plus(S2, hours(3)) }]);
      const S3 = plus(S2, hours(24));
      const both = await Promise.all([
        runJob(instances[0]!, config, { job: 'NIGHTLY', at: S2 }, { owner: 'a' }),
        runJob(instances[1]!, config, { job: 'NIGHTLY', at: S3 }, { owner: 'b' }),
      ]);
      expect(both.map((r) => r.outcome)).toEqual(['succeeded', 'succeeded']);
      const masteries = await db.prisma.mastery.findMany({ orderBy: { subcategory: 'asc' } });
      expect(masteries.map((m) => [m.subcategory, m.attemptsCount])).toEqual([
        ['Algebra', 2],
        ['Geometry', 2],
      ]);
      expect((await db.prisma.question.findMany()).reduce((n, r) => n + r.attemptsCount, 0)).toBe(4);
    } finally {
      await Promise.all(instances.map((i) => i.close()));
    }
  });
});
