// What the dashboard reads beyond the analytics: the learner list (users with search and role, and
// each user's stats in one statement per page), every subcategory's mastery history, and sessions
// per day in the cohort overview.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { graphql } from '../gql/index.ts';
import { createWorld, type World } from '../support/fixtures.ts';
import { codesOf, dataOf, startTestServer, type TestServer } from '../support/server.ts';

const StartSession = graphql(`
  mutation FieldsStartSession { startSession(input: { units: ["Algebra"] }) { id } }
`);
const Answer = graphql(`
  mutation FieldsAnswer($input: RecordAttemptInput!) { recordAttempt(input: $input) { correct answeredAt } }
`);
const EndSession = graphql(`
  mutation FieldsEndSession($id: ID!) { endSession(id: $id) { id } }
`);
const Learners = graphql(`
  query FieldsLearners($search: String, $role: Role, $first: Int, $after: String) {
    users(search: $search, role: $role, first: $first, after: $after) {
      edges { node { name stats { lastActiveAt sessions attempts accuracy meanMastery subcategories } } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);
const History = graphql(`
  query FieldsHistory($id: ID!, $from: Date) {
    user(id: $id) { masteryHistory(from: $from) { date subcategory score } stats { sessions } }
  }
`);
const Days = graphql(`
  query FieldsDays($from: Date!, $to: Date!) {
    cohortOverview(from: $from, to: $to) { days { date attempts accuracy activeLearners sessions } }
  }
`);

let server: TestServer;
let world: World;
const today = new Date().toISOString().slice(0, 10);
let aliceLastAnswer = '';

beforeAll(async () => {
  server = await startTestServer();
  world = await createWorld(server);
  const algebra = world.questions.filter((q) => q.subcategory === 'Algebra');
  const { startSession } = dataOf(await server.request(StartSession, {}, world.alice.token));
  for (const [i, q] of algebra.entries()) {
    const { recordAttempt } = dataOf(
      await server.request(
        Answer,
        {
          input: {
            sessionId: startSession.id,
            questionId: q.id,
            userAnswer: i < 2 ? q.answer : 'wrong',
            timeSec: 10,
            answeredAt: new Date(Date.now() - (3 - i) * 1000).toISOString(),
            clientAttemptId: `fields-${i}`,
          },
        },
        world.alice.token,
      ),
    );
    aliceLastAnswer = recordAttempt.answeredAt!;
  }
  dataOf(await server.request(EndSession, { id: startSession.id }, world.alice.token));
  const geometry = world.questions.find((q) => q.subcategory === 'Geometry')!;
  dataOf(
    await server.request(
      Answer,
      { input: { context: 'PRACTICE', questionId: geometry.id, userAnswer: 'no', timeSec: 5, clientAttemptId: 'b' } },
      world.bob.token,
    ),
  );
  const now = new Date();
  await server.db.prisma.mastery.createMany({
    data: [
      { userId: world.alice.userId, subcategory: 'Algebra', score: 0.4, updatedAt: now },
      { userId: world.alice.userId, subcategory: 'Geometry', score: 0.8, updatedAt: now },
    ],
  });
  await server.db.prisma.masteryHistory.createMany({
    data: [
      { userId: world.alice.userId, subcategory: 'Geometry', date: new Date('2026-01-02'), score: 0.7 },
      { userId: world.alice.userId, subcategory: 'Algebra', date: new Date('2026-01-02'), score: 0.3 },
      { userId: world.alice.userId, subcategory: 'Algebra', date: new Date('2026-01-01'), score: 0.2 },
      { userId: world.alice.userId, subcategory: 'Algebra', date: new Date('2025-12-31'), score: 0.1 },
    ],
  });
});
afterAll(async () => server?.stop());

describe('users: search, role and stats', () => {
  test('search matches part of the name or the email in any case; role narrows; stats per learner', async () => {
    const ali = dataOf(await server.request(Learners, { search: 'ALICE' }, world.coach.token)).users.edges;
    expect(ali).toEqual([
      {
        node: {
          name: 'Alice Learner',
          stats: {
            lastActiveAt: aliceLastAnswer,
            sessions: 1,
            attempts: 3,
            accuracy: 2 / 3,
            meanMastery: expect.closeTo(0.6, 12),
            subcategories: 2,
          },
        },
      },
    ]);
    const learners = dataOf(
      await server.request(Learners, { search: 'example.COM', role: 'LEARNER' }, world.coach.token),
    );
    expect(learners.users.edges.map((e) => e.node.name)).toEqual(['Alice Learner', 'Bob Learner']);
    expect(learners.users.edges[1]!.node.stats).toEqual({
      lastActiveAt: expect.any(String),
      sessions: 0,
      attempts: 1,
      accuracy: 0,
      meanMastery: null,
      subcategories: 0,
    });
    const coaches = dataOf(await server.request(Learners, { role: 'COACH' }, world.admin.token));
    expect(coaches.users.edges.map((e) => e.node)).toEqual([
      {
        name: 'Cole Coach',
        stats: { lastActiveAt: null, sessions: 0, attempts: 0, accuracy: null, meanMastery: null, subcategories: 0 },
      },
    ]);
    expect(
      dataOf(await server.request(Learners, { search: 'nobody-like-this' }, world.coach.token)).users.edges,
    ).toEqual([]);
  });

  test('pages through the learners by name', async () => {
    const first = dataOf(await server.request(Learners, { role: 'LEARNER', first: 1 }, world.coach.token)).users;
    expect(first.edges.map((e) => e.node.name)).toEqual(['Alice Learner']);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = dataOf(
      await server.request(Learners, { role: 'LEARNER', first: 1, after: first.pageInfo.endCursor }, world.coach.token),
    ).users;
    expect(second.edges.map((e) => e.node.name)).toEqual(['Bob Learner']);
    expect(second.pageInfo.hasNextPage).toBe(false);
  });

  test('a learner may not list users nor read another learner’s stats; a too long search is refused', async () => {
    expect(codesOf(await server.request(Learners, {}, world.alice.token))).toEqual(['FORBIDDEN']);
    expect(codesOf(await server.request(History, { id: world.alice.id }, world.bob.token))).toEqual(['FORBIDDEN']);
    expect(codesOf(await server.request(Learners, { search: 'x'.repeat(201) }, world.coach.token))).toEqual([
      'BAD_USER_INPUT',
    ]);
  });
});

test('masteryHistory without a subcategory: every subcategory, by date then name', async () => {
  const { user } = dataOf(await server.request(History, { id: world.alice.id, from: '2026-01-01' }, world.alice.token));
  expect(user!.masteryHistory).toEqual([
    { date: '2026-01-01', subcategory: 'Algebra', score: 0.2 },
    { date: '2026-01-02', subcategory: 'Algebra', score: 0.3 },
    { date: '2026-01-02', subcategory: 'Geometry', score: 0.7 },
  ]);
  expect(user!.stats.sessions).toBe(1);
});

test('cohortOverview.days counts the sessions learners started that day', async () => {
  const { cohortOverview } = dataOf(await server.request(Days, { from: today, to: today }, world.coach.token));
  expect(cohortOverview.days).toEqual([{ date: today, attempts: 4, accuracy: 0.5, activeLearners: 2, sessions: 1 }]);
});
