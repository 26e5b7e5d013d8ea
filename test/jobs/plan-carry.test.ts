// Plans carried over by NIGHTLY (docs/nightly-incremental.md): a night whose plan comes out as the day
// before's stores no version and publishes nothing, and plan(date) still reads it, every unit PENDING;
// an idle learner is not planned again at all (plansSkipped) and reads the plan a replan would make;
// a real change (a budget, a subcategory falling due for review) gets a version; a learner no longer
// planned keeps the days carried so far and no more; retention removes carried days past it like
// versioned ones. The live model forgets as configured: plans do not read the clock (plan mastery).
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runJob } from '../../src/jobs/run.ts';
import { effectivePlans, replanLearners, replanWithCarries } from '../../src/services/plans.ts';
import { dataOf, startTestServer, type TestServer } from '../support/server.ts';
import { at, createLearners, createQuestions, insertAttempts, testJobsConfig } from './support.ts';

const config = testJobsConfig();
let server: TestServer;
let learner: string;
let token: string;
/** Rita practised Algebra on the 1st and Geometry on the 4th: Algebra falls due on the night of the 8th. */
let rita: string;
let ritaToken: string;
beforeAll(async () => {
  server = await startTestServer({ jobs: config });
  const questions = await createQuestions(server.db, [
    { externalId: 'A1', subcategory: 'Algebra' },
    { externalId: 'A2', subcategory: 'Algebra' },
    { externalId: 'G1', subcategory: 'Geometry' },
  ]);
  const learners = await createLearners(server.db, ['Carrie', 'Rita']);
  learner = learners.get('Carrie')!;
  token = await server.tokenFor(learner);
  rita = learners.get('Rita')!;
  ritaToken = await server.tokenFor(rita);
  await insertAttempts(server.db, [
    ...[true, false, true].map((correct, i) => ({
      userId: learner,
      questionId: questions.get(i === 1 ? 'A2' : 'A1')!,
      correct,
      recordedAt: at(`2025-03-02T10:0${i}:00Z`),
    })),
    { userId: rita, questionId: questions.get('A1')!, correct: false, recordedAt: at('2025-03-01T12:00:00Z') },
    { userId: rita, questionId: questions.get('G1')!, correct: true, recordedAt: at('2025-03-04T12:00:00Z') },
  ]);
});
afterAll(async () => server?.stop());

/** The night that closes `day` (02:00 UTC after it), with its stats. */
async function night(day: string, next: string, jobs = config) {
  const run = await runJob(server.db, jobs, { job: 'NIGHTLY', at: at(`${next}T02:00:00Z`), date: day });
  expect([run.outcome, run.run.error]).toEqual(['succeeded', null]);
  return run.run.stats as Record<string, number>;
}

async function plan(date: string, as = token) {
  const query = `{ me { plan(date: "${date}") { units { id subcategory targetQuestions priority reason status } } } }`;
  return dataOf<{ me: { plan: { units: { id: string; subcategory: string; status: string; reason: string }[] } } }>(
    await server.request(query, {}, as),
  ).me.plan.units;
}

/** Whether planning the learner's day again as of `now` changes it (rolled back either way). */
async function replanChanges(userId: string, planDate: string, now: Date): Promise<number> {
  let changes = 0;
  await server.db.prisma
    .$transaction(async (tx) => {
      changes = (await replanLearners(tx, [{ userId, planDate }], 'NIGHTLY', { now })).length;
      throw new Error('roll back');
    })
    .catch((error: Error) => expect(error.message).toBe('roll back'));
  return changes;
}

/** The units without their ids and statuses (a unit's id names its day). */
const bare = (units: { id: string; status: string }[]) => units.map(({ id: _, status: __, ...unit }) => unit);
const versions = () => server.db.prisma.planAdjustment.count({ where: { userId: learner } });
const carries = () => server.db.prisma.planCarry.findMany({ where: { userId: learner }, orderBy: { fromDate: 'asc' } });

test('an unchanged plan is carried without a version; changes, the end of activity and retention', async () => {
  // The first night: no night before it, so everyone is planned.
  expect(await night('2025-03-05', '2025-03-06')).toMatchObject({ plansSkipped: 0, plansChanged: 2, plansCarried: 0 });
  const first = await plan('2025-03-06');
  expect(first.length).toBeGreaterThan(0);
  // A unit done on the 6th: the carried 7th starts undone.
  const done = `mutation($id: ID!) { setPlanUnitStatus(id: $id, status: DONE) { status } }`;
  dataOf(await server.request(done, { id: first[0]!.id }, token));
  expect(await versions()).toBe(2);

  // Both idle: neither is planned again. Carrie's day before is a version (with a unit done): a carry
  // starts from it; Rita's, the night's version: a carry starts from it too.
  expect(await night('2025-03-06', '2025-03-07')).toMatchObject({ plansSkipped: 2, plansChanged: 0, plansCarried: 2 });
  expect(await versions()).toBe(2); // nothing written, nothing published
  // What they read is what planning them again would make.
  for (const userId of [learner, rita])
    expect(await replanChanges(userId, '2025-03-07', at('2025-03-08T02:00:00Z'))).toBe(0);
  const carried = await plan('2025-03-07');
  expect(bare(carried)).toEqual(bare(first));
  expect(carried.map((u) => u.status)).toEqual(carried.map(() => 'PENDING'));
  expect((await plan('2025-03-06'))[0]!.status).toBe('DONE');
  expect(await plan('2025-03-08')).toEqual([]); // no night has planned it yet

  // Still the same the next night: the open carry extends by itself.
  expect(await night('2025-03-07', '2025-03-08')).toMatchObject({ plansSkipped: 2, plansChanged: 0, plansCarried: 2 });
  expect(await replanChanges(learner, '2025-03-08', at('2025-03-09T02:00:00Z'))).toBe(0);
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

  // Real changes get a version: Carrie's budget (her day before's targets no longer add up to it) and
  // Rita's Algebra, practised 7 days before this night's `at` but not before the last one's. The days
  // carried before read as they did.
  await server.db.prisma.user.update({ where: { id: learner }, data: { dailyQuestionBudget: 12 } });
  const ritaBefore = await plan('2025-03-08', ritaToken);
  expect(ritaBefore.map((u) => u.reason).filter((r) => r.endsWith('review'))).toEqual([]);
  expect(await night('2025-03-08', '2025-03-09')).toMatchObject({ plansSkipped: 0, plansChanged: 2, plansCarried: 0 });
  const ritaAfter = await plan('2025-03-09', ritaToken);
  expect(ritaAfter.find((u) => u.subcategory === 'Algebra')!.reason).toBe('last practised on 2025-03-01 — review');
  expect(bare(await plan('2025-03-08', ritaToken))).toEqual(bare(ritaBefore));
  const changed = await plan('2025-03-09');
  expect(changed.reduce((sum, u) => sum + (u as unknown as { targetQuestions: number }).targetQuestions, 0)).toBe(12);
  expect(bare(await plan('2025-03-07'))).toEqual(bare(first));
  expect(await versions()).toBe(4);

  // Forty days on the learner is no longer active: no plan for the new day, the carry ends at the
  // last day a night planned, and retention (42 days here) removes the days before its cutoff.
  const retention = testJobsConfig({ retention: { ...config.retention, planDays: 42 } });
  expect(await night('2025-04-19', '2025-04-20', retention)).toMatchObject({
    learnersPlanned: 0,
    carriesEnded: 2,
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

test('a replan of many chunks reads each chunk after the one before it wrote the same learner', async () => {
  // The next chunk's inputs are read ahead while a chunk is planned, unless the two share a learner:
  // here the last request of the first chunk (500) plans a learner's day, the next chunk their day
  // after, which comes out the same and is carried only if its read sees that day's new version.
  const names = [...Array.from({ length: 499 }, (_, i) => `Filler${i}`), 'Chunky'];
  const ids = await createLearners(server.db, names);
  const chunky = ids.get('Chunky')!;
  const requests = [
    ...names.map((name) => ({ userId: ids.get(name)!, planDate: '2025-06-01' })),
    { userId: chunky, planDate: '2025-06-02' },
  ];
  await server.db.prisma
    .$transaction(
      async (tx) => {
        const now = at('2025-06-01T02:00:00Z');
        const { changes, carried } = await replanWithCarries(tx, requests, 'NIGHTLY', { now, carry: true });
        expect(changes.filter((c) => c.userId === chunky).map((c) => c.planDate)).toEqual(['2025-06-01']);
        expect(carried).toBe(1);
        const stored = await tx.planCarry.findMany({ where: { userId: chunky } });
        expect(stored.map((c) => [c.fromDate.toISOString().slice(0, 10), c.throughDate])).toEqual([
          ['2025-06-02', null],
        ]);
        throw new Error('roll back');
      },
      { timeout: 60_000 },
    )
    .catch((error: Error) => expect(error.message).toBe('roll back'));
}, 120_000);
