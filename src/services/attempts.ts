import { actingUserId, userGone, type Viewer } from '../auth.ts';
import type { Database } from '../db/client.ts';
import { answerKey } from '../domain/grading.ts';
import { answerAfter, estimate, type LearnerModelParameters, updateAfterAttempt } from '../domain/learner-model.ts';
import { attemptCredit } from '../domain/mastery.ts';
import { badInput, conflict, forbidden, notFound } from '../errors.ts';
import type { Attempt, AttemptContext } from '../generated/prisma/client.ts';
import {
  type CachedLearner,
  type CachedQuestion,
  forget,
  learnerInputs,
  learnerWritten,
  parametersOf,
  questionInputs,
} from './attempt-model-inputs.ts';

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
 * attemptNo races with other attempts of the same learner on the same question, and attempts of the
 * same learner that changed their model state in between, are retried: each round one of them wins,
 * so this many can arrive at once (a real learner sends one at a time).
 */
const maxInsertTries = 25;

/**
 * Records an attempt, graded on the server, with the live model's prediction made before grading
 * and the learner's new model state (docs/learner-model-api.md). On the happy path one statement:
 * the learner's state and the question come from memory (src/services/attempt-model-inputs.ts; read
 * with one statement each when not there), the model predicts and updates in JS, and the statement
 * locks the learner's state row if its version is still the one the state was read at, locks the
 * session row (KEY SHARE: what the foreign key takes anyway; endSession locks FOR UPDATE) against a
 * concurrent endSession, numbers and inserts the attempt with its prediction if the question's answer
 * key is still the one graded against, and writes the new learner and skill state, all or nothing.
 * A state another attempt (or NIGHTLY, or another instance) changed in between inserts nothing: the
 * loop reads again, so no update is lost. The question's parameters are only read: NIGHTLY refits
 * them. Idempotent on (user, clientAttemptId): a retry returns the first attempt and changes nothing.
 */
export async function recordAttempt(
  db: Database,
  viewer: Viewer,
  input: AttemptInput,
  model: LearnerModelParameters,
): Promise<Attempt> {
  checkAttemptInput(input);
  const userId = actingUserId(viewer);
  const optionsJson = input.options === null || input.options === undefined ? null : JSON.stringify(input.options);
  const userAnswerKey = answerKey(input.userAnswer);
  for (let tries = 0; tries < maxInsertTries; tries++) {
    const question = await questionInputs(db, input.questionId);
    const state = await learnerInputs(db, userId);
    if (!state) {
      // No such user stored: say what else is wrong first (someone else's session).
      await explainRefusal(db, userId, input);
      throw userGone();
    }
    const correct = question.answerKey === userAnswerKey;
    const step = modelStep(model, state, question, input, correct);
    const [inserted] = await db.run<StoredColumns>('ll_record_attempt', recordSql, [
      userId,
      input.questionId,
      input.sessionId,
      step.at.toISOString(),
      state.version,
      question.answerKey,
      question.subcategory,
      input.context,
      optionsJson,
      input.userAnswer,
      correct,
      input.timeSec,
      input.hintUsed,
      input.answeredAt?.toISOString() ?? null,
      input.clientAttemptId,
      step.predicted,
      step.masteryAfter,
      step.learner.theta,
      step.learner.attempts,
      step.skill.theta,
      step.skill.attempts,
      step.skill.creditSum,
      step.skillLastAttemptAt?.toISOString() ?? null,
      step.learner.recent,
      step.skill.recent,
      step.learner.recentWeightOffset,
    ]);
    if (inserted) {
      learnerWritten(db, userId, state, {
        learner: step.learner,
        subcategory: question.subcategory,
        skill: step.skill,
        questionId: input.questionId,
        answer: step.answer,
      });
      return {
        ...inserted,
        context: input.context,
        userAnswer: input.userAnswer,
        correct,
        timeSec: input.timeSec,
        hintUsed: input.hintUsed,
        answeredAt: input.answeredAt,
        clientAttemptId: input.clientAttemptId,
        predictedCorrect: step.predicted,
        masteryAfter: step.masteryAfter,
      };
    }
    forget(db, userId, input.questionId);
    const existing = await db.prisma.attempt.findUnique({
      where: { userId_clientAttemptId: { userId, clientAttemptId: input.clientAttemptId } },
    });
    if (existing) {
      if (!sameAttempt(existing, input)) {
        throw conflict(
          `clientAttemptId ${input.clientAttemptId} was already used for a different answer: ` +
            'give each attempt its own clientAttemptId.',
        );
      }
      return existing;
    }
    await explainRefusal(db, userId, input);
    // Nothing refused it: the learner's state or the question changed since they were read, or another
    // attempt took this attemptNo; go again.
  }
  throw conflict('Too many simultaneous attempts by this learner: retry the request.');
}

/**
 * recordAttempt's one statement (see recordAttempt), with its parameters in this order: $1 user, $2
 * question, $3 session, $4 the model's clock, $5 the state version read, $6 the answer key and $7 the
 * subcategory graded against, $8 context … $15 clientAttemptId (the attempt's own fields), $16
 * prediction, $17 masteryAfter (also the skill state's plan mastery), $18–19 the learner's new ability,
 * $20–23 the new skill state, $24–25 the learner's and the skill's new recent success rates, $26 the
 * learner's new offset to the recency weight. Sent
 * through the driver (Database.run), not Prisma: it is the hottest statement of the API.
 */
const recordSql = `
  WITH input AS (SELECT $1::uuid AS user_id, $2::uuid AS question_id, $3::uuid AS session_id, $4::timestamptz AS at),
       state AS (SELECT l.user_id FROM learner_states l, input
                 WHERE l.user_id = input.user_id AND l.version = $5::int FOR UPDATE OF l),
       q AS (SELECT q.id, q.subcategory, q.difficulty FROM questions q, input
             WHERE q.id = input.question_id AND q.answer_key = $6::text AND q.subcategory = $7::text),
       s AS (SELECT s.id FROM sessions s, input
             WHERE s.id = input.session_id AND s.user_id = input.user_id AND s.ended_at IS NULL
             FOR KEY SHARE OF s),
       inserted AS (
         INSERT INTO attempts AS a (user_id, question_id, session_id, attempt_no, context, options, user_answer,
                                    correct, time_sec, hint_used, answered_at, recorded_at, client_attempt_id,
                                    mastery_at_attempt, predicted_correct, mastery_after, difficulty_at_attempt)
         SELECT input.user_id, q.id, input.session_id,
                COALESCE((SELECT max(p.attempt_no) FROM attempts p
                          WHERE p.user_id = input.user_id AND p.question_id = q.id), 0) + 1,
                $8::"AttemptContext", $9::jsonb, $10::text, $11::boolean, $12::float8, $13::boolean,
                $14::timestamptz, clock_timestamp(), $15::text,
                (SELECT m.score FROM masteries m WHERE m.user_id = input.user_id AND m.subcategory = q.subcategory),
                $16::float8, $17::float8, q.difficulty
         FROM q, input
         WHERE (input.session_id IS NULL OR EXISTS (SELECT 1 FROM s)) AND EXISTS (SELECT 1 FROM state)
         ON CONFLICT DO NOTHING
         RETURNING a.id, a.user_id AS "userId", a.question_id AS "questionId", a.session_id AS "sessionId",
                   a.attempt_no AS "attemptNo", a.options, a.recorded_at AS "recordedAt",
                   a.mastery_at_attempt AS "masteryAtAttempt", a.difficulty_at_attempt AS "difficultyAtAttempt"),
       learner AS (
         UPDATE learner_states l
         SET theta = $18::float8, attempts = $19::int, recent = $24::float8, recent_weight_offset = $26::float8,
             version = l.version + 1,
             state_at = GREATEST(l.state_at, input.at),
             -- Older than the state: applied out of answeredAt order, so NIGHTLY replays the learner.
             replay_from = CASE WHEN input.at < l.state_at THEN LEAST(l.replay_from, input.at)
                                ELSE l.replay_from END,
             updated_at = now()
         FROM input WHERE l.user_id = input.user_id AND EXISTS (SELECT 1 FROM inserted)),
       skill AS (
         INSERT INTO skill_states AS k (user_id, subcategory, theta, attempts, credit_sum, recent, last_attempt_at,
                                        updated_at, plan_mastery)
         SELECT input.user_id, q.subcategory, $20::float8, $21::int, $22::float8, $25::float8, $23::timestamptz, now(),
                $17::float8
         FROM input, q WHERE EXISTS (SELECT 1 FROM inserted)
         ON CONFLICT (user_id, subcategory) DO UPDATE
         SET theta = EXCLUDED.theta, attempts = EXCLUDED.attempts, credit_sum = EXCLUDED.credit_sum,
             recent = EXCLUDED.recent, last_attempt_at = EXCLUDED.last_attempt_at, updated_at = EXCLUDED.updated_at,
             plan_mastery = EXCLUDED.plan_mastery)
  SELECT * FROM inserted`;

/**
 * What the statement returns of the row: what the database made (id, attemptNo, recordedAt, the
 * nightly score) and what it normalised (the ids, the options as jsonb stores them). The rest of the
 * attempt is the input as sent, so the driver parses no more columns than it must.
 */
type StoredColumns = Pick<
  Attempt,
  | 'id'
  | 'userId'
  | 'questionId'
  | 'sessionId'
  | 'attemptNo'
  | 'options'
  | 'recordedAt'
  | 'masteryAtAttempt'
  | 'difficultyAtAttempt'
>;

/** The model's prediction (from the state before the attempt: the answer plays no part) and the state after. */
function modelStep(
  model: LearnerModelParameters,
  state: CachedLearner,
  question: CachedQuestion,
  input: AttemptInput,
  correct: boolean,
) {
  // The model's clock: when the learner answered, else now (recordedAt is the database's clock at insert).
  const at = input.answeredAt ?? new Date();
  const credit = attemptCredit({ correct, hintUsed: input.hintUsed });
  const update = updateAfterAttempt(
    model,
    state.learner,
    state.skills.get(question.subcategory) ?? null,
    parametersOf(model, question),
    question.prior,
    credit,
    at.getTime(),
    state.answers.get(input.questionId) ?? null,
  );
  const previous = state.answers.get(input.questionId);
  return {
    ...update,
    at,
    credit,
    answer: answerAfter(previous ?? null, credit, at.getTime()),
    masteryAfter: estimate(model, update.learner, update.skill, question.prior, at.getTime()),
    skillLastAttemptAt: update.skill.lastAttemptAt === null ? null : new Date(update.skill.lastAttemptAt),
  };
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
    options: unknown;
  },
  input: AttemptInput,
): boolean {
  return (
    canonicalJson(stored.options ?? null) === canonicalJson(input.options ?? null) &&
    stored.questionId === input.questionId &&
    stored.sessionId === input.sessionId &&
    stored.userAnswer === input.userAnswer &&
    stored.timeSec === input.timeSec &&
    stored.hintUsed === input.hintUsed &&
    stored.context === input.context &&
    (input.answeredAt === null || stored.answeredAt?.getTime() === input.answeredAt.getTime())
  );
}

/** JSON with object keys sorted, as jsonb keeps them: equal values give equal text. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Throws the reason an insert was refused, if there is one. */
async function explainRefusal(db: Database, userId: string, input: AttemptInput): Promise<void> {
  const question = await db.prisma.question.findUnique({ where: { id: input.questionId }, select: { id: true } });
  if (!question) throw notFound('This question');
  if (!input.sessionId) return;
  const session = await db.prisma.session.findUnique({
    where: { id: input.sessionId },
    select: { userId: true, endedAt: true },
  });
  if (!session) throw notFound('This session');
  if (session.userId !== userId)
    throw forbidden('This session belongs to another learner: record attempts into your own sessions.');
  if (session.endedAt) {
    throw conflict(
      `This session ended at ${session.endedAt.toISOString()}: ` +
        'record the attempt with context PRACTICE and no sessionId so it is kept.',
    );
  }
}
