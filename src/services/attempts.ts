import type { Viewer } from '../auth.ts';
import type { Database } from '../db/client.ts';
import { answerKey } from '../domain/grading.ts';
import { badInput, conflict, forbidden, notFound } from '../errors.ts';
import type { AttemptContext } from '../generated/prisma/client.ts';

export interface AttemptInput {
  sessionId: string | null;
  questionId: string;
  userAnswer: string;
  options: unknown;
  timeSec: number;
  hintUsed: boolean;
  context: AttemptContext;
  answeredAt: Date | null;
  clientAttemptId: string;
}

/** How far ahead of the server's clock a client's answeredAt may be. */
export const maxClockSkewMs = 5 * 60_000;

export function checkAttemptInput(input: AttemptInput, now = new Date()): void {
  if (input.context === 'SESSION' && !input.sessionId) throw badInput('An attempt with context SESSION needs a sessionId (or use context PRACTICE or DAILY).');
  if (input.context !== 'SESSION' && input.sessionId) throw badInput(`A ${input.context} attempt belongs to no session: leave sessionId out or use context SESSION.`);
  if (input.answeredAt && input.answeredAt.getTime() > now.getTime() + maxClockSkewMs) {
    throw badInput(`answeredAt ${input.answeredAt.toISOString()} is more than 5 minutes in the future: check the device clock.`);
  }
}

interface InsertedAttempt {
  id: string;
}

/** attemptNo races with another attempt on the same question are retried this often. */
const maxInsertTries = 5;

/**
 * Records an attempt, graded on the server. One statement on the happy path: it locks the session
 * row against a concurrent endSession, numbers the attempt and stores the learner's mastery.
 * Idempotent on (user, clientAttemptId): a retry returns the first attempt's id.
 */
export async function recordAttempt(db: Database, viewer: Viewer, input: AttemptInput): Promise<string> {
  checkAttemptInput(input);
  const optionsJson = input.options === null || input.options === undefined ? null : JSON.stringify(input.options);
  for (let tries = 0; tries < maxInsertTries; tries++) {
    const [inserted] = await db.prisma.$queryRaw<InsertedAttempt[]>`
      WITH q AS (SELECT id, subcategory, answer_key FROM questions WHERE id = ${input.questionId}::uuid),
           s AS (SELECT id FROM sessions
                 WHERE id = ${input.sessionId}::uuid AND user_id = ${viewer.userId}::uuid AND ended_at IS NULL
                 FOR SHARE)
      INSERT INTO attempts (user_id, question_id, session_id, attempt_no, context, options, user_answer, correct,
                            time_sec, hint_used, answered_at, recorded_at, client_attempt_id, mastery_at_attempt)
      SELECT ${viewer.userId}::uuid, q.id, ${input.sessionId}::uuid,
             COALESCE((SELECT max(attempt_no) FROM attempts a WHERE a.user_id = ${viewer.userId}::uuid AND a.question_id = q.id), 0) + 1,
             ${input.context}::"AttemptContext", ${optionsJson}::jsonb, ${input.userAnswer}, q.answer_key = ${answerKey(input.userAnswer)},
             ${input.timeSec}, ${input.hintUsed}, ${input.answeredAt}, clock_timestamp(), ${input.clientAttemptId},
             (SELECT score FROM masteries m WHERE m.user_id = ${viewer.userId}::uuid AND m.subcategory = q.subcategory)
      FROM q
      WHERE ${input.sessionId}::uuid IS NULL OR EXISTS (SELECT 1 FROM s)
      ON CONFLICT DO NOTHING
      RETURNING id`;
    if (inserted) return inserted.id;
    const existing = await db.prisma.attempt.findUnique({
      where: { userId_clientAttemptId: { userId: viewer.userId, clientAttemptId: input.clientAttemptId } },
    });
    if (existing) {
      if (!sameAttempt(existing, input)) {
        throw conflict(`clientAttemptId ${input.clientAttemptId} was already used for a different answer: give each attempt its own clientAttemptId.`);
      }
      return existing.id;
    }
    await explainRefusal(db, viewer, input);
    // Nothing refused it: another attempt on the same question took this attemptNo first; go again.
  }
  throw conflict('Too many simultaneous attempts on this question: retry the request.');
}

function sameAttempt(
  stored: { questionId: string; sessionId: string | null; userAnswer: string; timeSec: number; hintUsed: boolean; context: string; answeredAt: Date | null },
  input: AttemptInput,
): boolean {
  return (
    stored.questionId === input.questionId &&
    stored.sessionId === input.sessionId &&
    stored.userAnswer === input.userAnswer &&
    stored.timeSec === input.timeSec &&
    stored.hintUsed === input.hintUsed &&
    stored.context === input.context &&
    (input.answeredAt === null || stored.answeredAt?.getTime() === input.answeredAt.getTime())
  );
}

/** Throws the reason an insert was refused, if there is one. */
async function explainRefusal(db: Database, viewer: Viewer, input: AttemptInput): Promise<void> {
  const question = await db.prisma.question.findUnique({ where: { id: input.questionId }, select: { id: true } });
  if (!question) throw notFound('This question');
  if (!input.sessionId) return;
  const session = await db.prisma.session.findUnique({ where: { id: input.sessionId }, select: { userId: true, endedAt: true } });
  if (!session) throw notFound('This session');
  if (session.userId !== viewer.userId) throw forbidden('This session belongs to another learner: record attempts into your own sessions.');
  if (session.endedAt) {
    throw conflict(
      `This session ended at ${session.endedAt.toISOString()}: record the attempt with context PRACTICE and no sessionId so it is kept.`,
    );
  }
}
