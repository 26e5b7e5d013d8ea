// Late data through the API: sessions started and ended at device times (an offline app syncing
// later), and importAttempts for a platform's backend pushing many learners' attempts at once.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { graphql } from '../gql/index.ts';
import { createWorld, rawId, type World } from '../support/fixtures.ts';
import { codesOf, dataOf, startTestServer, type TestServer } from '../support/server.ts';

const StartSession = graphql(`
  mutation LateStartSession($input: StartSessionInput) {
    startSession(input: $input) { id startedAt }
  }
`);

const RecordAttempt = graphql(`
  mutation LateRecordAttempt($input: RecordAttemptInput!) {
    recordAttempt(input: $input) { id answeredAt }
  }
`);

const EndSession = graphql(`
  mutation LateEndSession($id: ID!, $endedAt: DateTime) {
    endSession(id: $id, endedAt: $endedAt) { id startedAt endedAt durationSec summary { questionsAttempted } }
  }
`);

const ImportAttempts = graphql(`
  mutation ImportAttempts($input: [ImportAttemptInput!]!) {
    importAttempts(input: $input) { imported alreadyPresent beforeWatermark refused { index code reason } }
  }
`);

let server: TestServer;
let world: World;

beforeAll(async () => {
  server = await startTestServer();
  world = await createWorld(server);
});
afterAll(async () => server?.stop());

// Whole seconds, from one instant: durations come out exact.
const base = Math.floor(Date.now() / 1000) * 1000;
const hoursAgo = (h: number) => new Date(base - h * 3_600_000).toISOString();

describe('late data', () => {
  test('a session synced later keeps its device start and end', async () => {
    const { startSession } = dataOf(
      await server.request(
        StartSession,
        { input: { units: ['Algebra'], clientSessionId: 'offline-1', startedAt: hoursAgo(30) } },
        world.alice.token,
      ),
    );
    expect(startSession.startedAt).toBe(hoursAgo(30));
    const question = world.questions[0]!;
    dataOf(
      await server.request(
        RecordAttempt,
        {
          input: {
            sessionId: startSession.id,
            questionId: question.id,
            userAnswer: question.answer,
            timeSec: 20,
            answeredAt: hoursAgo(29.5),
            clientAttemptId: 'offline-1-a',
          },
        },
        world.alice.token,
      ),
    );
    // Before its last answer: refused, nothing written.
    const early = await server.request(EndSession, { id: startSession.id, endedAt: hoursAgo(29.9) }, world.alice.token);
    expect(codesOf(early)).toEqual(['BAD_USER_INPUT']);
    const future = await server.request(
      EndSession,
      { id: startSession.id, endedAt: new Date(Date.now() + 3_600_000).toISOString() },
      world.alice.token,
    );
    expect(codesOf(future)).toEqual(['BAD_USER_INPUT']);
    const endedAt = hoursAgo(29);
    const { endSession } = dataOf(
      await server.request(EndSession, { id: startSession.id, endedAt }, world.alice.token),
    );
    expect(new Date(endSession.endedAt!).getTime()).toBe(new Date(endedAt).getTime());
    expect(endSession.durationSec).toBe(3600);
    expect(endSession.summary?.questionsAttempted).toBe(1);
  });

  test('a session may not start in the future', async () => {
    const response = await server.request(
      StartSession,
      { input: { startedAt: new Date(Date.now() + 3_600_000).toISOString() } },
      world.alice.token,
    );
    expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
  });

  test('importAttempts stores good rows of many learners, refuses bad ones by index, no row twice', async () => {
    const [q1, q2] = world.questions;
    const rows = [
      { userId: world.alice.id, questionId: q1!.id, userAnswer: q1!.answer, answeredAt: hoursAgo(50) },
      { userId: world.bob.id, questionId: q2!.id, userAnswer: 'wrong', answeredAt: hoursAgo(49) },
      // A SESSION attempt without a session: refused as recordAttempt refuses it.
      {
        userId: world.bob.id,
        questionId: q1!.id,
        userAnswer: 'x',
        answeredAt: hoursAgo(48),
        context: 'SESSION' as const,
      },
      {
        userId: world.bob.id,
        questionId: q1!.id,
        userAnswer: 'x',
        answeredAt: new Date(Date.now() + 3_600_000).toISOString(),
      },
      { userId: world.alice.id, questionId: q1!.id, userAnswer: 'again', answeredAt: hoursAgo(47) },
    ].map((row, i) => ({ timeSec: 12, idempotencyKey: `backend-${i}`, ...row }));
    const first = dataOf(await server.request(ImportAttempts, { input: rows }, world.admin.token)).importAttempts;
    expect(first.imported).toBe(3);
    expect(first.alreadyPresent).toBe(0);
    expect(first.refused.map((r) => [r.index, r.code])).toEqual([
      [2, 'BAD_USER_INPUT'],
      [3, 'BAD_USER_INPUT'],
    ]);
    const stored = await server.db.prisma.attempt.findMany({
      where: { clientAttemptId: { startsWith: 'backend-' } },
      orderBy: { answeredAt: 'asc' },
    });
    expect(stored.map((a) => [a.userId, a.correct, a.attemptNo, a.context])).toEqual([
      [world.alice.userId, true, 1 + (await priorAttempts(world.alice.userId, rawId(q1!.id), 'backend-')), 'PRACTICE'],
      [world.bob.userId, false, 1, 'PRACTICE'],
      [world.alice.userId, false, stored[0]!.attemptNo + 1, 'PRACTICE'],
    ]);
    // Recorded at the instant they were answered: history keeps its order.
    for (const a of stored) expect(a.recordedAt.getTime()).toBe(a.answeredAt!.getTime());

    const again = dataOf(await server.request(ImportAttempts, { input: rows }, world.admin.token)).importAttempts;
    expect(again.imported).toBe(0);
    expect(again.alreadyPresent).toBe(3);
    const changed = dataOf(
      await server.request(ImportAttempts, { input: [{ ...rows[0]!, userAnswer: 'other' }] }, world.admin.token),
    ).importAttempts;
    expect(changed.refused.map((r) => r.code)).toEqual(['CONFLICT']);
  });

  test('importAttempts is for admins, at most 5,000 rows', async () => {
    const q = world.questions[0]!;
    const row = { userId: world.alice.id, questionId: q.id, userAnswer: 'x', timeSec: 1, answeredAt: hoursAgo(1) };
    expect(
      codesOf(await server.request(ImportAttempts, { input: [{ ...row, idempotencyKey: 'k' }] }, world.alice.token)),
    ).toEqual(['FORBIDDEN']);
    const tooMany = Array.from({ length: 5_001 }, (_, i) => ({ ...row, idempotencyKey: `many-${i}` }));
    expect(codesOf(await server.request(ImportAttempts, { input: tooMany }, world.admin.token))).toEqual([
      'BAD_USER_INPUT',
    ]);
  });
});

async function priorAttempts(userId: string, questionId: string, excludePrefix: string): Promise<number> {
  return server.db.prisma.attempt.count({
    where: { userId, questionId, NOT: { clientAttemptId: { startsWith: excludePrefix } } },
  });
}
