import { describe, expect, test } from 'vitest';
import { graphql } from '../gql/index.ts';
import { useTestServer } from '../support/hooks.ts';
import { codesOf, dataOf } from '../support/server.ts';

const StartSession = graphql(`
  mutation StartSession($input: StartSessionInput) {
    startSession(input: $input) { id startedAt endedAt units notes clientSessionId user { id } }
  }
`);

const RecordAttempt = graphql(`
  mutation RecordAttempt($input: RecordAttemptInput!) {
    recordAttempt(input: $input) {
      id attemptNo context userAnswer correct timeSec hintUsed answeredAt recordedAt
      question { id externalId } session { id }
    }
  }
`);

const EndSession = graphql(`
  mutation EndSession($id: ID!) {
    endSession(id: $id) {
      id endedAt durationSec
      attempts { id correct }
      summary {
        questionsAttempted questionsCorrect accuracy averageTimePerQuestion topicsCovered
        difficultyDistribution { easy medium hard }
      }
      analytics { learningVelocity conceptSwitches attentionSpanMinutes optimalDifficultyRange }
    }
  }
`);

const { server, world } = useTestServer();

function attemptInput(overrides: Record<string, unknown> & { questionId: string; clientAttemptId: string }) {
  return { userAnswer: 'x', timeSec: 10, ...overrides };
}

describe('sessions and attempts', () => {
  test('a learner records graded attempts into a session and ends it', async () => {
    const { startSession } = dataOf(
      await server.request(StartSession, { input: { units: ['Algebra'], clientSessionId: 's-1' } }, world.alice.token),
    );
    expect(startSession.endedAt).toBeNull();
    expect(startSession.user.id).toBe(world.alice.id);
    const [alg1, alg2] = world.questions;
    const first = dataOf(
      await server.request(
        RecordAttempt,
        {
          input: attemptInput({
            sessionId: startSession.id,
            questionId: alg1!.id,
            userAnswer: '  X  =   2 ',
            clientAttemptId: 'a-1',
          }),
        },
        world.alice.token,
      ),
    ).recordAttempt;
    expect(first).toMatchObject({
      attemptNo: 1,
      correct: true,
      context: 'SESSION',
      hintUsed: false,
      session: { id: startSession.id },
    });
    const retry = dataOf(
      await server.request(
        RecordAttempt,
        {
          input: attemptInput({
            sessionId: startSession.id,
            questionId: alg1!.id,
            userAnswer: 'x = 3',
            clientAttemptId: 'a-2',
            timeSec: 20,
          }),
        },
        world.alice.token,
      ),
    ).recordAttempt;
    expect(retry).toMatchObject({ attemptNo: 2, correct: false });
    const other = dataOf(
      await server.request(
        RecordAttempt,
        {
          input: attemptInput({
            sessionId: startSession.id,
            questionId: alg2!.id,
            userAnswer: '12',
            clientAttemptId: 'a-3',
            hintUsed: true,
          }),
        },
        world.alice.token,
      ),
    ).recordAttempt;
    expect(other).toMatchObject({ attemptNo: 1, correct: true, hintUsed: true });

    const ended = dataOf(await server.request(EndSession, { id: startSession.id }, world.alice.token)).endSession;
    expect(ended.endedAt).not.toBeNull();
    expect(ended.durationSec).toBeGreaterThanOrEqual(0);
    expect(ended.attempts.map((a) => a.correct)).toEqual([true, false, true]);
    expect(ended.summary).toEqual({
      questionsAttempted: 3,
      questionsCorrect: 2,
      accuracy: 2 / 3,
      averageTimePerQuestion: 40 / 3,
      topicsCovered: ['Algebra'],
      difficultyDistribution: { easy: 2, medium: 1, hard: 0 },
    });
    // r = 1, 1/2, 2/3 against i = 1, 2, 3: slope = ((-1)(1 - 13/18) + (1)(2/3 - 13/18)) / 2 = -1/6 → -10/6 per 10.
    expect(ended.analytics?.learningVelocity).toBeCloseTo(-10 / 6, 12);
    expect(ended.analytics).toMatchObject({ conceptSwitches: 0, attentionSpanMinutes: null });

    const again = dataOf(await server.request(EndSession, { id: startSession.id }, world.alice.token)).endSession;
    expect(again.endedAt).toBe(ended.endedAt);
    expect(again.summary).toEqual(ended.summary);
  });

  test('a retried attempt returns the first and writes nothing; other content under its key is CONFLICT', async () => {
    const { startSession } = dataOf(await server.request(StartSession, {}, world.bob.token));
    const input = attemptInput({
      sessionId: startSession.id,
      questionId: world.questions[3]!.id,
      userAnswer: '90',
      clientAttemptId: 'bob-1',
    });
    const first = dataOf(await server.request(RecordAttempt, { input }, world.bob.token)).recordAttempt;
    const second = dataOf(await server.request(RecordAttempt, { input }, world.bob.token)).recordAttempt;
    expect(second).toEqual(first);
    expect(await server.db.prisma.attempt.count({ where: { clientAttemptId: 'bob-1' } })).toBe(1);
    const changed = await server.request(RecordAttempt, { input: { ...input, userAnswer: '45' } }, world.bob.token);
    expect(codesOf(changed)).toEqual(['CONFLICT']);
  });

  test('refusals carry a code and write nothing', async () => {
    const { startSession: bobs } = dataOf(await server.request(StartSession, {}, world.bob.token));
    const before = await server.db.prisma.attempt.count();
    const q = world.questions[0]!.id;
    const cases: [Record<string, unknown>, string][] = [
      [attemptInput({ sessionId: bobs.id, questionId: q, clientAttemptId: 'r-1' }), 'FORBIDDEN'],
      [attemptInput({ sessionId: bobs.id, questionId: q, clientAttemptId: 'r-2', timeSec: -1 }), 'BAD_USER_INPUT'],
      [attemptInput({ sessionId: bobs.id, questionId: q, clientAttemptId: 'r-3', timeSec: 86_401 }), 'BAD_USER_INPUT'],
      [
        attemptInput({
          questionId: q,
          clientAttemptId: 'r-4',
          context: 'PRACTICE',
          answeredAt: new Date(Date.now() + 10 * 60_000).toISOString(),
        }),
        'BAD_USER_INPUT',
      ],
      [attemptInput({ questionId: q, clientAttemptId: 'r-5' }), 'BAD_USER_INPUT'],
      [
        attemptInput({
          questionId: Buffer.from('Question:00000000-0000-0000-0000-000000000000').toString('base64'),
          clientAttemptId: 'r-6',
          context: 'PRACTICE',
        }),
        'NOT_FOUND',
      ],
      [attemptInput({ questionId: 'not-an-id', clientAttemptId: 'r-7', context: 'PRACTICE' }), 'BAD_USER_INPUT'],
    ];
    for (const [input, code] of cases) {
      const response = await server.request(RecordAttempt, { input: input as never }, world.alice.token);
      expect({ input, codes: codesOf(response) }).toEqual({ input, codes: [code] });
    }
    expect(await server.db.prisma.attempt.count()).toBe(before);
  });

  test('practice attempts have no session; an old answeredAt is accepted', async () => {
    const answeredAt = '2020-01-02T03:04:05.000Z';
    const { recordAttempt } = dataOf(
      await server.request(
        RecordAttempt,
        {
          input: attemptInput({
            questionId: world.questions[4]!.id,
            userAnswer: 'new york',
            clientAttemptId: 'p-1',
            context: 'PRACTICE',
            answeredAt,
          }),
        },
        world.alice.token,
      ),
    );
    expect(recordAttempt).toMatchObject({ session: null, context: 'PRACTICE', correct: true, answeredAt });
  });

  test('an ended session takes no more attempts, except a retry of one it has', async () => {
    const { startSession } = dataOf(await server.request(StartSession, {}, world.alice.token));
    const input = attemptInput({
      sessionId: startSession.id,
      questionId: world.questions[5]!.id,
      clientAttemptId: 'e-1',
    });
    const first = dataOf(await server.request(RecordAttempt, { input }, world.alice.token)).recordAttempt;
    dataOf(await server.request(EndSession, { id: startSession.id }, world.alice.token));
    expect(dataOf(await server.request(RecordAttempt, { input }, world.alice.token)).recordAttempt.id).toBe(first.id);
    const late = await server.request(
      RecordAttempt,
      { input: { ...input, clientAttemptId: 'e-2' } },
      world.alice.token,
    );
    expect(codesOf(late)).toEqual(['CONFLICT']);
    expect(late.errors?.[0]?.message).toMatch(/PRACTICE/);
  });

  test('startSession is idempotent on clientSessionId', async () => {
    const input = { clientSessionId: 'same', units: ['Geometry'] };
    const a = dataOf(await server.request(StartSession, { input }, world.bob.token)).startSession;
    const b = dataOf(await server.request(StartSession, { input }, world.bob.token)).startSession;
    expect(b.id).toBe(a.id);
    expect(
      codesOf(await server.request(StartSession, { input: { ...input, units: ['Algebra'] } }, world.bob.token)),
    ).toEqual(['CONFLICT']);
  });

  test('only the owner ends a session', async () => {
    const { startSession } = dataOf(await server.request(StartSession, {}, world.alice.token));
    expect(codesOf(await server.request(EndSession, { id: startSession.id }, world.bob.token))).toEqual(['FORBIDDEN']);
    expect(codesOf(await server.request(EndSession, { id: startSession.id }, world.coach.token))).toEqual([
      'FORBIDDEN',
    ]);
    expect(codesOf(await server.request(EndSession, { id: startSession.id }))).toEqual(['UNAUTHENTICATED']);
  });
});
