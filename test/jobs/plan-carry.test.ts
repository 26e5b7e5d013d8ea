// Plans carried over by NIGHTLY (docs/nightly-incremental.md): a night whose plan comes out as the day
// before's stores no version and publishes nothing, and plan(date) still reads it, every unit PENDING;
// a real change gets a version; a learner no longer planned keeps the days carried so far and no more;
// retention removes carried days past it like versioned ones.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { defaultLearnerModelParameters } from '../../src/domain/learner-model.ts';
import { runJob } from '../../src/jobs/run.ts';
import { effectivePlans } from '../../src/services/plans.ts';
import { dataOf, startTestServer, type TestServer } from '../support/server.ts';
import { at, createLearners, createQuestions, insertAttempts, testJobsConfig } from './support.ts';

// No forgetting: otherwise the live estimate falls by the hour and a "mastery 59%" reason can round to
// 58% between two nights, a real change of the plan.
const config = testJobsConfig({ learnerModel: { ...defaultLearnerModelParameters, forgettingRate: 0 } });
let server: TestServer;
let learner: string;
let token: string;
beforeAll(async () => {
  server = await startTestServer({ jobs: config });
  const questions = await createQuestions(server.db, [
    { externalId: 'A1', subcategory: 'Algebra' },
    { externalId: 'A2', subcategory: 'Algebra' },
    { externalId: 'G1', subcategory: 'Geometry' },
  ]);
  learner = (await createLearners(server.db, ['Carrie'])).get('Carrie')!;
  token = await server.tokenFor(learner);
  await insertAttempts(
    server.db,
    [true, false, true].map((correct, i) => ({
      userId: learner,
      questionId: questions.get(i === 1 ? 'A2' : 'A1')!,
      correct,
      recordedAt: at(`2025-03-01T10:0${i}:00Z`),
    })),
  );
});
afterAll(async () => server?.stop());

/** The night that closes `day` (02:00 UTC after it), with its stats. */
async function night(day: string, next: string, jobs = config) {
  const run = await runJob(server.db, jobs, { job: 'NIGHTLY', at: at(`${next}T02:00:00Z`), date: day });
  expect([run.outcome, run.run.error]).toEqual(['succeeded', null]);
  return run.run.stats as Record<string, number>;
}

async function plan(date: string) {
  const query = `{ me { plan(date: "${date}") { units { id subcategory targetQuestions priority reason status } } } }`;
  return dataOf<{ me: { plan: { units: { id: string; status: string }[] } } }>(await server.request(query, {}, token))
    .me.plan.units;
}

/** The units without their ids and statuses (a unit's id names its day). */
const bare = (units: { id: string; status: string }[]) => units.map(({ id: _, status: __, ...unit }) => unit);
const versions = () => server.db.prisma.planAdjustment.count({ where: { userId: learner } });
const carries = () => server.db.prisma.planCarry.findMany({ where: { userId: learner }, orderBy: { fromDate: 'asc' } });

test('an unchanged plan is carried without a version; changes, the end of activity and retention', async () => {
  expect(await night('2025-03-05', '2025-03-06')).toMatchObject({ plansChanged: 1, plansCarried: 0 });
  const first = await plan('2025-03-06');
  expect(first.length).toBeGreaterThan(0);
  // A unit done on the 6th: the carried 7th starts undone.
  const done = `mutation($id: ID!) { setPlanUnitStatus(id: $id, status: DONE) { status } }`;
  dataOf(await server.request(done, { id: first[0]!.id }, token));
  expect(await versions()).toBe(2);

  expect(await night('2025-03-06', '2025-03-07')).toMatchObject({ plansChanged: 0, plansCarried: 1 });
  expect(await versions()).toBe(2); // nothing written, nothing published
  const carried = await plan('2025-03-07');
  expect(bare(carried)).toEqual(bare(first));
  expect(carried.map((u) => u.status)).toEqual(carried.map(() => 'PENDING'));
  expect((await plan('2025-03-06'))[0]!.status).toBe('DONE');
  expect(await plan('2025-03-08')).toEqual([]); // no night has planned it yet

  // Still the same the next night: the open carry extends by itself.
  expect(await night('2025-03-07', '2025-03-08')).toMatchObject({ plansChanged: 0, plansCarried: 1 });
  expect(bare(await plan('2025-03-08'))).toEqual(bare(first));
  expect((await carries()).map((c) => c.throughDate)).toEqual([null]);
  // A night reads each learner's day and day before in one statement: many days read at once answer
  // as each day read alone (versions, carried days, a day no night has planned).
  const days = ['2025-03-04', '2025-03-05', '2025-03-06', '2025-03-07', '2025-03-08', '2025-03-09'];
  const keys = days.map((planDate) => ({ userId: learner, planDate }));
  const together = await effectivePlans(server.db.prisma, keys);
  const alone = await Promise.all(keys.map((key) => effectivePlans(server.db.prisma, [key])));
  expect(together).toEqual(new Map(alone.flatMap((plans) => [...plans])));
  const byDay = [...together].sort(([a], [b]) => (a < b ? -1 : 1));
  expect(byDay.map(([key, p]) => [key.slice(-10), p.version, p.carried])).toEqual([
    ['2025-03-06', 2, null],
    ['2025-03-07', 0, 'open'],
    ['2025-03-08', 0, 'open'],
  ]);
  // A unit of a carried day marked done: the day's first version.
  const eighth = await plan('2025-03-08');
  dataOf(await server.request(done, { id: eighth[1]!.id }, token));
  expect((await plan('2025-03-08')).map((u) => u.status)).toEqual(eighth.map((_, i) => (i === 1 ? 'DONE' : 'PENDING')));
  expect(await versions()).toBe(3);

  // A real change (the budget) gets a version; the days carried before read as they did.
  await server.db.prisma.user.update({ where: { id: learner }, data: { dailyQuestionBudget: 12 } });
  expect(await night('2025-03-08', '2025-03-09')).toMatchObject({ plansChanged: 1, plansCarried: 0 });
  const changed = await plan('2025-03-09');
  expect(changed.reduce((sum, u) => sum + (u as unknown as { targetQuestions: number }).targetQuestions, 0)).toBe(12);
  expect(bare(await plan('2025-03-07'))).toEqual(bare(first));
  expect(await versions()).toBe(4);

  // Forty days on the learner is no longer active: no plan for the new day, the carry ends at the
  // last day a night planned, and retention (42 days here) removes the days before its cutoff.
  const retention = testJobsConfig({ retention: { ...config.retention, planDays: 42 } });
  expect(await night('2025-04-19', '2025-04-20', retention)).toMatchObject({
    learnersPlanned: 0,
    carriesEnded: 1,
  });
  expect(await plan('2025-04-20')).toEqual([]);
  expect(await plan('2025-03-10')).toEqual([]);
  expect(await plan('2025-03-07')).toEqual([]); // before the cutoff (2025-03-08)
  expect(bare(await plan('2025-03-09'))).toEqual(bare(changed));
  expect((await carries()).map((c) => [c.fromDate.toISOString().slice(0, 10), c.throughDate])).toEqual([
    ['2025-03-08', new Date('2025-03-09T00:00:00Z')],
  ]);
  expect(
    await server.db.prisma.planAdjustment.count({ where: { userId: learner, planDate: { lt: at('2025-03-08') } } }),
  ).toBe(0);
}, 300_000);
