// NIGHTLY's activityRollup step: the cohort overview read through daily_activity and the attempts
// recorded after its mark equals the raw scan of the attempts, before and after runs, with late
// syncs, other time zones and a re-run; each attempt is added once.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runJob } from '../../src/jobs/run.ts';
import { atRiskLearners, cohortDays, cohortSubcategories } from '../../src/services/activity.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { at, createLearners, createQuestions, insertAttempts, testJobsConfig } from './support.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.destroy());

const config = testJobsConfig();
const from = '2025-03-01';
const to = '2025-03-10';

async function cohort() {
  return {
    days: await cohortDays(db.prisma, from, to),
    subcategories: await cohortSubcategories(db.prisma, from, to),
    atRisk: await atRiskLearners(db.prisma, from, to),
  };
}

/** The same figures from the attempts alone: the rollup set aside (in a transaction rolled back). */
async function rawCohort() {
  let raw: Awaited<ReturnType<typeof cohort>> | null = null;
  await db.prisma
    .$transaction(async (tx) => {
      await tx.$executeRaw`DELETE FROM daily_activity`;
      await tx.$executeRaw`DELETE FROM activity_rollup_mark`;
      raw = {
        days: await cohortDays(tx, from, to),
        subcategories: await cohortSubcategories(tx, from, to),
        atRisk: await atRiskLearners(tx, from, to),
      };
      throw new Error('roll back');
    })
    .catch((error: Error) => {
      if (error.message !== 'roll back') throw error;
    });
  return raw!;
}

test('the rollup plus the attempts after its mark equal the raw scan, and each attempt counts once', async () => {
  const q = await createQuestions(db, [
    { externalId: 'A1', subcategory: 'Algebra' },
    { externalId: 'G1', subcategory: 'Geometry' },
  ]);
  const utc = await createLearners(db, ['Ann', 'Bob', 'Cid']);
  const kolkata = await createLearners(db, ['Kiran'], 'Asia/Kolkata');
  const coach = await db.prisma.user.create({ data: { name: 'Coach', email: 'coach@example.com', role: 'COACH' } });
  const ann = utc.get('Ann')!;
  const bob = utc.get('Bob')!;
  const cid = utc.get('Cid')!;
  const kiran = kolkata.get('Kiran')!;
  const attempt = (userId: string, id: string, correct: boolean, recordedAt: string, answeredAt?: string) => ({
    userId,
    questionId: q.get(id)!,
    correct,
    context: 'PRACTICE' as const,
    recordedAt: at(recordedAt),
    answeredAt: answeredAt ? at(answeredAt) : null,
  });
  await insertAttempts(db, [
    ...Array.from({ length: 6 }, (_, i) => attempt(ann, 'A1', i < 5, `2025-03-02T10:0${i}:00Z`)),
    ...Array.from({ length: 6 }, (_, i) => attempt(bob, 'G1', true, `2025-03-03T09:0${i}:00Z`)),
    attempt(kiran, 'G1', true, '2025-03-01T20:00:00Z'), // 03-02 01:30 in Kolkata
    attempt(coach.id, 'A1', false, '2025-03-02T11:00:00Z'), // not a learner
  ]);
  await db.prisma.mastery.createMany({
    data: [
      { userId: ann, subcategory: 'Algebra', score: 0.3, updatedAt: at('2025-03-03T00:00:00Z') },
      { userId: bob, subcategory: 'Geometry', score: 0.7, updatedAt: at('2025-03-03T00:00:00Z') },
    ],
  });
  const before = await cohort();
  expect(before.days.find((d) => d.date === '2025-03-02')).toEqual({
    date: '2025-03-02',
    attempts: 7,
    accuracy: 6 / 7,
    activeLearners: 2,
    sessions: 0,
  });

  // The first run rolls up every attempt so far; the figures stay the same.
  const first = await runJob(db, config, { job: 'NIGHTLY', at: at('2025-03-04T02:00:00Z') });
  expect(first.run.stats).toMatchObject({ activityRowsRolledUp: 3 });
  expect(await db.prisma.dailyActivity.count()).toBe(3);
  expect(await cohort()).toEqual(before);

  // After the run: today's attempts (not rolled up yet), a late sync answered days ago, and a drop
  // that puts Ann at risk in the second half of the range (Bob stopped after the first half).
  await insertAttempts(db, [
    ...Array.from({ length: 6 }, (_, i) => attempt(ann, 'A1', i < 1, `2025-03-08T10:0${i}:00Z`)),
    attempt(cid, 'G1', false, '2025-03-08T12:00:00Z', '2025-03-02T23:30:00Z'),
    attempt(kiran, 'A1', true, '2025-03-08T19:00:00Z'), // 03-09 00:30 in Kolkata
  ]);
  const live = await cohort();
  expect(live).toEqual(await rawCohort());
  expect(live.atRisk.map((r) => r.userId)).toEqual([ann, bob]); // Ann: 5/6 → 1/6; Bob: stopped
  expect(live.days.find((d) => d.date === '2025-03-02')!.attempts).toBe(8);

  // The next run adds them; a second run of the same slot and a run as of an earlier instant add nothing.
  const second = await runJob(db, config, { job: 'NIGHTLY', at: at('2025-03-09T02:00:00Z') });
  expect(second.run.stats).toMatchObject({ activityRowsRolledUp: 3 });
  expect(await cohort()).toEqual(live);
  await runJob(db, config, { job: 'NIGHTLY', at: at('2025-03-09T02:00:00Z') });
  const stale = await runJob(db, config, { job: 'NIGHTLY', at: at('2025-03-05T02:00:00Z') });
  expect(stale.run.stats).toMatchObject({ activityRowsRolledUp: 0 });
  expect(await cohort()).toEqual(live);
  expect(await db.prisma.dailyActivity.aggregate({ _sum: { attempts: true } })).toEqual({
    _sum: { attempts: 21 },
  });
});
