// One row a job cannot process never fails the batch: a learner whose stored time zone the database
// does not know (stored before createUser checked zones) is skipped and reported; the rest are done.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runJob } from '../../src/jobs/run.ts';
import { cohortLearners } from '../../src/services/activity.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { at, createLearners, createQuestions, hours, insertAttempts, plus, testJobsConfig } from './support.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.destroy());

test('NIGHTLY, PATTERNS and the cohort overview process every learner but one with an unknown time zone', async () => {
  const q = await createQuestions(db, [{ externalId: 'A1', subcategory: 'Algebra' }]);
  const good = await createLearners(db, ['Good', 'Fine']);
  const bad = (await createLearners(db, ['Broken'], 'US/Pacific-New')).get('Broken')!;
  const day = at('2025-03-01T09:00:00Z');
  await insertAttempts(
    db,
    [...good.values(), bad].map((userId) => ({ userId, questionId: q.get('A1')!, correct: true, recordedAt: day })),
  );
  const config = testJobsConfig();
  const nightly = await runJob(db, config, { job: 'NIGHTLY', at: plus(day, hours(17)) });
  expect(nightly.outcome, nightly.run.error ?? '').toBe('succeeded');
  expect(nightly.run.stats).toMatchObject({ patterns: 2, patternLearnersSkipped: 1 });
  const patterns = await runJob(db, config, { job: 'PATTERNS', at: plus(day, hours(18)) });
  expect(patterns.run.stats).toMatchObject({ patterns: 2, patternLearnersSkipped: 1 });
  expect(await db.prisma.learningPattern.count({ where: { userId: bad } })).toBe(0);
  // A week on, the day leaves every window: the run that looks for the windows it changed passes them by.
  const weekOn = await runJob(db, config, { job: 'NIGHTLY', at: plus(day, hours(17 + 24 * 7)) });
  expect(weekOn.outcome, weekOn.run.error ?? '').toBe('succeeded');
  expect(weekOn.run.stats).toMatchObject({ patterns: 2, patternsComputed: 2, patternLearnersSkipped: 1 });
  // The overview counts the learner (in UTC) instead of failing.
  expect((await cohortLearners(db.prisma, '2025-03-01', '2025-03-01')).subcategories).toMatchObject([
    { subcategory: 'Algebra', learners: 3, attempts: 3 },
  ]);
});
