// Sparse MasteryHistory against the history full runs store (a point per subcategory per night):
// forty-five nights with long idle stretches (decay past the 30-day rule and back), decay held off by
// attempts that do not count for mastery, a late sync, decay runs out of order, a re-run of a date,
// and job runs past retention. After every night each read equals the reference's.
import { expect, test } from 'vitest';
import { addDays } from '../../src/domain/calendar.ts';
import { runJob } from '../../src/jobs/run.ts';
import { masteryHistory } from '../../src/services/mastery-history.ts';
import type { TestDatabase } from '../support/database.ts';
import { useTestDatabase } from '../support/hooks.ts';
import { type AttemptSpec, createLearners, createQuestions, insertAttempts, testJobsConfig } from './support.ts';

// Job runs older than ten days are cleaned up: the reads must not need them.
const config = testJobsConfig({ retention: { planDays: 90, learningPatternDays: 90, jobRunDays: 10 } });
const incremental = useTestDatabase();
const reference = useTestDatabase();

const firstDay = '2025-03-01';
const dayCount = 45;
const instant = (day: number, hour: number) =>
  new Date(`${addDays(firstDay, day)}T${String(hour).padStart(2, '0')}:00:00Z`);

async function world(db: TestDatabase) {
  const q = await createQuestions(db, [
    { externalId: 'A', subcategory: 'Algebra' },
    { externalId: 'G', subcategory: 'Geometry' },
  ]);
  const learners = await createLearners(db, ['Ann', 'Bob', 'Cy']);
  return { q, learners };
}

/** The attempts of the weeks, by learner name and question external id. */
function plannedAttempts(): { name: string; question: 'A' | 'G'; spec: Omit<AttemptSpec, 'userId' | 'questionId'> }[] {
  const attempts: ReturnType<typeof plannedAttempts> = [];
  // Ann: three busy days, away 36 days (decaying, out of the history after 30), back on day 39.
  for (const day of [0, 1, 2, 39])
    for (const [k, question] of (['A', 'G', 'A'] as const).entries())
      attempts.push({ name: 'Ann', question, spec: { correct: k !== 1 || day > 0, recordedAt: instant(day, 9 + k) } });
  // Bob: one session, then practice (not a mastery context) every fourth day: it holds decay off.
  attempts.push({ name: 'Bob', question: 'A', spec: { correct: true, recordedAt: instant(0, 15) } });
  for (let day = 3; day < dayCount; day += 4)
    attempts.push({
      name: 'Bob',
      question: 'G',
      spec: { correct: false, context: 'PRACTICE', recordedAt: instant(day, 8) },
    });
  // Cy: answered on day 5, synced on day 7; a session on day 20 and one more in a re-run of that day.
  attempts.push({
    name: 'Cy',
    question: 'G',
    spec: { correct: true, answeredAt: instant(5, 10), recordedAt: instant(7, 11) },
  });
  attempts.push({ name: 'Cy', question: 'A', spec: { correct: false, recordedAt: instant(20, 10) } });
  attempts.push({ name: 'Cy', question: 'A', spec: { correct: true, recordedAt: instant(21, 3) } });
  return attempts.sort((a, b) => a.spec.recordedAt.getTime() - b.spec.recordedAt.getTime());
}

test('sparse history reads as the full history over idle weeks, held-off decay, late syncs and re-runs', async () => {
  const dbs = [incremental, reference];
  const worlds = await Promise.all(dbs.map(world));
  const planned = plannedAttempts();
  let inserted = 0;
  const arrive = async (asOf: Date) => {
    const due = planned.slice(inserted).filter((a) => a.spec.recordedAt <= asOf);
    inserted += due.length;
    await Promise.all(
      dbs.map((db, i) =>
        insertAttempts(
          db,
          due.map((a) => ({
            ...a.spec,
            userId: worlds[i]!.learners.get(a.name)!,
            questionId: worlds[i]!.q.get(a.question)!,
          })),
        ),
      ),
    );
  };
  const run = async (job: 'NIGHTLY' | 'MASTERY_DECAY', at: Date, date?: string) => {
    await arrive(at);
    const results = await Promise.all(
      dbs.map((db, i) => runJob(db, config, { job, at, date }, { full: job === 'NIGHTLY' && i === 1 })),
    );
    for (const result of results) expect(result.run.error).toBeNull();
  };
  const reads = (db: TestDatabase, i: number, through: number) =>
    Promise.all(
      ['Ann', 'Bob', 'Cy'].flatMap((name) =>
        [
          {},
          { subcategory: 'Geometry' },
          { from: new Date(addDays(firstDay, through - 5)), to: new Date(addDays(firstDay, through - 1)) },
        ].map(async (args) =>
          (await masteryHistory(db.prisma, worlds[i]!.learners.get(name)!, args, config.mastery, 30)).map((h) => [
            h.date.toISOString().slice(0, 10),
            h.subcategory,
            Number(h.score.toPrecision(9)),
          ]),
        ),
      ),
    );

  for (let day = 0; day < dayCount; day++) {
    // Decay twice a day; on day 12 the later run goes first (a catch-up out of order).
    const decays = day === 12 ? [18, 12] : [12, 18];
    for (const hour of decays) await run('MASTERY_DECAY', instant(day, hour));
    await run('NIGHTLY', instant(day + 1, 2), addDays(firstDay, day));
    // Day 20 is closed again later that night, with Cy's second session in it.
    if (day === 20) await run('NIGHTLY', instant(day + 1, 4), addDays(firstDay, day));
    const [read, expected] = await Promise.all(dbs.map((db, i) => reads(db, i, day + 1)));
    expect(read, `reads after the night closing day ${day}`).toEqual(expected);
  }
  const full = await reads(reference, 1, dayCount);
  const ann = full[0]!.map((entry) => entry[0]);
  // Ann's history stops 30 days after day 2's practice and resumes on her return.
  expect(ann).toContain(addDays(firstDay, 31));
  expect(ann).not.toContain(addDays(firstDay, 33));
  expect(ann).toContain(addDays(firstDay, 39));
  expect(inserted).toBe(planned.length);
  // The point of it: far fewer rows stored than nights read.
  const [stored, dense] = await Promise.all(dbs.map((db) => db.prisma.masteryHistory.count()));
  expect(stored).toBeLessThan(dense! / 2);
}, 900_000);
