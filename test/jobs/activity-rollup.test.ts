// NIGHTLY's activityRollup step: the cohort overview read through daily_activity,
// daily_cohort_activity, the preset ranges (cohort_ranges) and the attempts and sessions recorded after
// its mark equals the raw scan of the attempts and sessions, before and after runs, with late syncs,
// other time zones, re-runs and erasures; each attempt and session is added once.
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { SqlClient } from '../../src/db/types.ts';
import { runJob } from '../../src/jobs/run.ts';
import { resetActivityRollup } from '../../src/jobs/steps/activity-rollup.ts';
import { cohortDays, cohortLearners } from '../../src/services/activity.ts';
import { eraseLearner } from '../../src/services/erasure.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { at, createLearners, createQuestions, hours, insertAttempts, testJobsConfig } from './support.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.destroy());

const config = testJobsConfig();
const from = '2025-03-01';
const to = '2025-03-10';

async function figures(client: SqlClient, range = { from, to }) {
  const { subcategories, atRisk } = await cohortLearners(client, range.from, range.to);
  return { days: await cohortDays(client, range.from, range.to), subcategories, atRisk };
}

const cohort = (range = { from, to }) => figures(db.prisma, range);

/** The same figures from the attempts alone: the rollups set aside (in a transaction rolled back). */
async function rawCohort(range = { from, to }) {
  let raw: Awaited<ReturnType<typeof figures>> | null = null;
  await db.prisma
    .$transaction(async (tx) => {
      await resetActivityRollup(tx);
      raw = await figures(tx, range);
      throw new Error('roll back');
    })
    .catch((error: Error) => {
      if (error.message !== 'roll back') throw error;
    });
  return raw!;
}

/**
 * daily_cohort_activity holds exactly the sums of daily_activity per day, and the learners' sessions
 * recorded up to the mark per day they started on.
 */
async function expectCohortTotalsOfRollup() {
  const sums = await db.prisma.$queryRaw<unknown[]>`
    SELECT date, sum(attempts)::int AS attempts, sum(correct)::int AS correct, count(DISTINCT user_id)::int AS learners
    FROM daily_activity GROUP BY date ORDER BY date`;
  const totals = await db.prisma.$queryRaw<unknown[]>`
    SELECT date, attempts, correct, learners FROM daily_cohort_activity WHERE learners > 0 ORDER BY date`;
  expect(totals).toEqual(sums);
  const sessions = await db.prisma.$queryRaw<unknown[]>`
    SELECT (s.started_at AT TIME ZONE u.timezone)::date AS date, count(*)::int AS sessions
    FROM sessions s JOIN users u ON u.id = s.user_id AND u.role = 'LEARNER'
    WHERE s.recorded_at <= (SELECT up_to FROM activity_rollup_mark)
    GROUP BY 1 ORDER BY 1`;
  const sessionTotals = await db.prisma.$queryRaw<unknown[]>`
    SELECT date, sessions FROM daily_cohort_activity WHERE sessions > 0 ORDER BY date`;
  expect(sessionTotals).toEqual(sessions);
}

/** The preset ranges of the last run: they exist, as of the rollup's mark. */
async function presetRanges() {
  const ranges = await db.prisma.$queryRaw<{ from: string; to: string }[]>`
    SELECT to_char(r."from", 'YYYY-MM-DD') AS "from", to_char(r."to", 'YYYY-MM-DD') AS "to"
    FROM cohort_ranges r JOIN activity_rollup_mark m ON m.up_to = r.up_to ORDER BY r.span`;
  expect(ranges).toHaveLength(3);
  return ranges;
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
  const [week] = await presetRanges(); // the last 7 days up to the run's day
  expect(week).toEqual({ from: '2025-02-26', to: '2025-03-04' });
  expect(await cohort(week)).toEqual(await rawCohort(week));

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
  const lastWeek = { from: '2025-03-03', to: '2025-03-09' };
  expect(await presetRanges()).toContainEqual(lastWeek);
  const presetWeek = await cohort(lastWeek);
  expect(presetWeek).toEqual(await rawCohort(lastWeek));
  expect(presetWeek.atRisk.map((r) => r.userId)).toEqual([bob]); // Ann's first half (03-02) is outside
  await runJob(db, config, { job: 'NIGHTLY', at: at('2025-03-09T02:00:00Z') });
  const stale = await runJob(db, config, { job: 'NIGHTLY', at: at('2025-03-05T02:00:00Z') });
  expect(stale.run.stats).toMatchObject({ activityRowsRolledUp: 0 });
  expect(await cohort()).toEqual(live);
  expect(await presetRanges()).toContainEqual(lastWeek); // a stale run leaves the ranges of the latest
  expect(await cohort(lastWeek)).toEqual(presetWeek);
  expect(await db.prisma.dailyActivity.aggregate({ _sum: { attempts: true } })).toEqual({
    _sum: { attempts: 21 },
  });
});

test('over many learners, zones, runs, late syncs and erasures, every range reads what the raw scan does', async () => {
  let seed = 7;
  /** A small deterministic generator (mulberry32), so a failure can be replayed. */
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const q = await createQuestions(db, [
    { externalId: 'M-A', subcategory: 'Algebra' },
    { externalId: 'M-G', subcategory: 'Geometry' },
    { externalId: 'M-P', subcategory: 'Probability' },
  ]);
  const questions = [...q.values()];
  const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Pacific/Kiritimati', 'Etc/GMT+12'];
  const learners: string[] = [];
  for (const [i, zone] of zones.entries()) {
    const made = await createLearners(
      db,
      [0, 1, 2, 3].map((n) => `Z${i}-${n}`),
      zone,
    );
    learners.push(...made.values());
  }
  const start = Date.parse('2025-05-01T00:00:00Z');
  const ranges = [
    { from: '2025-05-01', to: '2025-05-20' },
    { from: '2025-05-02', to: '2025-05-14' },
    { from: '2025-05-12', to: '2025-05-12' },
  ];
  const expectSameAsRaw = async () => {
    await expectCohortTotalsOfRollup();
    for (const range of [...ranges, ...(await presetRanges())])
      expect(await cohort(range), `${range.from}..${range.to}`).toEqual(await rawCohort(range));
  };
  // Five phases of four days: attempts answered in the phase (a tenth of them synced days later, all
  // recorded within the phase, as the server stamps them), then a NIGHTLY run at its end, but for the
  // last phase (today's attempts, not rolled up yet).
  for (let phase = 0; phase < 5; phase++) {
    const phaseEnd = start + (phase + 1) * 4 * 86_400_000;
    const batch = Array.from({ length: 120 }, () => {
      const answeredAt = new Date(phaseEnd - random() * 4 * 86_400_000);
      const late = random() < 0.1;
      const recordedAt = late ? new Date(Math.min(phaseEnd - 1, answeredAt.getTime() + 3 * 86_400_000)) : answeredAt;
      return {
        userId: learners[Math.floor(random() * (learners.length - 4 * phase))]!, // fewer learners, later
        questionId: questions[Math.floor(random() * questions.length)]!,
        correct: random() < 0.9 - phase * 0.12,
        recordedAt,
        answeredAt,
      };
    });
    await insertAttempts(db, batch);
    // Sessions the same way: started in the phase, a tenth of them recorded days later.
    const sessions = Array.from({ length: 30 }, () => {
      const startedAt = new Date(phaseEnd - random() * 4 * 86_400_000);
      const late = random() < 0.1;
      const recordedAt = late ? new Date(Math.min(phaseEnd - 1, startedAt.getTime() + 3 * 86_400_000)) : startedAt;
      return { userId: learners[Math.floor(random() * learners.length)]!, startedAt, recordedAt };
    });
    await db.prisma.session.createMany({ data: sessions });
    if (phase < 4) {
      const run = await runJob(db, config, { job: 'NIGHTLY', at: new Date(phaseEnd) });
      expect(run.outcome, run.run.error ?? '').toBe('succeeded');
      await expectSameAsRaw();
    }
  }
  await expectSameAsRaw();
  expect((await cohort(ranges[0])).atRisk.length).toBeGreaterThan(0);

  // An erasure takes the learner out of the day totals as well as out of their rollup rows.
  await eraseLearner(db, learners[0]!, 'test');
  await eraseLearner(db, learners[9]!, 'test');
  await expectSameAsRaw();

  // Consecutive nights: each shifts the preset ranges by a day (the first after the four-day gap works
  // them out in full), with the day's attempts, late syncs answered up to 12 days before (in both halves
  // of the ranges, on the middle day of the week, before them), a quiet night, a second run the same day
  // and an erasure between nights; the last night's attempts are today's, not rolled up.
  const remaining = learners.filter((_, i) => i !== 0 && i !== 9);
  /** Attempts recorded in the `span` before `end` (after the last run's mark, as the server stamps them). */
  const attemptsBefore = (end: number, count: number, span = 86_400_000) =>
    Array.from({ length: count }, () => {
      const recordedAt = new Date(end - 1 - random() * (span - 1));
      const late = random() < 0.3;
      return {
        userId: remaining[Math.floor(random() * remaining.length)]!,
        questionId: questions[Math.floor(random() * questions.length)]!,
        correct: random() < 0.6,
        recordedAt,
        answeredAt: late ? new Date(recordedAt.getTime() - random() * 12 * 86_400_000) : recordedAt,
      };
    });
  const nightly = async (runAt: number) => {
    const run = await runJob(db, config, { job: 'NIGHTLY', at: new Date(runAt) });
    expect(run.outcome, run.run.error ?? '').toBe('succeeded');
    return run.run.stats as Record<string, number>;
  };
  for (let night = 0; night < 6; night++) {
    const runAt = Date.parse('2025-05-22T00:00:00Z') + night * 86_400_000;
    if (night !== 3) await insertAttempts(db, attemptsBefore(runAt, 40)); // night 3 is quiet
    if (night === 4) await eraseLearner(db, remaining.pop()!, 'test');
    const stats = await nightly(runAt);
    expect(stats, `night ${night}`).toMatchObject(
      night === 0 ? { cohortRangesBuilt: 3, cohortRangesShifted: 0 } : { cohortRangesBuilt: 0, cohortRangesShifted: 3 },
    );
    if (night === 3) expect(stats).toMatchObject({ activityRowsRolledUp: 0 });
    await expectSameAsRaw();
    if (night === 2) {
      await insertAttempts(db, attemptsBefore(runAt + hours(6), 10, hours(6)));
      expect(await nightly(runAt + hours(6))).toMatchObject({ cohortRangesShifted: 3 }); // by no day
      await expectSameAsRaw();
    }
  }
  await insertAttempts(db, attemptsBefore(Date.parse('2025-05-28T00:00:00Z'), 20));
  await expectSameAsRaw();
}, 300_000);
