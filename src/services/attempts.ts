import type { Viewer } from '../auth.ts';
import type { Database } from '../db/client.ts';
import { answerKey } from '../domain/grading.ts';
import { badInput, conflict, forbidden, notFound } from '../errors.ts';
import type { Attempt, AttemptContext } from '../generated/prisma/client.ts';

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
  checkDeviceTime('answeredAt', input.answeredAt, now);
  if (input.context === 'SESSION' && !input.sessionId)
    throw badInput('An attempt with context SESSION needs a sessionId (or use context PRACTICE or DAILY).');
  if (input.context !== 'SESSION' && input.sessionId)
    throw badInput(`A ${input.context} attempt belongs to no session: leave sessionId out or use context SESSION.`);
}

/** A device's clock may run ahead of the server's by maxClockSkewMs, no more (startedAt, answeredAt, endedAt). */
export function checkDeviceTime(field: string, time: Date | null, now = new Date()): void {
  if (time && time.getTime() > now.getTime() + maxClockSkewMs)
    throw badInput(`${field} ${time.toISOString()} is more than 5 minutes in the future: check the device clock.`);
}

/**
 * attemptNo races with other attempts of the same learner on the same question are retried: each
 * round one of them wins, so this many can arrive at once (a real learner sends one at a time).
 */
const maxInsertTries = 25;

/**
 * Records an attempt, graded on the server. One statement on the happy path: it locks the session
 * row (KEY SHARE: what the foreign key takes anyway; endSession locks FOR UPDATE) against a concurrent endSession, numbers the attempt, stores the learner's mastery, and returns
 * the row. Idempotent on (user, clientAttemptId): a retry returns the first attempt.
 */
export async function recordAttempt(db: Database, viewer: Viewer, input: AttemptInput): Promise<Attempt> {
  checkAttemptInput(input);
  const optionsJson = input.options === null || input.options === undefined ? null : JSON.stringify(input.options);
  for (let tries = 0; tries < maxInsertTries; tries++) {
    const [inserted] = await db.prisma.$queryRaw<Attempt[]>`
      WITH input AS (SELECT ${viewer.userId}::uuid AS user_id, ${input.questionId}::uuid AS question_id, ${input.sessionId}::uuid AS session_id),
           q AS (SELECT q.id, q.subcategory, q.answer_key FROM questions q, input WHERE q.id = input.question_id),
           s AS (SELECT s.id FROM sessions s, input
                 WHERE s.id = input.session_id AND s.user_id = input.user_id AND s.ended_at IS NULL
                 FOR KEY SHARE OF s)
      INSERT INTO attempts AS a (user_id, question_id, session_id, attempt_no, context, options, user_answer, correct,
                                 time_sec, hint_used, answered_at, recorded_at, client_attempt_id, mastery_at_attempt)
      SELECT input.user_id, q.id, input.session_id,
             COALESCE((SELECT max(p.attempt_no) FROM attempts p WHERE p.user_id = input.user_id AND p.question_id = q.id), 0) + 1,
             ${input.context}::"AttemptContext", ${optionsJson}::jsonb, ${input.userAnswer}, q.answer_key = ${answerKey(input.userAnswer)},
             ${input.timeSec}, ${input.hintUsed}, ${input.answeredAt}, clock_timestamp(), ${input.clientAttemptId},
             (SELECT m.score FROM masteries m WHERE m.user_id = input.user_id AND m.subcategory = q.subcategory)
      FROM q, input
      WHERE input.session_id IS NULL OR EXISTS (SELECT 1 FROM s)
      ON CONFLICT DO NOTHING
      RETURNING a.id, a.user_id AS "userId", a.question_id AS "questionId", a.session_id AS "sessionId", a.attempt_no AS "attemptNo",
                a.context::text AS context, a.options, a.user_answer AS "userAnswer", a.correct, a.time_sec AS "timeSec",
                a.hint_used AS "hintUsed", a.answered_at AS "answeredAt", a.recorded_at AS "recordedAt",
                a.client_attempt_id AS "clientAttemptId", a.mastery_at_attempt AS "masteryAtAttempt"`;
    if (inserted) return inserted;
    const existing = await db.prisma.attempt.findUnique({
      where: { userId_clientAttemptId: { userId: viewer.userId, clientAttemptId: input.clientAttemptId } },
    });
    if (existing) {
      if (!sameAttempt(existing, input)) {
        throw conflict(
          `clientAttemptId ${input.clientAttemptId} was already used for a different answer: give each attempt its own clientAttemptId.`,
        );
      }
      return existing;
    }
    await explainRefusal(db, viewer, input);
    // Nothing refused it: another attempt on the same question took this attemptNo first; go again.
  }
  throw conflict('Too many simultaneous attempts on this question: retry the request.');
}

export function sameAttempt(
  stored: {
    questionId: string;
    sessionId: string | null;
    userAnswer: string;
    timeSec: number;
    hintUsed: boolean;
    context: string;
    answeredAt: Date | null;
  },
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
  const session = await db.prisma.session.findUnique({
    where: { id: input.sessionId },
    select: { userId: true, endedAt: true },
  });
  if (!session) throw notFound('This session');
  if (session.userId !== viewer.userId)
    throw forbidden('This session belongs to another learner: record attempts into your own sessions.');
  if (session.endedAt) {
    throw conflict(
      `This session ended at ${session.endedAt.toISOString()}: record the attempt with context PRACTICE and no sessionId so it is kept.`,
    );
  }
}
