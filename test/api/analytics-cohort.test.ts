// Query.cohortOverview: per subcategory across learners, and the learners at risk, ranked, with a
// reason — against a cohort whose numbers are worked out by hand.
import { beforeAll, describe, expect, test } from 'vitest';
import { cohortLearners } from '../../src/services/activity.ts';
import { graphql } from '../gql/index.ts';
import { createPerson, type Person } from '../support/fixtures.ts';
import { useTestServer } from '../support/hooks.ts';
import { codesOf, dataOf } from '../support/server.ts';

const RecordAttempt = graphql(`
  mutation CohortRecordAttempt($input: RecordAttemptInput!) {
    recordAttempt(input: $input) { id correct }
  }
`);

const Cohort = graphql(`
  query Cohort($from: Date!, $to: Date!) {
    cohortOverview(from: $from, to: $to) {
      from to
      subcategories { subcategory learners attempts accuracy meanMastery }
      atRisk { user { name } reason accuracyDrop activityDrop }
    }
  }
`);

const people: Record<string, Person> = {};
let keyCounter = 0;

/** n practice answers at noon UTC on a day, the first `correct` of them right. */
async function practise(
  person: Person,
  externalId: string,
  day: string,
  n: number,
  correct: number,
  time = '12:00:00',
): Promise<void> {
  const q = world.questions.find((x) => x.externalId === externalId)!;
  for (let i = 0; i < n; i++) {
    const { recordAttempt } = dataOf(
      await server.request(
        RecordAttempt,
        {
          input: {
            context: 'PRACTICE',
            questionId: q.id,
            userAnswer: i < correct ? q.answer : 'wrong',
            timeSec: 15,
            answeredAt: `${day}T${time}Z`,
            clientAttemptId: `co-${keyCounter++}`,
          },
        },
        person.token,
      ),
    );
    expect(recordAttempt.correct).toBe(i < correct);
  }
}

// The range 2026-06-01..2026-06-14: first half 06-01..06-07, second 06-08..06-14.
const from = '2026-06-01';
const to = '2026-06-14';

const { server, world } = useTestServer();
beforeAll(async () => {
  for (const name of ['Steady', 'Slipping', 'Fading', 'Gone', 'Barely', 'Both', 'Few']) {
    people[name] = await createPerson(server, world.admin.token, name);
  }
  people.Kiran = await createPerson(server, world.admin.token, 'Kiran', 'LEARNER', 'Asia/Kolkata');
  //                                    first half          second half
  await practise(people.Steady!, 'GEO-1', '2026-06-02', 10, 8); // 8/10    then 8/10      (not at risk)
  await practise(people.Steady!, 'GEO-1', '2026-06-09', 10, 8);
  await practise(people.Slipping!, 'ALG-1', '2026-06-02', 10, 8); // 80% → 40%: −40 points, score 0.4/0.15 = 2.67
  await practise(people.Slipping!, 'ALG-1', '2026-06-10', 10, 4);
  await practise(people.Fading!, 'ALG-2', '2026-06-03', 20, 15); // 20 → 4 attempts: −80%, score 0.8/0.5 = 1.6
  await practise(people.Fading!, 'ALG-2', '2026-06-12', 4, 3);
  await practise(people.Gone!, 'ALG-3', '2026-06-07', 10, 5); // 10 → 0 attempts: −100%, score 2
  await practise(people.Barely!, 'ALG-1', '2026-06-01', 20, 16); // 80% → 65%: exactly −15 points, score 1
  await practise(people.Barely!, 'ALG-1', '2026-06-14', 20, 13);
  await practise(people.Both!, 'ALG-2', '2026-06-04', 20, 18); // 90% → 62.5% (score 1.83) and 20 → 8 (score 1.2)
  await practise(people.Both!, 'ALG-2', '2026-06-11', 8, 5);
  await practise(people.Few!, 'GEO-2', '2026-06-05', 3, 3); // 3 → 0: too few to say anything
  // Outside the range in UTC.
  await practise(people.Steady!, 'GEO-1', '2026-05-31', 1, 0, '23:59:00');
  await practise(people.Steady!, 'GEO-1', '2026-06-15', 1, 0, '00:00:00');
  // Kolkata: 2026-05-31 18:30Z is 06-01 00:00 IST (in); 06-14 18:30Z is 06-15 00:00 IST (out).
  await practise(people.Kiran!, 'GEO-1', '2026-05-31', 1, 1, '18:30:00');
  await practise(people.Kiran!, 'GEO-1', '2026-06-14', 1, 0, '18:30:00');
  // A coach's attempts are not the cohort's.
  await practise(world.coach, 'ALG-1', '2026-06-02', 5, 0);
  // Current mastery: of the Algebra learners, Slipping 0.4 and Barely 0.6; Steady's Algebra mastery
  // does not count (Steady did no Algebra in the range).
  const now = new Date();
  await server.db.prisma.mastery.createMany({
    data: [
      { userId: people.Slipping!.userId, subcategory: 'Algebra', score: 0.4, updatedAt: now },
      { userId: people.Barely!.userId, subcategory: 'Algebra', score: 0.6, updatedAt: now },
      { userId: people.Steady!.userId, subcategory: 'Algebra', score: 0.9, updatedAt: now },
    ],
  });
});

const CohortDistribution = graphql(`
  query CohortDistribution($from: Date!, $to: Date!) {
    cohortOverview(from: $from, to: $to) {
      days { date attempts accuracy activeLearners sessions }
      subcategories { subcategory masteryQuantiles }
    }
  }
`);

describe('cohortOverview', () => {
  test('every day of the range across learners, each on their own calendar, and mastery quantiles', async () => {
    const { cohortOverview } = dataOf(await server.request(CohortDistribution, { from, to }, world.coach.token));
    // [date, attempts, correct, learners]: Kiran's 05-31 18:30Z is 06-01 in Kolkata, their 06-14 18:30Z
    // is 06-15; the coach's attempts are not the cohort's; no sessions (practice only).
    const expected: [string, number, number, number][] = [
      ['2026-06-01', 21, 17, 2],
      ['2026-06-02', 20, 16, 2],
      ['2026-06-03', 20, 15, 1],
      ['2026-06-04', 20, 18, 1],
      ['2026-06-05', 3, 3, 1],
      ['2026-06-06', 0, 0, 0],
      ['2026-06-07', 10, 5, 1],
      ['2026-06-08', 0, 0, 0],
      ['2026-06-09', 10, 8, 1],
      ['2026-06-10', 10, 4, 1],
      ['2026-06-11', 8, 5, 1],
      ['2026-06-12', 4, 3, 1],
      ['2026-06-13', 0, 0, 0],
      ['2026-06-14', 20, 13, 1],
    ];
    expect(cohortOverview.days).toEqual(
      expected.map(([date, attempts, correct, activeLearners]) => ({
        date,
        attempts,
        accuracy: attempts === 0 ? null : correct / attempts,
        activeLearners,
        sessions: 0,
      })),
    );
    // Algebra: Slipping 0.4 and Barely 0.6 (Steady did no Algebra in the range); Geometry: nobody has one.
    expect(cohortOverview.subcategories).toEqual([
      { subcategory: 'Algebra', masteryQuantiles: [0.4, 0.45, 0.5, 0.55, 0.6].map((q) => expect.closeTo(q, 12)) },
      { subcategory: 'Geometry', masteryQuantiles: [] },
    ]);
  });

  test('subcategories across learners, each learner’s days in their own zone', async () => {
    const { cohortOverview } = dataOf(await server.request(Cohort, { from, to }, world.coach.token));
    expect(cohortOverview.from).toBe(from);
    expect(cohortOverview.to).toBe(to);
    // Algebra: Slipping 20 (12), Fading 24 (18), Gone 10 (5), Barely 40 (29), Both 28 (23) → 122 (87).
    // Geometry: Steady 20 (16), Few 3 (3), Kiran 1 (1) → 24 (20).
    expect(cohortOverview.subcategories).toEqual([
      { subcategory: 'Algebra', learners: 5, attempts: 122, accuracy: 87 / 122, meanMastery: expect.closeTo(0.5, 12) },
      { subcategory: 'Geometry', learners: 3, attempts: 24, accuracy: 20 / 24, meanMastery: null },
    ]);
  });

  test('the learners at risk, worst first, with a reason a coach can read', async () => {
    const { cohortOverview } = dataOf(await server.request(Cohort, { from, to }, world.admin.token));
    const halves = 'from 2026-06-01..2026-06-07 to 2026-06-08..2026-06-14.';
    expect(cohortOverview.atRisk).toEqual([
      {
        user: { name: 'Slipping' },
        reason: `Accuracy fell from 80% to 40% (−40 points) ${halves}`,
        accuracyDrop: expect.closeTo(0.4, 12),
        activityDrop: 0,
      },
      {
        user: { name: 'Gone' },
        reason: 'Stopped practising: 10 attempts in 2026-06-01..2026-06-07, none in 2026-06-08..2026-06-14.',
        accuracyDrop: null,
        activityDrop: 1,
      },
      {
        user: { name: 'Both' },
        reason: `Accuracy fell from 90% to 63% (−28 points) and attempts fell from 20 to 8 (−60%) ${halves}`,
        accuracyDrop: expect.closeTo(0.275, 12),
        activityDrop: expect.closeTo(0.6, 12),
      },
      {
        user: { name: 'Fading' },
        reason: `Attempts fell from 20 to 4 (−80%) ${halves}`,
        accuracyDrop: null,
        activityDrop: expect.closeTo(0.8, 12),
      },
      {
        user: { name: 'Barely' },
        reason: `Accuracy fell from 80% to 65% (−15 points) ${halves}`,
        accuracyDrop: expect.closeTo(0.15, 12),
        activityDrop: 0,
      },
    ]);
  });

  test('an odd range leaves its middle day out of both halves; one day: nobody at risk; at most `limit`', async () => {
    // 2026-06-02..06-14 (13 days): halves 06-02..06-07 and 06-09..06-14; Barely's 06-01 is outside,
    // so Barely has no first half.
    const atRisk = async (from: string, to: string, limit?: number) =>
      (await cohortLearners(server.db.prisma, from, to, limit)).atRisk;
    const odd = await atRisk('2026-06-02', '2026-06-14');
    expect(odd.map((r) => `${r.firstHalf.from}/${r.firstHalf.to} ${r.secondHalf.from}/${r.secondHalf.to}`)).toEqual(
      odd.map(() => '2026-06-02/2026-06-07 2026-06-09/2026-06-14'),
    );
    expect(odd.map((r) => r.userId)).not.toContain(people.Barely!.userId);
    expect(odd.map((r) => r.userId)).toContain(people.Slipping!.userId);
    expect(await atRisk('2026-06-02', '2026-06-02')).toEqual([]);
    expect((await atRisk(from, to, 2)).map((r) => r.userId)).toEqual([people.Slipping!.userId, people.Gone!.userId]);
  });

  test('an empty range is empty, not an error; a bad range is BAD_USER_INPUT', async () => {
    expect(
      dataOf(await server.request(Cohort, { from: '2020-01-01', to: '2020-12-31' }, world.coach.token)).cohortOverview,
    ).toEqual({
      from: '2020-01-01',
      to: '2020-12-31',
      subcategories: [],
      atRisk: [],
    });
    expect(codesOf(await server.request(Cohort, { from: '2026-06-02', to: '2026-06-01' }, world.coach.token))).toEqual([
      'BAD_USER_INPUT',
    ]);
    expect(codesOf(await server.request(Cohort, { from: '2025-01-01', to: '2026-01-02' }, world.coach.token))).toEqual([
      'BAD_USER_INPUT',
    ]);
  });
});
