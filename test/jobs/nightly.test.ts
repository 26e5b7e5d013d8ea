// NIGHTLY worked by hand: mastery EWMA over three nights, question statistics, abandoned sessions,
// mastery history, usage statistics and cleanup; re-runs and late attempts.
import { beforeEach, describe, expect, test } from 'vitest';
import { pointBiserial } from '../../src/domain/question-stats.ts';
import type { JobsConfig } from '../../src/jobs/config.ts';
import { runJob } from '../../src/jobs/run.ts';
import { masteryHistory } from '../../src/services/mastery-history.ts';
import { unitsDigest } from '../../src/services/plans.ts';
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

async function nightly(asOf: Date, date?: string, jobsConfig: JobsConfig = config) {
  const result = await runJob(db, jobsConfig, { job: 'NIGHTLY', at: asOf, date });
  expect(result.run.error).toBeNull();
  return result;
}

async function masteryOf(userId: string, subcategory: string) {
  return db.prisma.mastery.findUnique({ where: { userId_subcategory: { userId, subcategory } } });
}

const N1 = at('2025-03-02T02:00:00Z');
const N2 = at('2025-03-03T02:00:00Z');
const N3 = at('2025-03-04T02:00:00Z');
const day = (n: number, time: string) => at(`2025-03-0${n}T${time}Z`);

describe('mastery EWMA', () => {
  test('three nights by hand: credit 1 / 0.5 with a hint / 0, α 0.6, prior 0.5, SESSION attempts only', async () => {
    const q = await createQuestions(
      db,
      ['A1', 'A2', 'A3', 'G1', 'G2'].map((id) => ({
        externalId: id,
        subcategory: id.startsWith('A') ? 'Algebra' : 'Geometry',
      })),
    );
    const u = await createLearners(db, ['Ann', 'Bob']);
    const ann = u.get('Ann')!;
    const bob = u.get('Bob')!;
    // Day 1: Ann's Algebra credits 1, 0.5, 1 → performance 5/6 → 0.6·5/6 + 0.4·0.5 = 0.7.
    // A practice miss does not count.
    await insertAttempts(db, [
      { userId: ann, questionId: q.get('A1')!, correct: true, recordedAt: day(1, '10:00:00') },
      { userId: ann, questionId: q.get('A2')!, correct: true, hintUsed: true, recordedAt: day(1, '10:01:00') },
      { userId: ann, questionId: q.get('A3')!, correct: true, recordedAt: day(1, '10:02:00') },
      { userId: ann, questionId: q.get('A3')!, correct: false, context: 'PRACTICE', recordedAt: day(1, '18:00:00') },
      { userId: bob, questionId: q.get('A1')!, correct: true, hintUsed: true, recordedAt: day(1, '11:00:00') },
    ]);
    await nightly(N1, '2025-03-01');
    expect((await masteryOf(ann, 'Algebra'))!.score).toBeCloseTo(0.7, 12);
    expect((await masteryOf(bob, 'Algebra'))!.score).toBeCloseTo(0.5, 12); // 0.6·0.5 + 0.4·0.5
    expect(await masteryOf(ann, 'Geometry')).toBeNull();

    // Day 2: Algebra credits 0, 0.5 → 0.25 → 0.6·0.25 + 0.4·0.7 = 0.43; Geometry 1 → 0.8. A daily miss does not count.
    await insertAttempts(db, [
      { userId: ann, questionId: q.get('A1')!, correct: false, recordedAt: day(2, '09:00:00') },
      { userId: ann, questionId: q.get('A2')!, correct: true, hintUsed: true, recordedAt: day(2, '09:01:00') },
      { userId: ann, questionId: q.get('G1')!, correct: true, recordedAt: day(2, '09:02:00') },
      { userId: ann, questionId: q.get('G2')!, correct: false, context: 'DAILY', recordedAt: day(2, '20:00:00') },
    ]);
    await nightly(N2, '2025-03-02');
    expect((await masteryOf(ann, 'Algebra'))!.score).toBeCloseTo(0.43, 12);
    expect((await masteryOf(ann, 'Geometry'))!.score).toBeCloseTo(0.8, 12);

    // Day 3: Geometry credits 0.5, 0 → 0.25 → 0.6·0.25 + 0.4·0.8 = 0.47; a practice hit on Algebra does not count.
    await insertAttempts(db, [
      { userId: ann, questionId: q.get('G2')!, correct: true, hintUsed: true, recordedAt: day(3, '08:00:00') },
      { userId: ann, questionId: q.get('G1')!, correct: false, recordedAt: day(3, '08:01:00') },
      { userId: ann, questionId: q.get('A1')!, correct: true, context: 'PRACTICE', recordedAt: day(3, '08:02:00') },
    ]);
    await nightly(N3, '2025-03-03');
    const algebra = (await masteryOf(ann, 'Algebra'))!;
    const geometry = (await masteryOf(ann, 'Geometry'))!;
    expect(algebra.score).toBeCloseTo(0.43, 12);
    expect(algebra).toMatchObject({ attemptsCount: 5, lastPracticedAt: day(2, '09:01:00'), updatedAt: N2 });
    expect(geometry.score).toBeCloseTo(0.47, 12);
    expect(geometry).toMatchObject({ attemptsCount: 3, lastPracticedAt: day(3, '08:01:00'), updatedAt: N3 });
    expect((await masteryOf(bob, 'Algebra'))!.score).toBeCloseTo(0.5, 12);

    // The history reads a score per (subcategory, closed day); the stored points are only where it moved.
    const historyOf = async (userId: string, day?: string) =>
      (
        await masteryHistory(
          db.prisma,
          userId,
          day ? { from: new Date(day), to: new Date(day) } : {},
          config.mastery,
          config.historyActiveDays,
        )
      ).map((h) => [h.date.toISOString().slice(0, 10), h.subcategory, Number(h.score.toFixed(12))]);
    expect(await historyOf(ann)).toEqual([
      ['2025-03-01', 'Algebra', 0.7],
      ['2025-03-02', 'Algebra', 0.43],
      ['2025-03-02', 'Geometry', 0.8],
      ['2025-03-03', 'Algebra', 0.43],
      ['2025-03-03', 'Geometry', 0.47],
    ]);
    const points = await db.prisma.masteryHistory.findMany({
      where: { userId: ann },
      orderBy: [{ date: 'asc' }, { subcategory: 'asc' }],
    });
    expect(points.map((h) => [h.date.toISOString().slice(0, 10), h.subcategory])).toEqual([
      ['2025-03-01', 'Algebra'],
      ['2025-03-02', 'Algebra'],
      ['2025-03-02', 'Geometry'],
      ['2025-03-03', 'Algebra'], // a practice attempt: Ann's hold on decay moved
      ['2025-03-03', 'Geometry'],
    ]);

    // A second run with no new attempts changes nothing.
    const before = await derivedState(db);
    const again = await nightly(plus(N3, hours(1)), '2025-03-03');
    expect(again.outcome).toBe('succeeded');
    expect(await derivedState(db)).toEqual(before);

    // A re-run of the same day with new attempts overwrites that day's history row: 0.6·1 + 0.4·0.47 = 0.788.
    await insertAttempts(db, [
      { userId: ann, questionId: q.get('G1')!, correct: true, recordedAt: plus(N3, hours(2)) },
    ]);
    await nightly(plus(N3, hours(3)), '2025-03-03');
    const rewritten = await historyOf(ann, '2025-03-03');
    expect(rewritten.map((h) => h[2])).toEqual([0.43, 0.788]);

    // A night without attempts or decay stores nothing, and reads the scores of the night before.
    const stored = await db.prisma.masteryHistory.count();
    await nightly(plus(N3, hours(24)), '2025-03-04');
    expect(await db.prisma.masteryHistory.count()).toBe(stored);
    expect((await historyOf(ann, '2025-03-04')).map((h) => h[2])).toEqual([0.43, 0.788]);
  });

  test('MASTERY_CONTEXTS and MASTERY_ALPHA are honoured', async () => {
    const q = await createQuestions(db, [{ externalId: 'A1', subcategory: 'Algebra' }]);
    const ann = (await createLearners(db, ['Ann'])).get('Ann')!;
    await insertAttempts(db, [
      { userId: ann, questionId: q.get('A1')!, correct: true, recordedAt: day(1, '10:00:00') },
      { userId: ann, questionId: q.get('A1')!, correct: false, context: 'PRACTICE', recordedAt: day(1, '10:01:00') },
      { userId: ann, questionId: q.get('A1')!, correct: false, context: 'DAILY', recordedAt: day(1, '10:02:00') },
    ]);
    await nightly(
      N1,
      undefined,
      testJobsConfig({ masteryContexts: ['SESSION', 'PRACTICE'], mastery: { ...config.mastery, alpha: 0.5 } }),
    );
    // performance (1 + 0)/2 = 0.5 → 0.5·0.5 + 0.5·0.5
    expect((await masteryOf(ann, 'Algebra'))!).toMatchObject({ score: 0.5, attemptsCount: 2 });
  });

  test('an attempt synced late is counted once, by the first run after it was recorded', async () => {
    const q = await createQuestions(db, [{ externalId: 'A1', subcategory: 'Algebra' }]);
    const ann = (await createLearners(db, ['Ann'])).get('Ann')!;
    await insertAttempts(db, [
      { userId: ann, questionId: q.get('A1')!, correct: true, recordedAt: day(1, '10:00:00') },
    ]);
    await nightly(N1);
    expect((await masteryOf(ann, 'Algebra'))!.score).toBeCloseTo(0.8, 12);
    // Answered on day 1 (offline), recorded after night 1 had run.
    await insertAttempts(db, [
      {
        userId: ann,
        questionId: q.get('A1')!,
        correct: false,
        answeredAt: day(1, '15:00:00'),
        recordedAt: plus(N1, hours(5)),
      },
    ]);
    await nightly(N2);
    expect((await masteryOf(ann, 'Algebra'))!.score).toBeCloseTo(0.32, 12); // 0.6·0 + 0.4·0.8
    expect((await runJob(db, config, { job: 'NIGHTLY', at: N2 })).outcome).toBe('already-succeeded');
    await nightly(N3);
    expect((await masteryOf(ann, 'Algebra'))!).toMatchObject({ attemptsCount: 2 });
    expect((await masteryOf(ann, 'Algebra'))!.score).toBeCloseTo(0.32, 12);
    const question = await db.prisma.question.findUniqueOrThrow({ where: { externalId: 'A1' } });
    expect(question).toMatchObject({ attemptsCount: 2, correctCount: 1 });
    const runs = await db.prisma.jobRun.findMany({ where: { job: 'NIGHTLY' }, orderBy: { slot: 'asc' } });
    expect(runs.map((r) => [r.status, r.watermark?.toISOString()])).toEqual([
      ['SUCCEEDED', N1.toISOString()],
      ['SUCCEEDED', N2.toISOString()],
      ['SUCCEEDED', N3.toISOString()],
    ]);
  });

  test('a backfill of a day already closed changes no score and keeps that day’s history', async () => {
    const q = await createQuestions(db, [{ externalId: 'A1', subcategory: 'Algebra' }]);
    const ann = (await createLearners(db, ['Ann'])).get('Ann')!;
    await insertAttempts(db, [
      { userId: ann, questionId: q.get('A1')!, correct: true, recordedAt: day(1, '10:00:00') },
      { userId: ann, questionId: q.get('A1')!, correct: false, recordedAt: day(2, '10:00:00') },
    ]);
    await nightly(N2, '2025-03-02'); // one run over both days: 0.6·0.5 + 0.4·0.5 = 0.5
    const before = await derivedState(db);
    const backfill = await nightly(N1, '2025-03-01'); // acts as of an instant already processed
    expect(backfill.run.stats).toMatchObject({ stale: true, masteriesUpdated: 0 });
    const after = await derivedState(db);
    expect(after.masteries).toEqual(before.masteries);
    expect(after.questions).toEqual(before.questions);
    expect(after.history).toEqual(before.history);
  });
});

describe('question statistics', () => {
  test('difficulty, discrimination, learning impact and importance by hand', async () => {
    const q = await createQuestions(db, [
      { externalId: 'Q1', subcategory: 'Algebra' },
      { externalId: 'Q2', subcategory: 'Algebra' },
      { externalId: 'Q3', subcategory: 'Algebra' },
      { externalId: 'G1', subcategory: 'Geometry' },
    ]);
    const u = await createLearners(db, ['Ann', 'Bob', 'Cid', 'Dee']);
    const ann = u.get('Ann')!;
    const bob = u.get('Bob')!;
    const cid = u.get('Cid')!;
    const dee = u.get('Dee')!;
    // Q1: 4 attempts, 2 correct, with masteries 0.8 ✓, 0.6 ✓, 0.2 ✗, 0.4 ✗ (a practice attempt counts here too).
    // Ann goes on to Q2 (✓) and Bob to Q2 (✗): Q1 has 2 follow-ups, 1 correct.
    await insertAttempts(db, [
      { userId: ann, questionId: q.get('Q1')!, correct: true, masteryAtAttempt: 0.8, recordedAt: day(1, '10:00:00') },
      {
        userId: bob,
        questionId: q.get('Q1')!,
        correct: true,
        masteryAtAttempt: 0.6,
        recordedAt: day(1, '10:00:01'),
        context: 'PRACTICE',
      },
      { userId: cid, questionId: q.get('Q1')!, correct: false, masteryAtAttempt: 0.2, recordedAt: day(1, '10:00:02') },
      { userId: dee, questionId: q.get('Q1')!, correct: false, masteryAtAttempt: 0.4, recordedAt: day(1, '10:00:03') },
      { userId: ann, questionId: q.get('Q2')!, correct: true, recordedAt: day(1, '10:01:00') },
      { userId: bob, questionId: q.get('Q2')!, correct: false, recordedAt: day(1, '10:01:01') },
    ]);
    await nightly(N1);
    const rows = new Map((await db.prisma.question.findMany()).map((r) => [r.externalId, r]));
    const q1 = rows.get('Q1')!;
    const q2 = rows.get('Q2')!;
    const q3 = rows.get('Q3')!;
    expect(q1).toMatchObject({
      attemptsCount: 4,
      correctCount: 2,
      masteryN: 4,
      followUpN: 2,
      followUpCorrect: 1,
      statsUpdatedAt: N1,
    });
    expect(q1.difficulty).toBeCloseTo(3 / 6, 12); // (wrong 2 + 1) / (4 + 2)
    expect(q2.difficulty).toBeCloseTo(2 / 4, 12);
    expect(q3).toMatchObject({ attemptsCount: 0, difficulty: 0.5, discrimination: null, learningImpact: null });
    // Point-biserial: M1 = 0.7, M0 = 0.3, s = √0.05, p = ½ → 0.4/√0.05 · ½ = 2/√5.
    expect(q1.discrimination).toBeCloseTo(2 / Math.sqrt(5), 12);
    expect(q1.discrimination).toBeCloseTo(
      pointBiserial({ n: 4, sumX: 2, sumX2: 1.2, nCorrect: 2, sumXCorrect: 1.4 })!,
      12,
    );
    expect(q2.discrimination).toBeNull(); // no masteries recorded
    // Algebra accuracy 3/6; Q1's follow-ups 1/2: lift 0, whatever the shrinkage.
    expect(q1.learningImpact).toBeCloseTo(0, 12);
    expect(q2.learningImpact).toBeNull();
    // Importance in Algebra: Q1 2/√5 + 0 > Q2 0 = Q3 0 → Q1 1, Q2 and Q3 share ranks 0 and 1 → 0.25 each.
    expect([q1.importanceIndex, q2.importanceIndex, q3.importanceIndex]).toEqual([1, 0.25, 0.25]);
    expect(rows.get('G1')).toMatchObject({ importanceIndex: 0.5, statsUpdatedAt: null }); // untouched subcategory

    // Night 2: Cid's next Algebra attempt follows his Q1 attempt from night 1 (across windows): Q1 gets a
    // third follow-up, correct. Accuracy of Algebra (4 of 7); Q1's follow-ups 2/3; shrink 3/23.
    await insertAttempts(db, [
      { userId: cid, questionId: q.get('Q3')!, correct: true, recordedAt: day(2, '10:00:00') },
    ]);
    await nightly(N2);
    const q1b = await db.prisma.question.findUniqueOrThrow({ where: { externalId: 'Q1' } });
    expect(q1b).toMatchObject({ attemptsCount: 4, followUpN: 3, followUpCorrect: 2 });
    expect(q1b.learningImpact).toBeCloseTo((2 / 3 - 4 / 7) * (3 / 23), 12);
  });
});

describe('abandoned sessions', () => {
  test('sessions idle for SESSION_IDLE_MINUTES end at their last attempt, with summary and analytics', async () => {
    const q = await createQuestions(db, [
      { externalId: 'A1', subcategory: 'Algebra', band: 'EASY' },
      { externalId: 'A2', subcategory: 'Algebra', band: 'HARD' },
    ]);
    const u = await createLearners(db, ['Ann', 'Bob', 'Cid']);
    const ann = u.get('Ann')!;
    const bob = u.get('Bob')!;
    const cid = u.get('Cid')!;
    const abandoned = await db.prisma.session.create({ data: { userId: ann, startedAt: day(1, '09:00:00') } });
    const recent = await db.prisma.session.create({ data: { userId: bob, startedAt: day(1, '23:50:00') } });
    const empty = await db.prisma.session.create({ data: { userId: cid, startedAt: day(1, '08:00:00') } });
    await insertAttempts(db, [
      {
        userId: ann,
        questionId: q.get('A1')!,
        sessionId: abandoned.id,
        correct: true,
        timeSec: 20,
        recordedAt: day(1, '09:10:00'),
      },
      {
        userId: ann,
        questionId: q.get('A2')!,
        sessionId: abandoned.id,
        correct: false,
        timeSec: 40,
        recordedAt: day(1, '09:30:00'),
      },
      { userId: bob, questionId: q.get('A1')!, sessionId: recent.id, correct: true, recordedAt: day(2, '01:00:00') },
    ]);
    const result = await nightly(N1);
    expect(result.run.stats).toMatchObject({ sessionsClosed: 2 });
    const sessions = new Map(
      (await db.prisma.session.findMany({ include: { summary: true, analytics: true } })).map((s) => [s.id, s]),
    );
    expect(sessions.get(abandoned.id)).toMatchObject({ endedAt: day(1, '09:30:00'), durationSec: 1800 });
    expect(sessions.get(abandoned.id)!.summary).toMatchObject({
      questionsAttempted: 2,
      questionsCorrect: 1,
      accuracy: 0.5,
      averageTimePerQuestion: 30,
      easyCount: 1,
      hardCount: 1,
    });
    expect(sessions.get(abandoned.id)!.analytics).toMatchObject({ conceptSwitches: 0 });
    expect(sessions.get(empty.id)).toMatchObject({ endedAt: day(1, '08:00:00'), durationSec: 0 });
    expect(sessions.get(empty.id)!.summary).toMatchObject({ questionsAttempted: 0, accuracy: null });
    expect(sessions.get(recent.id)).toMatchObject({ endedAt: null, summary: null }); // idle for only an hour
  });
});

describe('usage statistics', () => {
  test('one row per day of JOBS_TZ, by context, recomputed over the whole day by a later run', async () => {
    const newYork = testJobsConfig({ timezone: 'America/New_York' });
    const q = await createQuestions(db, [{ externalId: 'A1', subcategory: 'Algebra' }]);
    const u = await createLearners(db, ['Ann', 'Bob', 'Cid']);
    const ann = u.get('Ann')!;
    const bob = u.get('Bob')!;
    const cid = u.get('Cid')!;
    // 2025-03-01 in New York is [05:00Z on the 1st, 05:00Z on the 2nd).
    await db.prisma.session.createMany({
      data: [
        { userId: ann, startedAt: at('2025-03-01T05:30:00Z'), endedAt: at('2025-03-01T06:10:00Z'), durationSec: 2400 },
        // Cid's is on the day before there:
        { userId: cid, startedAt: at('2025-03-01T04:00:00Z'), endedAt: at('2025-03-01T04:30:00Z'), durationSec: 1800 },
      ],
    });
    await insertAttempts(db, [
      { userId: ann, questionId: q.get('A1')!, correct: true, recordedAt: at('2025-03-01T06:00:00Z') },
      { userId: ann, questionId: q.get('A1')!, correct: false, recordedAt: at('2025-03-01T06:01:00Z') },
      {
        userId: bob,
        questionId: q.get('A1')!,
        correct: false,
        context: 'DAILY',
        recordedAt: at('2025-03-01T04:59:00Z'),
      }, // the day before
      {
        userId: bob,
        questionId: q.get('A1')!,
        correct: true,
        context: 'PRACTICE',
        recordedAt: at('2025-03-01T12:00:00Z'),
      },
    ]);
    // A run by hand in the afternoon closes what there is so far.
    await nightly(at('2025-03-01T17:00:00Z'), '2025-03-01', newYork);
    expect(await db.prisma.usageStat.findUnique({ where: { date: new Date('2025-03-01T00:00:00Z') } })).toMatchObject({
      attempts: 3,
      activeUsers: 2,
      sessions: 1,
    });

    // Later that day: a practice hit at 23:00 in New York, and a session of 20 minutes.
    await insertAttempts(db, [
      {
        userId: ann,
        questionId: q.get('A1')!,
        correct: true,
        context: 'PRACTICE',
        recordedAt: at('2025-03-02T04:00:00Z'),
      },
    ]);
    await db.prisma.session.create({
      data: {
        userId: bob,
        startedAt: at('2025-03-01T20:00:00Z'),
        endedAt: at('2025-03-01T20:20:00Z'),
        durationSec: 1200,
      },
    });
    await nightly(at('2025-03-02T07:00:00Z'), '2025-03-01', newYork); // the scheduled 02:00 run there
    const stat = await db.prisma.usageStat.findUniqueOrThrow({ where: { date: new Date('2025-03-01T00:00:00Z') } });
    expect(stat).toMatchObject({ activeUsers: 2, sessions: 2, attempts: 4, accuracy: 0.75 });
    expect(stat.averageSessionMinutes).toBeCloseTo(30, 12);
    expect(stat.byContext).toEqual([
      { context: 'SESSION', activeUsers: 1, attempts: 2, accuracy: 0.5 },
      { context: 'PRACTICE', activeUsers: 2, attempts: 2, accuracy: 1 },
      { context: 'DAILY', activeUsers: 0, attempts: 0, accuracy: null },
    ]);
  });
});

describe('cleanup', () => {
  test('deletes plans (every version) and job runs past retention; never attempts, sessions, watermark', async () => {
    const q = await createQuestions(db, [{ externalId: 'A1', subcategory: 'Algebra' }]);
    const ann = (await createLearners(db, ['Ann'])).get('Ann')!;
    const old = at('2024-01-01T10:00:00Z');
    const session = await db.prisma.session.create({
      data: { userId: ann, startedAt: old, endedAt: plus(old, hours(1)), durationSec: 3600 },
    });
    await insertAttempts(db, [
      { userId: ann, questionId: q.get('A1')!, sessionId: session.id, correct: true, recordedAt: plus(old, 60_000) },
    ]);
    const units = [{ subcategory: 'Algebra', targetQuestions: 10, priority: 1, reason: 'test', status: 'PENDING' }];
    const version = (planDate: string, n: number, createdAt: string) =>
      ({
        userId: ann,
        planDate: new Date(`${planDate}T00:00:00Z`),
        version: n,
        trigger: 'NIGHTLY',
        before: n === 1 ? [] : units,
        after: units,
        targetTotal: 10,
        unitsDigest: unitsDigest(units),
        createdAt: at(createdAt),
      }) as const;
    await db.prisma.planAdjustment.createMany({
      data: [
        version('2024-11-30', 1, '2024-11-29T02:00:00Z'), // 91 days before 2025-03-01: both versions go
        version('2024-11-30', 2, '2024-11-30T09:00:00Z'),
        version('2024-12-01', 1, '2024-11-30T02:00:00Z'), // 90 days: kept
      ],
    });
    // The only NIGHTLY run is old: it holds the watermark and stays. An old failed one and an old decay go.
    await runJob(db, config, { job: 'NIGHTLY', at: at('2024-06-01T02:00:00Z') });
    await db.prisma.jobRun.create({
      data: { job: 'NIGHTLY', slot: at('2024-06-02T02:00:00Z'), status: 'FAILED', error: 'x' },
    });
    await runJob(db, config, { job: 'MASTERY_DECAY', at: at('2024-06-01T06:00:00Z') });
    await runJob(db, config, { job: 'MASTERY_DECAY', at: at('2024-06-01T12:00:00Z') });

    const result = await nightly(N1, '2025-03-01');
    expect(result.run.stats).toMatchObject({ planAdjustmentsDeleted: 2, jobRunsDeleted: 2 });
    expect((await db.prisma.planAdjustment.findMany()).map((p) => p.planDate.toISOString().slice(0, 10))).toEqual([
      '2024-12-01',
    ]);
    const runs = await db.prisma.jobRun.findMany({ orderBy: { slot: 'asc' } });
    expect(runs.map((r) => [r.job, r.slot.toISOString(), r.status])).toEqual([
      ['NIGHTLY', '2024-06-01T02:00:00.000Z', 'SUCCEEDED'],
      ['MASTERY_DECAY', '2024-06-01T12:00:00.000Z', 'SUCCEEDED'],
      ['NIGHTLY', N1.toISOString(), 'SUCCEEDED'],
    ]);
    expect(await db.prisma.attempt.count()).toBe(1);
    expect(await db.prisma.session.count()).toBe(1);
  });
});
