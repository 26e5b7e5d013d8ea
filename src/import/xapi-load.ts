// Writing a chunk of xAPI statements (xapi.ts) in one transaction: their learners and questions found
// or created, the sessions of their registrations, then the attempts, copied into a staging table and
// inserted by the statement of importAttempts (insertStagedAttemptRows), with clientAttemptId
// "<source>:<statement id>" (a statement imported before is skipped as present).
import { answerKey } from '../domain/grading.ts';
import {
  type AttemptRow,
  attemptInputColumns,
  insertStagedAttemptRows,
  type SqlRunner,
} from '../services/attempt-batches.ts';
import type { ImportConnection } from './connection.ts';
import { type ChunkResult, dedupe, sourceKey } from './load.ts';
import { type StageTable, stageRows } from './stage.ts';
import type { XapiAttempt, XapiRecord } from './xapi.ts';

export async function loadStatements(
  conn: ImportConnection,
  source: string,
  records: XapiRecord[],
): Promise<ChunkResult> {
  const refused: ChunkResult['refused'] = [];
  const attempts = records
    .map((record, index) => ({ record, index }))
    .filter((r): r is { record: XapiAttempt; index: number } => r.record.kind === 'attempt');
  const skipped = records.length - attempts.length;
  if (attempts.length === 0) return { imported: 0, present: 0, skipped, refused };
  return conn.transaction(async () => {
    const users = await resolveUsers(
      conn.run,
      source,
      attempts.map((a) => a.record),
    );
    const questions = await resolveQuestions(
      conn.run,
      attempts.map((a) => a.record),
    );
    const batch: { index: number; row: AttemptRow; registration: string | null; attempt: XapiAttempt }[] = [];
    const seen = new Set<string>();
    for (const { record, index } of attempts) {
      const userId = users.get(actorKey(record));
      const questionId = questions.get(record.question.externalId);
      if (!userId)
        refused.push({
          index,
          reason:
            `actor ${actorKey(record)} is no known user ` +
            "(give an mbox, or an account named by a user's externalId)",
        });
      else if (!questionId)
        refused.push({
          index,
          reason: `object ${record.question.externalId} is no question here, and its definition does not describe one`,
        });
      else if (seen.has(`${userId}/${record.statementId}`))
        refused.push({ index, reason: `statement ${record.statementId} appears twice` });
      else {
        seen.add(`${userId}/${record.statementId}`);
        batch.push({
          index,
          registration: record.registration,
          attempt: record,
          row: {
            userId,
            questionId,
            sessionId: null,
            linkSession: false,
            attemptNo: null,
            context: record.context,
            options: null,
            userAnswer: record.userAnswer,
            correct: record.correct,
            timeSec: record.timeSec,
            hintUsed: record.hintUsed,
            answeredAt: record.answeredAt,
            clientAttemptId: sourceKey(source, record.statementId),
          },
        });
      }
    }
    const sessions = await registrationSessions(conn.run, batch);
    for (const b of batch) b.row.sessionId = b.registration ? sessions.get(`${b.row.userId}/${b.registration}`)! : null;
    const { inserted, present, taken, refusedByDatabase } = await insertAndSort(
      conn,
      batch.map((b) => b.row),
    );
    for (const i of taken)
      refused.push({ index: batch[i]!.index, reason: 'another attempt took its number: import it again' });
    for (const r of refusedByDatabase) refused.push({ index: batch[r.index]!.index, reason: r.reason });
    return { imported: inserted, present, skipped, refused };
  });
}

const stage = {
  name: 'stage_xapi_attempts',
  columns: attemptInputColumns.filter(([name]) => name !== 'ord'),
} satisfies StageTable;

/**
 * Copies a batch into the staging table and inserts it; tells the rows not inserted apart (by their
 * index in `rows`): stored before (present), numbered like another attempt (taken), or refused by the
 * database while copying.
 */
async function insertAndSort(conn: ImportConnection, rows: AttemptRow[]) {
  const refusedByDatabase = await stageRows(
    conn,
    stage,
    rows.map((r, index) => ({
      index,
      values: [
        r.userId,
        r.questionId,
        r.sessionId,
        r.linkSession,
        r.attemptNo,
        r.context,
        r.options === null || r.options === undefined ? null : JSON.stringify(r.options),
        r.userAnswer,
        answerKey(r.userAnswer),
        r.correct,
        r.timeSec,
        r.hintUsed,
        r.answeredAt,
        r.clientAttemptId,
      ],
    })),
  );
  const inserted = await insertStagedAttemptRows(conn.run, stage.name);
  const missing = rows.length - refusedByDatabase.length - inserted.length;
  if (missing === 0) return { inserted: inserted.length, present: 0, taken: [] as number[], refusedByDatabase };
  const indexOf = new Map(rows.map((r, i) => [`${r.userId}/${r.clientAttemptId}`, i]));
  const insertedIndexes = new Set(inserted.map((a) => indexOf.get(`${a.userId}/${a.clientAttemptId}`)!));
  const refusedIndexes = new Set(refusedByDatabase.map((r) => r.index));
  // Stored, one probe per staged row (LATERAL … LIMIT 1, never a hash of attempts): present unless just inserted.
  const stored = await conn.run<{ ord: number }>(
    `SELECT st.ord FROM ${stage.name} st
     CROSS JOIN LATERAL (SELECT FROM attempts e
                         WHERE e.user_id = st.user_id AND e.client_attempt_id = st.client_attempt_id LIMIT 1) e`,
    [],
  );
  const storedIndexes = new Set(stored.map((s) => s.ord));
  const left = rows.map((_, i) => i).filter((i) => !insertedIndexes.has(i) && !refusedIndexes.has(i));
  return {
    inserted: inserted.length,
    present: left.filter((i) => storedIndexes.has(i)).length,
    taken: left.filter((i) => !storedIndexes.has(i)),
    refusedByDatabase,
  };
}

const actorKey = (a: XapiAttempt) => a.actor.email ?? a.actor.account!;

/** Users by email (created when missing) or by an account an earlier import mapped. */
async function resolveUsers(run: SqlRunner, source: string, attempts: XapiAttempt[]): Promise<Map<string, string>> {
  const actors = dedupe(
    attempts.filter((a) => a.actor.email).map((a) => a.actor),
    (a) => a.email!,
  );
  const ids = new Map<string, string>();
  if (actors.length > 0) {
    const users = await run<{ id: string; email: string }>(
      `WITH input AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS t(n, e, z)),
            created AS (INSERT INTO users (name, email, timezone) SELECT n, e, z FROM input
                        ON CONFLICT (email) DO NOTHING RETURNING id, email)
       SELECT id::text, email FROM created
       UNION ALL SELECT u.id::text, u.email FROM users u JOIN input i ON i.e = u.email`,
      [
        actors.map((a) => a.name ?? a.email!.split('@')[0]!),
        actors.map((a) => a.email!),
        actors.map((a) => a.timezone ?? 'UTC'),
      ],
    );
    for (const u of users) ids.set(u.email, u.id);
  }
  const accounts = dedupe(
    attempts.filter((a) => !a.actor.email).map((a) => a.actor),
    (a) => a.account!,
  );
  if (accounts.length > 0) {
    const matched = await run<{ account: string; id: string }>(
      `SELECT t.account, COALESCE(u.id, k.target_id)::text AS id
       FROM unnest($2::text[], $3::text[]) AS t(account, name)
       LEFT JOIN users u ON u.external_id = t.name
       LEFT JOIN import_keys k ON k.source = $1 AND k.entity = 'user' AND k.source_id = t.account
       WHERE u.id IS NOT NULL OR k.target_id IS NOT NULL`,
      [source, accounts.map((a) => a.account!), accounts.map((a) => a.accountName!)],
    );
    for (const m of matched) ids.set(m.account, m.id);
  }
  return ids;
}

/** Questions by externalId; a missing one whose definition describes it is created. */
async function resolveQuestions(run: SqlRunner, attempts: XapiAttempt[]): Promise<Map<string, string>> {
  const wanted = [...new Set(attempts.map((a) => a.question.externalId))];
  const defined = dedupe(
    attempts.filter((a) => a.question.definition),
    (a) => a.question.externalId,
  ).map((a) => ({ externalId: a.question.externalId, ...a.question.definition! }));
  const found = await run<{ id: string; external_id: string }>(
    `WITH input AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
                    AS t(x, c, s, b, a, k)),
          created AS (INSERT INTO questions (external_id, category, subcategory, difficulty_band, answer, answer_key)
                      SELECT x, c, s, b::"DifficultyBand", a, k FROM input
                      ON CONFLICT (external_id) DO NOTHING RETURNING id, external_id)
     SELECT id::text, external_id FROM created
     UNION ALL SELECT q.id::text, q.external_id FROM questions q WHERE q.external_id = ANY($7::text[])`,
    [
      defined.map((d) => d.externalId),
      defined.map((d) => d.category),
      defined.map((d) => d.subcategory),
      defined.map((d) => d.difficultyBand),
      defined.map((d) => d.answer),
      defined.map((d) => answerKey(d.answer)),
      wanted,
    ],
  );
  return new Map(found.map((q) => [q.external_id, q.id]));
}

/**
 * The session of each (learner, registration): clientSessionId "xapi:<registration>", started at the
 * session start the statement names, else its first answer; ended as named, else left open (the
 * rebuild closes it at its last answer, as NIGHTLY closes an abandoned session).
 */
async function registrationSessions(
  run: SqlRunner,
  batch: { row: AttemptRow; registration: string | null; attempt: XapiAttempt }[],
): Promise<Map<string, string>> {
  const bounds = new Map<string, { userId: string; clientSessionId: string; startedAt: Date; endedAt: Date | null }>();
  for (const { row, registration, attempt } of batch) {
    if (!registration) continue;
    const key = `${row.userId}/${registration}`;
    const startedAt = attempt.session.startedAt ?? attempt.answeredAt;
    const known = bounds.get(key);
    if (!known)
      bounds.set(key, {
        userId: row.userId,
        clientSessionId: `xapi:${registration}`,
        startedAt,
        endedAt: attempt.session.endedAt,
      });
    else if (startedAt < known.startedAt) known.startedAt = startedAt;
  }
  if (bounds.size === 0) return new Map();
  const sessions = [...bounds.values()];
  const rows = await run<{ userId: string; clientSessionId: string; id: string }>(
    `INSERT INTO sessions AS s (user_id, client_session_id, started_at, ended_at, duration_sec)
    SELECT u, c, st, en,
           CASE WHEN en IS NOT NULL THEN GREATEST(0, round(extract(epoch FROM en - st)))::int END
    FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[]) AS t(u, c, st, en)
    ON CONFLICT (user_id, client_session_id) DO UPDATE SET started_at = LEAST(s.started_at, EXCLUDED.started_at),
      duration_sec = CASE WHEN s.ended_at IS NOT NULL
                          THEN GREATEST(0, round(extract(epoch FROM
                                 s.ended_at - LEAST(s.started_at, EXCLUDED.started_at))))::int END
    RETURNING s.user_id::text AS "userId", s.client_session_id AS "clientSessionId", s.id::text AS id`,
    [
      sessions.map((s) => s.userId),
      sessions.map((s) => s.clientSessionId),
      sessions.map((s) => s.startedAt),
      sessions.map((s) => s.endedAt),
    ],
  );
  return new Map(rows.map((r) => [`${r.userId}/${r.clientSessionId.slice('xapi:'.length)}`, r.id]));
}
