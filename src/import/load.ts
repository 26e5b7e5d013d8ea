// Writing one chunk of the existing system's rows: one transaction per chunk, a few multi-row
// statements each (unnest of arrays). Every row is found again by its source id (import_keys for
// users and questions, clientSessionId / clientAttemptId "<source>:<id>" for sessions and attempts,
// the key of mastery_history), so a chunk written before is skipped as present and an interrupted
// import, started again, goes on where it stopped.
import { answerKey } from '../domain/grading.ts';
import { type AttemptRow, insertAttemptRows, type SqlRunner } from '../services/attempt-batches.ts';
import type { ImportConnection } from './connection.ts';
import type { AttemptRecord, MasteryHistoryRecord, QuestionRecord, SessionRecord, UserRecord } from './records.ts';

export interface ChunkResult {
  imported: number;
  present: number;
  /** Rows read and left out on purpose (xAPI statements of other verbs). */
  skipped?: number;
  /** Rows refused by the database's rules, by their index in the chunk. */
  refused: { index: number; reason: string }[];
}

/** The ids an import gave the source's users and questions, looked up in memory while attempts load. */
export interface KeyMaps {
  users: Map<string, string>;
  questions: Map<string, string>;
}

export const sourceKey = (source: string, id: string) => `${source}:${id}`;

export async function loadKeyMaps(run: SqlRunner, source: string): Promise<KeyMaps> {
  const rows = await run<{ entity: string; source_id: string; target_id: string }>(
    'SELECT entity, source_id, target_id::text FROM import_keys WHERE source = $1',
    [source],
  );
  const maps: KeyMaps = { users: new Map(), questions: new Map() };
  for (const row of rows) (row.entity === 'user' ? maps.users : maps.questions).set(row.source_id, row.target_id);
  return maps;
}

/** Records import_keys for rows just matched or created; returns the target ids by source id. */
async function rememberKeys(
  run: SqlRunner,
  source: string,
  entity: 'user' | 'question',
  pairs: { sourceId: string; targetId: string }[],
): Promise<void> {
  await run(
    `INSERT INTO import_keys (source, entity, source_id, target_id)
     SELECT $1, $2, s, t FROM unnest($3::text[], $4::uuid[]) AS x(s, t) ON CONFLICT DO NOTHING`,
    [source, entity, pairs.map((p) => p.sourceId), pairs.map((p) => p.targetId)],
  );
}

/**
 * Users: matched by email to a user who is here already (created live, or by another source), else
 * created. Their ids go into import_keys and into `keys`.
 */
export async function loadUsers(
  conn: ImportConnection,
  source: string,
  rows: UserRecord[],
  keys: KeyMaps,
): Promise<ChunkResult> {
  const fresh = dedupe(
    rows.filter((r) => !keys.users.has(r.sourceId)),
    (r) => r.sourceId,
  );
  if (fresh.length > 0) {
    await conn.transaction(async () => {
      const users = await conn.run<{ id: string; email: string }>(
        `WITH input AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(n, e, r, z)),
              created AS (INSERT INTO users (name, email, role, timezone) SELECT n, e, r::"Role", z FROM input
                          ON CONFLICT (email) DO NOTHING RETURNING id, email)
         SELECT id::text, email FROM created
         UNION ALL SELECT u.id::text, u.email FROM users u JOIN input i ON i.e = u.email`,
        [
          fresh.map((r) => r.name),
          fresh.map((r) => r.email),
          fresh.map((r) => r.role),
          fresh.map((r) => r.timezone ?? 'UTC'),
        ],
      );
      const idByEmail = new Map(users.map((u) => [u.email, u.id]));
      const pairs = fresh.map((r) => ({ sourceId: r.sourceId, targetId: idByEmail.get(r.email)! }));
      await rememberKeys(conn.run, source, 'user', pairs);
      for (const p of pairs) keys.users.set(p.sourceId, p.targetId);
    });
  }
  return { imported: fresh.length, present: rows.length - fresh.length, refused: [] };
}

/** Questions: matched by externalId to the bank's question (kept as it is), else created. */
export async function loadQuestions(
  conn: ImportConnection,
  source: string,
  rows: QuestionRecord[],
  keys: KeyMaps,
): Promise<ChunkResult> {
  const fresh = dedupe(
    rows.filter((r) => !keys.questions.has(r.sourceId)),
    (r) => r.sourceId,
  );
  if (fresh.length > 0) {
    await conn.transaction(async () => {
      const questions = await conn.run<{ id: string; external_id: string }>(
        `WITH input AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                                             $7::text[]) AS t(x, c, s, b, a, k, o)),
              created AS (INSERT INTO questions (external_id, category, subcategory, difficulty_band, answer,
                                                 answer_key, options)
                          SELECT x, c, s, b::"DifficultyBand", a, k, o::jsonb FROM input
                          ON CONFLICT (external_id) DO NOTHING RETURNING id, external_id)
         SELECT id::text, external_id FROM created
         UNION ALL SELECT q.id::text, q.external_id FROM questions q JOIN input i ON i.x = q.external_id`,
        [
          fresh.map((r) => r.externalId),
          fresh.map((r) => r.category),
          fresh.map((r) => r.subcategory),
          fresh.map((r) => r.difficultyBand),
          fresh.map((r) => r.answer),
          fresh.map((r) => answerKey(r.answer)),
          fresh.map((r) => (r.options === null ? null : JSON.stringify(r.options))),
        ],
      );
      const idByExternal = new Map(questions.map((q) => [q.external_id, q.id]));
      const pairs = fresh.map((r) => ({ sourceId: r.sourceId, targetId: idByExternal.get(r.externalId)! }));
      await rememberKeys(conn.run, source, 'question', pairs);
      for (const p of pairs) keys.questions.set(p.sourceId, p.targetId);
    });
  }
  return { imported: fresh.length, present: rows.length - fresh.length, refused: [] };
}

const notImportedUser = (id: string) => `user_id ${id} is not an imported user (is it in users.csv?)`;

/** Sessions: clientSessionId "<source>:<id>" of their learner. */
export async function loadSessions(
  conn: ImportConnection,
  source: string,
  rows: SessionRecord[],
  keys: KeyMaps,
): Promise<ChunkResult> {
  const refused: ChunkResult['refused'] = [];
  const resolved = rows.flatMap((r, index) => {
    const userId = keys.users.get(r.userSourceId);
    if (userId) return [{ ...r, userId, clientSessionId: sourceKey(source, r.sourceId) }];
    refused.push({ index, reason: notImportedUser(r.userSourceId) });
    return [];
  });
  const inserted = await conn.run<{ n: number }>(
    `WITH created AS (
       INSERT INTO sessions (user_id, started_at, ended_at, duration_sec, units, notes, client_session_id)
       SELECT u, s, e, COALESCE(d, CASE WHEN e IS NOT NULL THEN GREATEST(0, round(extract(epoch FROM e - s)))::int END),
              ARRAY(SELECT json_array_elements_text(un::json)), n, c
       FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::int[], $5::text[], $6::text[], $7::text[])
            AS t(u, s, e, d, un, n, c)
       ON CONFLICT (user_id, client_session_id) DO NOTHING RETURNING 1)
     SELECT count(*)::int AS n FROM created`,
    [
      resolved.map((r) => r.userId),
      resolved.map((r) => r.startedAt),
      resolved.map((r) => r.endedAt),
      resolved.map((r) => r.durationSec),
      resolved.map((r) => JSON.stringify(r.units)),
      resolved.map((r) => r.notes),
      resolved.map((r) => r.clientSessionId),
    ],
  );
  const n = inserted[0]?.n ?? 0;
  return { imported: n, present: resolved.length - n, refused };
}

/**
 * Attempts: clientAttemptId "<source>:<id>", the source's attempt_no and grading kept, recorded at
 * created_at. A session attempt goes to its learner's session whose [started_at, ended_at] holds
 * created_at; with none it stays a SESSION attempt without a session (counted in `unlinked`).
 */
export async function loadAttempts(
  conn: ImportConnection,
  source: string,
  rows: AttemptRecord[],
  keys: KeyMaps,
): Promise<ChunkResult & { unlinked: number }> {
  const refused: ChunkResult['refused'] = [];
  const batch: { index: number; row: AttemptRow }[] = [];
  const seen = new Set<string>();
  for (const [index, r] of rows.entries()) {
    const userId = keys.users.get(r.userSourceId);
    const questionId = keys.questions.get(r.questionSourceId);
    if (!userId) refused.push({ index, reason: notImportedUser(r.userSourceId) });
    else if (!questionId)
      refused.push({
        index,
        reason: `question_id ${r.questionSourceId} is not an imported question (is it in questions.csv?)`,
      });
    else if (seen.has(r.sourceId)) refused.push({ index, reason: `id ${r.sourceId} appears twice` });
    else {
      seen.add(r.sourceId);
      batch.push({
        index,
        row: {
          userId,
          questionId,
          sessionId: null,
          linkSession: r.context === 'SESSION',
          attemptNo: r.attemptNo,
          context: r.context,
          options: r.options,
          userAnswer: r.userAnswer,
          correct: r.correct,
          timeSec: r.timeSec,
          hintUsed: r.hintUsed,
          answeredAt: r.createdAt,
          clientAttemptId: sourceKey(source, r.sourceId),
        },
      });
    }
  }
  const { inserted, present, taken } = await conn.transaction(() =>
    insertAndSort(
      conn.run,
      batch.map((b) => b.row),
    ),
  );
  for (const i of taken) {
    const { index, row } = batch[i]!;
    refused.push({
      index,
      reason: `attempt_no ${row.attemptNo} of this learner on this question is another attempt's`,
    });
  }
  const unlinked = inserted.filter((a) => batch[a.index]!.row.linkSession && a.sessionId === null).length;
  return { imported: inserted.length, present, refused: refused.sort((a, b) => a.index - b.index), unlinked };
}

/** Inserts a batch and tells the rows it did not insert apart: stored before, or numbered like another attempt. */
export async function insertAndSort(run: SqlRunner, rows: AttemptRow[]) {
  const inserted = await insertAttemptRows(run, rows);
  const insertedIndexes = new Set(inserted.map((a) => a.index));
  const missing = rows.map((row, index) => ({ row, index })).filter(({ index }) => !insertedIndexes.has(index));
  if (missing.length === 0) return { inserted, present: 0, taken: [] as number[] };
  const stored = await run<{ key: string }>(
    `SELECT a.user_id::text || '/' || a.client_attempt_id AS key FROM attempts a
     JOIN unnest($1::uuid[], $2::text[]) AS t(u, c) ON a.user_id = t.u AND a.client_attempt_id = t.c`,
    [missing.map((m) => m.row.userId), missing.map((m) => m.row.clientAttemptId)],
  );
  const storedKeys = new Set(stored.map((s) => s.key));
  const taken = missing.filter((m) => !storedKeys.has(`${m.row.userId}/${m.row.clientAttemptId}`)).map((m) => m.index);
  return { inserted, present: missing.length - taken.length, taken };
}

/**
 * MasteryHistory points of the existing system, marked imported: they stay the record of their day
 * (a rebuild fills only the days without one, and compares its own values with them).
 */
export async function loadMasteryHistory(
  conn: ImportConnection,
  rows: MasteryHistoryRecord[],
  keys: KeyMaps,
): Promise<ChunkResult> {
  const refused: ChunkResult['refused'] = [];
  const resolved = dedupe(
    rows.flatMap((r, index) => {
      const userId = keys.users.get(r.userSourceId);
      if (userId) return [{ ...r, userId }];
      refused.push({ index, reason: notImportedUser(r.userSourceId) });
      return [];
    }),
    (r) => `${r.userId}/${r.subcategory}/${r.date}`,
  );
  const written = await conn.run<{ n: number }>(
    `WITH written AS (
       INSERT INTO mastery_history (user_id, subcategory, date, score, imported)
       SELECT u, s, d, v, true FROM unnest($1::uuid[], $2::text[], $3::date[], $4::float8[]) AS t(u, s, d, v)
       ON CONFLICT (user_id, subcategory, date) DO UPDATE SET score = EXCLUDED.score, imported = true
       WHERE NOT mastery_history.imported RETURNING 1)
     SELECT count(*)::int AS n FROM written`,
    [
      resolved.map((r) => r.userId),
      resolved.map((r) => r.subcategory),
      resolved.map((r) => r.date),
      resolved.map((r) => r.score),
    ],
  );
  const n = written[0]?.n ?? 0;
  return { imported: n, present: rows.length - refused.length - n, refused };
}

export function dedupe<T>(rows: T[], key: (row: T) => string): T[] {
  const seen = new Set<string>();
  return rows.filter((row) => {
    const k = key(row);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
