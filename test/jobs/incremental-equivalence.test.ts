// NIGHTLY's incremental work against the reference of full rebuilds (docs/nightly-incremental.md):
// two databases receive the same seeded two weeks (busy, quiet and empty days, late syncs, learners
// who stop and decay, a budget and a time zone that change, a short retention); one runs its nights as
// they run in production, the other with `full`. After every night, every API read a learner or an
// admin makes answers the same on both.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { mulberry32 } from '../../src/demo/simulation.ts';
import { addDays } from '../../src/domain/calendar.ts';
import { answerKey } from '../../src/domain/grading.ts';
import { runJob } from '../../src/jobs/run.ts';
import { dataOf, startTestServer, type TestServer } from '../support/server.ts';
import { type AttemptSpec, insertAttempts, testJobsConfig } from './support.ts';

// Retention short enough that carried plans and patterns meet it within the weeks.
const config = testJobsConfig({ retention: { planDays: 8, learningPatternDays: 8, jobRunDays: 180 } });
let incremental: TestServer;
let reference: TestServer;
beforeAll(async () => {
  [incremental, reference] = await Promise.all([startTestServer({ jobs: config }), startTestServer({ jobs: config })]);
}, 300_000); // two servers at once: slow on a loaded machine
afterAll(async () => {
  await Promise.all([incremental?.stop(), reference?.stop()]);
});

const firstDay = '2025-03-01';
const dayCount = 15;
const days = Array.from({ length: dayCount }, (_, i) => addDays(firstDay, i));
const subcategories = ['Algebra', 'Geometry', 'Reading'];
const timezones = ['UTC', 'America/New_York', 'Asia/Tokyo'];
const instant = (day: string, hour: number, minute = 0) =>
  new Date(`${day}T${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}:00Z`);
/** The NIGHTLY slot that closes a day: 02:00 UTC after it (JOBS_TZ is UTC in the tests). */
const nightAfter = (day: string) => instant(addDays(day, 1), 2);

interface World {
  questions: { id: string; externalId: string; subcategory: string }[];
  learners: { id: string; timezone: string }[];
  attempts: AttemptSpec[];
}

function simulate(seed: number): World {
  const next = mulberry32(seed); // the same seed, the same world on both databases
  const questions = subcategories.flatMap((subcategory, s) =>
    Array.from({ length: 4 }, (_, i) => ({ id: randomUUID(), externalId: `Q${s}${i}`, subcategory })),
  );
  const learners = Array.from({ length: 9 }, (_, i) => ({ id: randomUUID(), timezone: timezones[i % 3]! }));
  // Learner i stops practising after day `lastDay[i]`: the rest of the weeks are decay alone.
  const lastDay = learners.map((_, i) => (i % 4 === 3 ? 6 + i : dayCount));
  // The last learner practises on one day only: for the nights after, their window keeps its
  // attempts while the others go on.
  const onlyDay = 2;
  const attempts: AttemptSpec[] = [];
  for (const [d, day] of days.entries()) {
    const kind = next();
    // Busy, quiet (a learner or two) and empty days.
    const share = kind < 0.45 ? 0.8 : kind < 0.8 ? 0.15 : 0;
    for (const [i, learner] of learners.entries()) {
      const practises = i === learners.length - 1 ? d === onlyDay : d <= lastDay[i]! && next() < share;
      if (!practises) continue;
      const count = 2 + Math.floor(next() * 7);
      const start = instant(day, 6 + Math.floor(next() * 12), Math.floor(next() * 50));
      for (let k = 0; k < count; k++) {
        const question = questions[Math.floor(next() * questions.length)]!;
        const answeredAt = new Date(start.getTime() + k * 60_000);
        // One attempt in eight syncs one to three days late.
        const late = next() < 0.125 ? (1 + Math.floor(next() * 3)) * 86_400_000 : 0;
        const contextRoll = next();
        attempts.push({
          userId: learner.id,
          questionId: question.id,
          correct: next() < 0.65,
          hintUsed: next() < 0.15,
          context: contextRoll < 0.75 ? 'SESSION' : contextRoll < 0.9 ? 'PRACTICE' : 'DAILY',
          answeredAt,
          recordedAt: new Date(answeredAt.getTime() + late + 1_000),
          masteryAtAttempt: next() < 0.8 ? Math.round(next() * 1000) / 1000 : null,
        });
      }
    }
  }
  // The one-day learner's app clock runs ahead (the API takes an answeredAt up to 5 minutes ahead): an
  // attempt recorded just before the night closes is answered just after it, so that night's window
  // leaves it out and the next night's takes it in, though it was recorded before.
  const closing = nightAfter(days[onlyDay]!).getTime();
  attempts.push({
    userId: learners.at(-1)!.id,
    questionId: questions[0]!.id,
    correct: true,
    hintUsed: false,
    context: 'SESSION',
    answeredAt: new Date(closing + 3 * 60_000),
    recordedAt: new Date(closing - 2 * 60_000),
    masteryAtAttempt: null,
  });
  attempts.sort((a, b) => a.recordedAt.getTime() - b.recordedAt.getTime());
  return { questions, learners, attempts };
}

const bankWrittenAt = new Date(`${addDays(firstDay, -30)}T00:00:00Z`);

async function seed(server: TestServer, world: World) {
  await server.db.prisma.question.createMany({
    data: world.questions.map((q) => ({
      id: q.id,
      externalId: q.externalId,
      category: 'Quantitative',
      subcategory: q.subcategory,
      difficultyBand: 'MEDIUM',
      answer: 'right',
      answerKey: answerKey('right'),
      // Edited before the weeks (not by the test's clock): a question edited since a night makes
      // every learner who answered it computed again.
      createdAt: bankWrittenAt,
      updatedAt: bankWrittenAt,
    })),
  });
  await server.db.prisma.user.createMany({
    data: world.learners.map((l, i) => ({ id: l.id, name: `L${i}`, email: `l${i}@example.com`, timezone: l.timezone })),
  });
}

const unitFields = 'id planDate priority reason status subcategory targetQuestions';
const snapshotFields = 'priority reason status subcategory targetQuestions';

/** Every read of a learner but plans: masteries, history, adjustments, patterns. */
const learnerQuery = `{
  me {
    masteries { subcategory score attemptsCount lastPracticedAt updatedAt estimate estimateUpdatedAt }
    masteryHistory { date subcategory score }
    sinceWeek: masteryHistory(from: "${addDays(firstDay, 7)}", to: "${addDays(firstDay, 14)}") {
      date subcategory score
    }
    algebra: masteryHistory(subcategory: "Algebra") { date subcategory score }
    planAdjustments(first: 100) {
      edges { node { planDate trigger before { ${snapshotFields} } after { ${snapshotFields} } } }
    }
    learningPatterns(days: 30) {
      windowDays optimalSessionDurationMinutes bestHourOfDay
      conceptRetention { subcategory } difficultyProgression { date }
    }
  }
}`;

/** plan(date) of every day so far, tomorrow and the day after, a dozen days a request (the alias limit). */
function planQueries(through: string): string[] {
  const planDays = [...days.filter((day) => day <= through), addDays(through, 1), addDays(through, 2)];
  const queries = [];
  for (let i = 0; i < planDays.length; i += 12) {
    const plans = planDays
      .slice(i, i + 12)
      .map((day, k) => `p${i + k}: plan(date: "${day}") { date units { ${unitFields} } }`);
    queries.push(`{ me { ${plans.join('\n')} } }`);
  }
  return queries;
}

const questionsQuery = `{
  questions(first: 100) {
    edges { node { externalId attemptsCount correctCount difficulty discrimination learningImpact importanceIndex
                   statsUpdatedAt } }
  }
}`;

const testStarted = new Date().toISOString();
const changesOn = addDays(firstDay, 9);

/**
 * Floats to 9 digits: the running sums add the same numbers in another order than a rebuild does.
 * The live estimate, read as of the clock, forgets by the second: it is set aside into `estimates`,
 * compared within 1e-6. Instants of the clock (the live model stamps its rows with its transaction's
 * time) say only that they are there.
 */
function comparable(value: unknown, estimates: number[], key = ''): unknown {
  if (key === 'estimate' && typeof value === 'number') {
    estimates.push(value);
    return 'estimate';
  }
  if (typeof value === 'number' && !Number.isInteger(value)) return Number(value.toPrecision(9));
  if (typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value) && value >= testStarted) return 'clock';
  if (Array.isArray(value)) return value.map((v) => comparable(v, estimates));
  if (value instanceof Date) return comparable(value.toISOString(), estimates);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, comparable(v, estimates, k)]));
  return value;
}

async function reads(server: TestServer, world: World, through: string) {
  const admin = await server.tokenFor(randomUUID(), 'ADMIN');
  const learners = [];
  for (const learner of world.learners) {
    const token = await server.tokenFor(learner.id);
    learners.push(dataOf(await server.request(learnerQuery, {}, token)));
    for (const query of planQueries(through)) learners.push(dataOf(await server.request(query, {}, token)));
  }
  const questions = dataOf(await server.request(questionsQuery, {}, admin));
  // The stored patterns of the nights (no API field reads them: User.learningPatterns computes live).
  const storedPatterns = await server.db.prisma.learningPattern.findMany({
    omit: { id: true },
    orderBy: [{ userId: 'asc' }, { computedAt: 'asc' }],
  });
  const estimates: number[] = [];
  return { state: comparable({ learners, questions, storedPatterns }, estimates), estimates };
}

test('two weeks of nights: every read after incremental nights equals the read after full rebuilds', async () => {
  const world = simulate(20250301);
  await Promise.all([seed(incremental, world), seed(reference, world)]);
  let inserted = 0;
  /** Gives both databases the attempts recorded by `asOf` (late ones arrive when they are recorded). */
  const arrive = async (asOf: Date) => {
    const due = world.attempts.slice(inserted).filter((a) => a.recordedAt <= asOf);
    await Promise.all([insertAttempts(incremental.db, due), insertAttempts(reference.db, due)]);
    inserted += due.length;
  };
  let plansSkipped = 0;
  let patternsKept = 0;
  for (const day of days) {
    for (const decayAt of [instant(day, 12), instant(day, 18)]) {
      await arrive(decayAt);
      for (const server of [incremental, reference])
        await runJob(server.db, config, { job: 'MASTERY_DECAY', at: decayAt });
    }
    // Inputs that change without an attempt: a budget (plans) and a time zone (the pattern window).
    if (day === changesOn) {
      for (const server of [incremental, reference]) {
        await server.db.prisma.user.update({ where: { id: world.learners[0]!.id }, data: { dailyQuestionBudget: 11 } });
        await server.db.prisma.user.update({
          where: { id: world.learners[1]!.id },
          data: { timezone: 'Asia/Kolkata' },
        });
      }
    }
    const night = nightAfter(day);
    await arrive(night);
    const [fast, full] = await Promise.all([
      runJob(incremental.db, config, { job: 'NIGHTLY', at: night, date: day }),
      runJob(reference.db, config, { job: 'NIGHTLY', at: night, date: day }, { full: true }),
    ]);
    expect([fast.outcome, full.outcome, fast.run.error, full.run.error]).toEqual([
      'succeeded',
      'succeeded',
      null,
      null,
    ]);
    plansSkipped += (fast.run.stats as Record<string, number>).plansSkipped!;
    const patterns = fast.run.stats as Record<string, number>;
    patternsKept += patterns.patterns! - patterns.patternsComputed!;
    expect((full.run.stats as Record<string, number>).plansSkipped).toBe(0);
    const [read, expected] = [await reads(incremental, world, day), await reads(reference, world, day)];
    expect(read.state, `reads after the night closing ${day}`).toEqual(expected.state);
    expect(read.estimates.length).toBe(expected.estimates.length);
    for (const [i, estimate] of read.estimates.entries()) expect(estimate).toBeCloseTo(expected.estimates[i]!, 6);
  }
  // Idle learners were carried without being planned again, and read as the full runs planned them.
  expect(plansSkipped).toBeGreaterThan(0);
  // Learners whose window did not change kept their stored pattern, and read the same.
  expect(patternsKept).toBeGreaterThan(0);
  // Every attempt recorded by the last night arrived, late syncs among them.
  const arrived = world.attempts.slice(0, inserted);
  expect(arrived).toEqual(world.attempts.filter((a) => a.recordedAt <= nightAfter(days.at(-1)!)));
  expect(arrived.filter((a) => a.recordedAt.getTime() - a.answeredAt!.getTime() > 86_400_000).length).toBeGreaterThan(
    5,
  );
}, 1_200_000);
