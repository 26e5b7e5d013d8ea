// Fills an empty database with the demo cohort of ./simulation.ts: one transaction, a handful of
// multi-row statements, then each ended session's summary and analytics through the same code as
// endSession. A database that has any user is left alone.
import type { Database } from '../db/client.ts';
import { answerKey } from '../domain/grading.ts';
import { sessionsAttempts, storeSessionsAnalytics } from '../services/sessions.ts';
import { type DemoAttempt, type DemoQuestion, type DemoSession, type DemoUser, simulateDemo } from './simulation.ts';

export const DEMO_SEED = 20251111;

export interface DemoLoadResult {
  users: number;
  questions: number;
  sessions: number;
  attempts: number;
}

type Transaction = Parameters<Parameters<Database['prisma']['$transaction']>[0]>[0];

/** Loads the demo data into an empty database; null (and nothing written) when there are users. */
export async function loadDemoData(db: Database, now = new Date(), seed = DEMO_SEED): Promise<DemoLoadResult | null> {
  return db.prisma.$transaction(
    async (tx) => {
      // Instances starting together on one PostgreSQL: the first loads, the others wait here and
      // then find users (however long the load takes: not an API request, no statement timeout).
      // The lock also keeps createUser out until the check is settled.
      await tx.$executeRaw`SET LOCAL statement_timeout = 0`;
      await tx.$executeRaw`LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE`;
      if (await tx.user.findFirst({ select: { id: true } })) return null;
      const demo = simulateDemo({ seed, now });
      const userIds = await insertUsers(tx, demo.users);
      const questionIds = await insertQuestions(tx, demo.questions);
      const sessions = await insertSessions(tx, demo.sessions, userIds);
      const attempts = await insertAttempts(tx, demo.attempts, { userIds, questionIds, sessionIds: sessions.ids });
      await storeSessionsAnalytics(tx, await sessionsAttempts(tx, sessions.endedIds));
      return { users: userIds.size, questions: questionIds.size, sessions: sessions.ids.size, attempts };
    },
    { timeout: 120_000 },
  );
}

/** email → id */
async function insertUsers(tx: Transaction, users: readonly DemoUser[]): Promise<Map<string, string>> {
  const rows = await tx.user.createManyAndReturn({ data: [...users], select: { id: true, email: true } });
  return new Map(rows.map((row) => [row.email, row.id]));
}

/** externalId → id */
async function insertQuestions(tx: Transaction, questions: readonly DemoQuestion[]): Promise<Map<string, string>> {
  const rows = await tx.question.createManyAndReturn({
    data: questions.map((q) => ({ ...q, answerKey: answerKey(q.answer) })),
    select: { id: true, externalId: true },
  });
  return new Map(rows.map((row) => [row.externalId, row.id]));
}

/** Sessions are known by (user, clientSessionId), as the schema keys them. */
const sessionKey = (userId: string, clientSessionId: string) => `${userId} ${clientSessionId}`;

async function insertSessions(tx: Transaction, sessions: readonly DemoSession[], userIds: ReadonlyMap<string, string>) {
  const rows = await tx.session.createManyAndReturn({
    data: sessions.map(({ userEmail, ...session }) => ({
      ...session,
      userId: userIds.get(userEmail)!,
      // As endSession stores it: whole seconds from start to end.
      durationSec: session.endedAt
        ? Math.round((session.endedAt.getTime() - session.startedAt.getTime()) / 1000)
        : null,
    })),
    select: { id: true, userId: true, clientSessionId: true, endedAt: true },
  });
  return {
    ids: new Map(rows.map((row) => [sessionKey(row.userId, row.clientSessionId!), row.id])),
    endedIds: rows.filter((row) => row.endedAt !== null).map((row) => row.id),
  };
}

interface IdMaps {
  userIds: ReadonlyMap<string, string>;
  questionIds: ReadonlyMap<string, string>;
  sessionIds: ReadonlyMap<string, string>;
}

/**
 * All attempts in one statement. The server's rules apply as recordAttempt applies them: correct
 * compares answer keys, attemptNo counts the user's attempts on the question in recordedAt order.
 * masteryAtAttempt stays null: mastery is the nightly job's.
 */
async function insertAttempts(tx: Transaction, attempts: readonly DemoAttempt[], ids: IdMaps): Promise<number> {
  const column = <T>(value: (a: DemoAttempt) => T) => attempts.map(value);
  const userId = (a: DemoAttempt) => ids.userIds.get(a.userEmail)!;
  const sessionId = (a: DemoAttempt) =>
    a.clientSessionId === null ? null : ids.sessionIds.get(sessionKey(userId(a), a.clientSessionId))!;
  return tx.$executeRaw`
    INSERT INTO attempts (user_id, question_id, session_id, attempt_no, context, options, user_answer, correct,
                          time_sec, hint_used, answered_at, recorded_at, client_attempt_id)
    SELECT t.user_id, t.question_id, t.session_id,
           row_number() OVER (PARTITION BY t.user_id, t.question_id ORDER BY t.recorded_at, t.client_attempt_id),
           t.context::"AttemptContext", t.options::jsonb, t.user_answer, q.answer_key = t.user_answer_key,
           t.time_sec, t.hint_used, t.answered_at, t.recorded_at, t.client_attempt_id
    FROM unnest(
      ${column(userId)}::uuid[],
      ${column((a) => ids.questionIds.get(a.questionExternalId)!)}::uuid[],
      ${column(sessionId)}::uuid[],
      ${column((a) => a.context)}::text[],
      ${column((a) => JSON.stringify(a.options))}::text[],
      ${column((a) => a.userAnswer)}::text[],
      ${column((a) => answerKey(a.userAnswer))}::text[],
      ${column((a) => a.timeSec)}::float8[],
      ${column((a) => a.hintUsed)}::boolean[],
      ${column((a) => a.answeredAt.toISOString())}::timestamptz[],
      ${column((a) => a.recordedAt.toISOString())}::timestamptz[],
      ${column((a) => a.clientAttemptId)}::text[]
    ) AS t(user_id, question_id, session_id, context, options, user_answer, user_answer_key,
           time_sec, hint_used, answered_at, recorded_at, client_attempt_id)
    JOIN questions q ON q.id = t.question_id`;
}
