// Many attempts of many learners in one statement: the importAttempts mutation and `npm run import`
// both land attempts here. Graded as recordAttempt grades (answerKey compared with the question's
// answer_key in SQL) unless the source says whether the answer was correct; numbered per (learner,
// question) after the attempts already stored, in answeredAt order, unless the source numbers them.
// Attempts that arrive for the past are recorded at the instant they were answered (recordedAt =
// answeredAt): every derived state is computed in recordedAt order, so history keeps its order and
// `npm run rebuild` replays it as it happened.

import type { Transaction } from '../db/types.ts';
import { answerKey } from '../domain/grading.ts';
import type { AttemptContext } from '../generated/prisma/client.ts';

export interface AttemptRow {
  userId: string;
  questionId: string;
  /** The session, or null; with linkSession, found by time (see below). */
  sessionId: string | null;
  /** A SESSION attempt without sessionId goes to the learner's session whose [startedAt, endedAt] holds answeredAt. */
  linkSession: boolean;
  /** The source's numbering, or null to number after what is stored. */
  attemptNo: number | null;
  context: AttemptContext;
  options: unknown;
  userAnswer: string;
  /** The source's grading, or null to grade against the question's answer. */
  correct: boolean | null;
  timeSec: number;
  hintUsed: boolean;
  answeredAt: Date;
  /** Idempotency key, unique per learner. */
  clientAttemptId: string;
}

export interface InsertedAttempt {
  /** Index of the row in the batch. */
  index: number;
  sessionId: string | null;
}

/** A statement with $1…$n parameters, on a Prisma transaction or a raw connection (the import's). */
export type SqlRunner = <T>(sql: string, params: unknown[]) => Promise<T[]>;

export const prismaRunner =
  (tx: Transaction): SqlRunner =>
  <T>(sql: string, params: unknown[]) =>
    tx.$queryRawUnsafe<T[]>(sql, ...params);

/**
 * The rows' columns as the statement reads them, [name, type]: from parameters (one array each) or from
 * a table the import stages them in by COPY. `options` is JSON text, `user_key` the answer's answerKey.
 */
export const attemptInputColumns = [
  ['ord', 'int'],
  ['user_id', 'uuid'],
  ['question_id', 'uuid'],
  ['session_id', 'uuid'],
  ['link_session', 'bool'],
  ['attempt_no', 'int'],
  ['context', 'text'],
  ['options', 'text'],
  ['user_answer', 'text'],
  ['user_key', 'text'],
  ['correct', 'bool'],
  ['time_sec', 'float8'],
  ['hint_used', 'bool'],
  ['answered_at', 'timestamptz'],
  ['client_attempt_id', 'text'],
] as const;

/** The insert of the rows `input` selects (the columns of attemptInputColumns, in order). */
const insertFrom = (input: string) => `
    WITH input AS (${input}),
    fresh AS (
      SELECT i.*, q.answer_key,
             row_number() OVER (PARTITION BY i.user_id, i.question_id ORDER BY i.answered_at, i.ord) AS nth
      FROM input i
      JOIN questions q ON q.id = i.question_id
      WHERE NOT EXISTS (SELECT 1 FROM attempts e
                        WHERE e.user_id = i.user_id AND e.client_attempt_id = i.client_attempt_id)
    )
    INSERT INTO attempts AS a (user_id, question_id, session_id, attempt_no, context, options, user_answer, correct,
                               time_sec, hint_used, answered_at, recorded_at, client_attempt_id)
    SELECT f.user_id, f.question_id,
           COALESCE(f.session_id,
                    CASE WHEN f.link_session THEN
                      (SELECT s.id FROM sessions s
                       WHERE s.user_id = f.user_id AND s.started_at <= f.answered_at
                         AND (s.ended_at IS NULL OR s.ended_at >= f.answered_at)
                       ORDER BY s.started_at DESC LIMIT 1)
                    END),
           COALESCE(f.attempt_no,
                    COALESCE((SELECT max(p.attempt_no) FROM attempts p
                              WHERE p.user_id = f.user_id AND p.question_id = f.question_id), 0) + f.nth::int),
           f.context::"AttemptContext", f.options::jsonb, f.user_answer, COALESCE(f.correct, f.answer_key = f.user_key),
           f.time_sec, f.hint_used, f.answered_at, f.answered_at, f.client_attempt_id
    FROM fresh f
    ON CONFLICT DO NOTHING
    RETURNING a.user_id::text AS "userId", a.client_attempt_id AS "clientAttemptId", a.session_id::text AS "sessionId"`;

const insertSql = insertFrom(
  `SELECT * FROM unnest(${attemptInputColumns.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')})
   AS t(${attemptInputColumns.map(([name]) => name).join(', ')})`,
);

/** insertAttemptRows for rows staged in `table` (attemptInputColumns); returns the inserted rows' keys. */
export const insertStagedAttemptRows = (run: SqlRunner, table: string) =>
  run<{ userId: string; clientAttemptId: string; sessionId: string | null }>(
    insertFrom(`SELECT ${attemptInputColumns.map(([name]) => name).join(', ')} FROM ${table}`),
    [],
  );

/**
 * Inserts the rows that are not stored yet (by learner and clientAttemptId) in one statement and
 * returns those it inserted. A row is left out when its clientAttemptId is stored already, its
 * question does not exist, or its attempt number is taken: the caller tells which.
 */
export async function insertAttemptRows(run: SqlRunner, rows: readonly AttemptRow[]): Promise<InsertedAttempt[]> {
  if (rows.length === 0) return [];
  const column = <T>(pick: (row: AttemptRow) => T) => rows.map(pick);
  const inserted = await run<{ userId: string; clientAttemptId: string; sessionId: string | null }>(insertSql, [
    rows.map((_, i) => i),
    column((r) => r.userId),
    column((r) => r.questionId),
    column((r) => r.sessionId),
    column((r) => r.linkSession),
    column((r) => r.attemptNo),
    column((r) => r.context),
    column((r) => (r.options === null || r.options === undefined ? null : JSON.stringify(r.options))),
    column((r) => r.userAnswer),
    column((r) => answerKey(r.userAnswer)),
    column((r) => r.correct),
    column((r) => r.timeSec),
    column((r) => r.hintUsed),
    column((r) => r.answeredAt),
    column((r) => r.clientAttemptId),
  ]);
  const indexOf = new Map(rows.map((r, i) => [`${r.userId}/${r.clientAttemptId}`, i]));
  return inserted.map((a) => ({ index: indexOf.get(`${a.userId}/${a.clientAttemptId}`)!, sessionId: a.sessionId }));
}
