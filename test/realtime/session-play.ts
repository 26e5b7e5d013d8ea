// Plays a learner's session through the API: start, answer (right or wrong per subcategory), end.
import { randomUUID } from 'node:crypto';
import { graphql } from '../gql/index.ts';
import type { World } from '../support/fixtures.ts';
import { dataOf, type TestServer } from '../support/server.ts';

export const RealtimeStartSession = graphql(`
  mutation RealtimeStartSession($input: StartSessionInput) { startSession(input: $input) { id } }
`);

export const RealtimeRecordAttempt = graphql(`
  mutation RealtimeRecordAttempt($input: RecordAttemptInput!) { recordAttempt(input: $input) { id correct } }
`);

export const RealtimeEndSession = graphql(`
  mutation RealtimeEndSession($id: ID!) {
    endSession(id: $id) {
      id endedAt durationSec user { id }
      summary {
        questionsAttempted questionsCorrect accuracy averageTimePerQuestion topicsCovered
        difficultyDistribution { easy medium hard }
      }
      analytics { learningVelocity conceptSwitches attentionSpanMinutes optimalDifficultyRange }
    }
  }
`);

/** How the learner does per subcategory: every question of it answered right, or every one wrong. */
export type Performance = Record<string, 'right' | 'wrong'>;

/** Starts a session, answers every question of the listed subcategories once, and returns its id. */
export async function playSession(
  server: TestServer,
  world: World,
  token: string,
  performance: Performance,
): Promise<string> {
  const subcategories = Object.keys(performance);
  const { startSession } = dataOf(
    await server.request(
      RealtimeStartSession,
      { input: { units: subcategories, clientSessionId: randomUUID() } },
      token,
    ),
  );
  for (const question of world.questions.filter((q) => subcategories.includes(q.subcategory))) {
    const userAnswer = performance[question.subcategory] === 'right' ? question.answer : `not ${question.answer}`;
    dataOf(
      await server.request(
        RealtimeRecordAttempt,
        {
          input: {
            sessionId: startSession.id,
            questionId: question.id,
            userAnswer,
            timeSec: 20,
            clientAttemptId: randomUUID(),
          },
        },
        token,
      ),
    );
  }
  return startSession.id;
}

export async function endSession(server: TestServer, token: string, sessionId: string) {
  return dataOf(await server.request(RealtimeEndSession, { id: sessionId }, token)).endSession;
}
