// The active learners a NIGHTLY run plans (30 days) and computes patterns for (9 days): an attempt
// recorded in the span up to the run's `at`, learners only; worked out once per run and shared. A newest
// NIGHTLY reads them from learner_last_recorded, which it keeps from its window's attempts; any other run
// probes the attempts: both give the same learners.
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Transaction } from '../../src/db/types.ts';
import { activeLearnerIds } from '../../src/jobs/steps/active-learners.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { at, createLearners, createQuestions, hours, insertAttempts, plus } from './support.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.destroy());

test('an attempt recorded in the span up to `at`; coaches, later and older attempts left out', async () => {
  const runAt = at('2025-03-31T02:00:00Z');
  const day = hours(24);
  const people = await createLearners(db, ['Recent', 'Tenth', 'Old', 'Late', 'Idle', 'Coach']);
  const id = (name: string) => people.get(name)!;
  await db.prisma.user.update({ where: { id: id('Coach') }, data: { role: 'COACH' } });
  const questions = await createQuestions(db, [{ externalId: 'q1', subcategory: 'Algebra' }]);
  const q = questions.get('q1')!;
  await insertAttempts(db, [
    { userId: id('Recent'), questionId: q, correct: true, recordedAt: plus(runAt, -hours(1)) },
    { userId: id('Recent'), questionId: q, correct: true, recordedAt: plus(runAt, -40 * day) },
    { userId: id('Tenth'), questionId: q, correct: false, recordedAt: plus(runAt, -10 * day) },
    { userId: id('Old'), questionId: q, correct: true, recordedAt: plus(runAt, -30 * day) }, // the span is open there
    { userId: id('Late'), questionId: q, correct: true, recordedAt: plus(runAt, hours(1)) }, // after the run's instant
    { userId: id('Coach'), questionId: q, correct: true, recordedAt: plus(runAt, -hours(2)) },
  ]);
  const sorted = (names: string[]) => names.map(id).sort();
  const later = plus(runAt, 2 * day);
  const probe = (tx: Transaction, runAt: Date) =>
    ({ tx, at: runAt, job: 'PATTERNS', stale: false, full: false, windowStart: null, windowEnd: runAt }) as const;
  const nightly = (tx: Transaction, runAt: Date, windowStart: Date | null, full = false) =>
    ({ tx, at: runAt, job: 'NIGHTLY', stale: false, full, windowStart, windowEnd: runAt }) as const;
  const lastRecorded = async () =>
    Object.fromEntries(
      (await db.prisma.learnerLastRecorded.findMany()).map((l) => [l.userId, l.lastRecordedAt.toISOString()]),
    );
  await db.prisma.$transaction(async (tx) => {
    const run = probe(tx, runAt);
    expect(await activeLearnerIds(run, 30)).toEqual(sorted(['Recent', 'Tenth']));
    expect(await activeLearnerIds(run, 9)).toEqual(sorted(['Recent']));
    await expect(activeLearnerIds(run, 31)).rejects.toThrow(RangeError);
    // Another run in the same transaction (a test's, a backfill's) works its own out.
    expect(await activeLearnerIds(probe(tx, later), 30)).toEqual(sorted(['Late', 'Recent', 'Tenth']));
  });
  // The first NIGHTLY keeps every learner's latest attempt up to its window's end (not Late's, after it).
  await db.prisma.$transaction(async (tx) => {
    expect(await activeLearnerIds(nightly(tx, runAt, null), 30)).toEqual(sorted(['Recent', 'Tenth']));
    expect(await activeLearnerIds(nightly(tx, runAt, null), 9)).toEqual(sorted(['Recent']));
  });
  const first = await lastRecorded();
  expect(first[id('Recent')]).toBe(plus(runAt, -hours(1)).toISOString());
  expect(Object.keys(first).sort()).toEqual(sorted(['Recent', 'Tenth', 'Old', 'Coach']));
  // The next adds its window's attempts, and answers as a probe of the attempts does.
  await db.prisma.$transaction(async (tx) => {
    expect(await activeLearnerIds(nightly(tx, later, runAt), 30)).toEqual(sorted(['Late', 'Recent', 'Tenth']));
  });
  expect((await lastRecorded())[id('Late')]).toBe(plus(runAt, hours(1)).toISOString());
  // A full run works it out again from every attempt up to its end.
  await db.prisma.learnerLastRecorded.update({ where: { userId: id('Old') }, data: { lastRecordedAt: runAt } });
  await db.prisma.$transaction(async (tx) => {
    expect(await activeLearnerIds(nightly(tx, later, runAt, true), 30)).toEqual(sorted(['Late', 'Recent', 'Tenth']));
  });
  expect(await lastRecorded()).toEqual({ ...first, [id('Late')]: plus(runAt, hours(1)).toISOString() });
});
