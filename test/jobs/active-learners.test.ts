// The active learners a NIGHTLY run plans (30 days) and computes patterns for (9 days): an attempt
// recorded in the span up to the run's `at`, learners only; worked out once per run and shared.
import { afterAll, beforeAll, expect, test } from 'vitest';
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
  await db.prisma.$transaction(async (tx) => {
    const run = { tx, at: runAt };
    expect(await activeLearnerIds(run, 30)).toEqual(sorted(['Recent', 'Tenth']));
    expect(await activeLearnerIds(run, 9)).toEqual(sorted(['Recent']));
    await expect(activeLearnerIds(run, 31)).rejects.toThrow(RangeError);
    // Another run in the same transaction (a test's, a backfill's) works its own out.
    expect(await activeLearnerIds({ tx, at: plus(runAt, 2 * day) }, 30)).toEqual(sorted(['Late', 'Recent', 'Tenth']));
  });
});
