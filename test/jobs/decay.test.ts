// MASTERY_DECAY: four runs 6 h apart equal one run 24 h later; missed runs are caught up exactly;
// learners active in the last 48 h keep their scores.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { decayedScore } from '../../src/domain/mastery.ts';
import { runJob } from '../../src/jobs/run.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createLearners, createQuestions, hours, insertAttempts, plus, testJobsConfig } from './support.ts';

const config = testJobsConfig();
const T0 = new Date('2025-03-01T00:00:00Z');
const initial = { Algebra: 0.9, Geometry: 0.3, Reading: 0.05 }; // the last one below the floor: it rises toward it

let everyRun: TestDatabase;
let fewRuns: TestDatabase;
beforeAll(async () => {
  [everyRun, fewRuns] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  for (const db of [everyRun, fewRuns]) {
    const users = await createLearners(db, ['Idle', 'Busy']);
    const q = await createQuestions(db, [{ externalId: 'A1', subcategory: 'Algebra' }]);
    await db.prisma.mastery.createMany({
      data: [...users.values()].flatMap((userId) =>
        Object.entries(initial).map(([subcategory, score]) => ({ userId, subcategory, score, updatedAt: T0 })),
      ),
    });
    // Busy answers 5 h in: active from then until 53 h.
    await insertAttempts(db, [
      { userId: users.get('Busy')!, questionId: q.get('A1')!, correct: true, recordedAt: plus(T0, hours(5)) },
    ]);
  }
});
afterAll(async () => Promise.all([everyRun?.destroy(), fewRuns?.destroy()]));

async function decay(db: TestDatabase, afterHours: number) {
  const result = await runJob(db, config, { job: 'MASTERY_DECAY', at: plus(T0, hours(afterHours)) });
  expect(result.outcome).toBe('succeeded');
}

async function scores(db: TestDatabase) {
  const rows = await db.prisma.mastery.findMany({
    include: { user: { select: { name: true } } },
    orderBy: [{ subcategory: 'asc' }],
  });
  return new Map(rows.map((r) => [`${r.user.name}/${r.subcategory}`, r]));
}

function expectScores(actual: Map<string, { score: number }>, name: string, hoursDecayed: number) {
  for (const [subcategory, score] of Object.entries(initial)) {
    const expected = decayedScore(score, hoursDecayed);
    expect(Math.abs(actual.get(`${name}/${subcategory}`)!.score - expected)).toBeLessThan(1e-9);
  }
}

test('four runs 6 h apart equal one run 24 h later, and missed runs are caught up exactly', async () => {
  for (const h of [6, 12, 18, 24]) await decay(everyRun, h);
  await decay(fewRuns, 24);
  const a = await scores(everyRun);
  const b = await scores(fewRuns);
  for (const [key, row] of a) expect(Math.abs(row.score - b.get(key)!.score)).toBeLessThan(1e-9);
  expectScores(a, 'Idle', 24);
  expectScores(a, 'Busy', 0); // an attempt in the last 48 h: untouched
  expect(a.get('Idle/Algebra')!.decayedAt).toEqual(plus(T0, hours(24)));
  expect(a.get('Busy/Algebra')!.decayedAt).toBeNull();

  // Every run from 30 h to 48 h here, none there but the one at 48 h.
  for (const h of [30, 36, 42, 48]) await decay(everyRun, h);
  await decay(fewRuns, 48);
  const c = await scores(everyRun);
  const d = await scores(fewRuns);
  for (const [key, row] of c) expect(Math.abs(row.score - d.get(key)!.score)).toBeLessThan(1e-9);
  expectScores(c, 'Idle', 48);

  // Busy's attempt is 55 h old at 60 h: decayed from their last update (T0), 60 h in one step.
  await decay(everyRun, 60);
  await decay(fewRuns, 60);
  expectScores(await scores(everyRun), 'Busy', 60);
  expectScores(await scores(fewRuns), 'Busy', 60);
  expectScores(await scores(fewRuns), 'Idle', 60);

  // A run as of an instant before the last decay changes nothing.
  const before = await scores(fewRuns);
  await decay(fewRuns, 59);
  expect(await scores(fewRuns)).toEqual(before);
});
