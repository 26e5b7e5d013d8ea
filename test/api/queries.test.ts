// Reading the graph: statement counts (no N+1), pagination, filters, and concurrent writes.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { graphql } from '../gql/index.ts';
import { createWorld, rawId, type World } from '../support/fixtures.ts';
import { dataOf, startTestServer, type TestServer } from '../support/server.ts';

const SessionsWithAttempts = graphql(`
  query SessionsWithAttempts($id: ID!, $first: Int!) {
    user(id: $id) {
      sessions(first: $first) {
        edges {
          node { id startedAt attempts { id correct question { id externalId subcategory } } summary { accuracy } }
        }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`);

const QuestionsPage = graphql(`
  query QuestionsPage($first: Int, $after: String, $subcategory: String) {
    questions(first: $first, after: $after, subcategory: $subcategory) {
      edges { cursor node { externalId subcategory } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

const Record = graphql(`
  mutation ConcurrentRecord($input: RecordAttemptInput!) { recordAttempt(input: $input) { id attemptNo } }
`);

const RecordScalars = graphql(`
  mutation RecordScalars($input: RecordAttemptInput!) {
    recordAttempt(input: $input) {
      id attemptNo context options userAnswer correct timeSec hintUsed answeredAt recordedAt clientAttemptId
    }
  }
`);

const statements: string[] = [];
let counting = false;
let server: TestServer;
let world: World;

beforeAll(async () => {
  server = await startTestServer({ onQuery: (sql) => counting && statements.push(sql) });
  world = await createWorld(server);
  // 60 sessions of 4 attempts for alice, written directly: this file reads them.
  const questionIds = world.questions.map((q) => rawId(q.id));
  await server.db.prisma.$transaction(async (tx) => {
    for (let s = 0; s < 60; s++) {
      const session = await tx.session.create({
        data: { userId: world.alice.userId, startedAt: new Date(Date.UTC(2026, 0, 1, 0, s)) },
      });
      await tx.attempt.createMany({
        data: questionIds.slice(0, 4).map((questionId, i) => ({
          userId: world.alice.userId,
          questionId,
          sessionId: session.id,
          attemptNo: s + 1,
          context: 'SESSION' as const,
          userAnswer: 'x',
          correct: i % 2 === 0,
          timeSec: 5,
          clientAttemptId: `${s}-${i}`,
        })),
      });
    }
  });
});
afterAll(async () => server?.stop());

describe('no N+1', () => {
  test.each([5, 50])(
    'sessions(first: %i) with attempts and questions costs a fixed number of statements',
    async (first) => {
      statements.length = 0;
      counting = true;
      const data = dataOf(await server.request(SessionsWithAttempts, { id: world.alice.id, first }, world.alice.token));
      counting = false;
      const edges = data.user?.sessions.edges ?? [];
      expect(edges).toHaveLength(first);
      expect(edges.every((e) => e.node.attempts.length === 4 && e.node.attempts[0]?.question.externalId)).toBe(true);
      expect(statements.length, statements.join('\n')).toBeLessThanOrEqual(5);
    },
  );
});

describe('pagination', () => {
  test('sessions are newest first and pages continue where the last ended', async () => {
    const first = dataOf(
      await server.request(SessionsWithAttempts, { id: world.alice.id, first: 10 }, world.alice.token),
    ).user!.sessions;
    const starts = first.edges.map((e) => e.node.startedAt);
    expect([...starts].sort().reverse()).toEqual(starts);
    expect(first.pageInfo.hasNextPage).toBe(true);
  });

  test('questions page through the bank and filter by subcategory', async () => {
    const page1 = dataOf(await server.request(QuestionsPage, { first: 4 }, world.bob.token)).questions;
    const page2 = dataOf(
      await server.request(QuestionsPage, { first: 4, after: page1.pageInfo.endCursor }, world.bob.token),
    ).questions;
    expect(page1.edges.map((e) => e.node.externalId)).toEqual(['ALG-1', 'ALG-2', 'ALG-3', 'GEO-1']);
    expect(page2.edges.map((e) => e.node.externalId)).toEqual(['GEO-2', 'GEO-3']);
    expect(page2.pageInfo.hasNextPage).toBe(false);
    const geometry = dataOf(
      await server.request(QuestionsPage, { subcategory: 'Geometry' }, world.bob.token),
    ).questions;
    expect(geometry.edges.map((e) => e.node.subcategory)).toEqual(['Geometry', 'Geometry', 'Geometry']);
  });
});

// The learner's model state and the question are read once (a statement each) and then kept: a
// learner answering on costs the one INSERT that also writes their new state.
test('recordAttempt answers a selection of its own fields with its one statement', async () => {
  const first = {
    questionId: world.questions[0]!.id,
    userAnswer: 'x = 1',
    timeSec: 3,
    context: 'PRACTICE' as const,
    clientAttemptId: randomUUID(),
  };
  statements.length = 0;
  counting = true;
  dataOf(await server.request(RecordScalars, { input: first }, world.bob.token));
  counting = false;
  expect(statements.length, statements.join('\n')).toBeLessThanOrEqual(3);
  statements.length = 0;
  counting = true;
  const input = {
    questionId: world.questions[0]!.id,
    userAnswer: 'x = 2',
    timeSec: 3.5,
    hintUsed: true,
    context: 'PRACTICE' as const,
    options: ['x = 1', 'x = 2'],
    answeredAt: '2026-01-02T03:04:05.678Z',
    clientAttemptId: randomUUID(),
  };
  const { recordAttempt } = dataOf(await server.request(RecordScalars, { input }, world.bob.token));
  counting = false;
  expect(statements, statements.join('\n')).toHaveLength(1);
  const stored = await server.db.prisma.attempt.findUniqueOrThrow({ where: { id: rawId(recordAttempt.id) } });
  expect(recordAttempt).toEqual({
    id: recordAttempt.id,
    attemptNo: stored.attemptNo,
    context: 'PRACTICE',
    options: ['x = 1', 'x = 2'],
    userAnswer: 'x = 2',
    correct: true,
    timeSec: 3.5,
    hintUsed: true,
    answeredAt: input.answeredAt,
    recordedAt: stored.recordedAt.toISOString(),
    clientAttemptId: input.clientAttemptId,
  });
});

describe('concurrent writes', () => {
  test('20 identical recordAttempt requests at once store one attempt and all return it', async () => {
    const input = {
      questionId: world.questions[2]!.id,
      userAnswer: '-3',
      timeSec: 4,
      context: 'PRACTICE' as const,
      clientAttemptId: randomUUID(),
    };
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => server.request(Record, { input }, world.bob.token)),
    );
    const ids = new Set(responses.map((r) => dataOf(r).recordAttempt.id));
    expect(ids.size).toBe(1);
    expect(await server.db.prisma.attempt.count({ where: { clientAttemptId: input.clientAttemptId } })).toBe(1);
  });

  test('10 different attempts on one question at once get attemptNo 1..10', async () => {
    const questionId = world.questions[1]!.id;
    const responses = await Promise.all(
      Array.from({ length: 10 }, () =>
        server.request(
          Record,
          { input: { questionId, userAnswer: '12', timeSec: 4, context: 'DAILY', clientAttemptId: randomUUID() } },
          world.coach.token,
        ),
      ),
    );
    expect(responses.map((r) => dataOf(r).recordAttempt.attemptNo).sort((a, b) => a - b)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
  });
});
