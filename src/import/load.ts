// Writing one chunk of the existing system's rows: one transaction per chunk, the rows copied into a
// staging table (stage.ts) and written from it by one set-based statement (questions, few, by unnest
// of arrays). Every row is found again by its source id (import_keys for
// users and questions, clientSessionId / clientAttemptId "<source>:<id>" for sessions and attempts,
// the key of mastery_history), so a chunk written before is skipped as present and an interrupted
// import, started again, goes on where it stopped.
import { answerKey } from '../domain/grading.ts';
import type { SqlRunner } from '../services/attempt-batches.ts';
import type { ImportConnection } from './connection.ts';
import type {
  AttemptRecord,
  MasteryHistoryRecord,
  QuestionRecord,
  SessionRecord,
  SourceRecord,
  UserRecord,
} from './records.ts';
import { copyTextGivingWay, nextTurn, type StagedRow, type StageTable, stageRows } from './stage.ts';

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
    rows.map((r, index) => ({ r, index })).filter(({ r }) => !keys.users.has(r.sourceId)),
    ({ r }) => r.sourceId,
  );
  if (fresh.length === 0) return { imported: 0, present: rows.length, refused: [] };
  const { refused, pairs } = await conn.transaction(async () => {
    const refused = await stageRows(
      conn,
      stages.users,
      fresh.map(({ r, index }) => ({ index, values: [r.sourceId, r.name, r.email, r.role, r.timezone ?? 'UTC'] })),
    );
    await conn.run(
      `INSERT INTO users (name, email, role, timezone) SELECT name, email, role, timezone FROM stage_users ORDER BY ord
       ON CONFLICT (email) DO NOTHING`,
      [],
    );
    // Separate statements: each sees the users the one before created, through the email index.
    await conn.run(
      `INSERT INTO import_keys (source, entity, source_id, target_id)
       SELECT $1, 'user', st.id, u.id FROM stage_users st JOIN users u ON u.email = st.email ON CONFLICT DO NOTHING`,
      [source],
    );
    const pairs = await conn.run<{ source_id: string; target_id: string }>(
      'SELECT st.id AS source_id, u.id::text AS target_id FROM stage_users st JOIN users u ON u.email = st.email',
      [],
    );
    return { refused, pairs };
  });
  for (const p of pairs) keys.users.set(p.source_id, p.target_id);
  return { imported: pairs.length, present: rows.length - fresh.length, refused };
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

/**
 * The records of a chunk stored before, by their source id, in one statement (an index probe per
 * record, LATERAL … LIMIT 1 so that the planner never hashes the table): a second import, or one
 * resumed, maps and writes none of them. Records whose learner is
 * not imported, or without an id, cannot be present; they go through the mapping, which refuses them.
 */
async function presentBySourceKey(
  conn: ImportConnection,
  sql: string,
  source: string,
  records: readonly SourceRecord[],
  keys: KeyMaps,
): Promise<Set<number>> {
  const indexes: number[] = [];
  const userIds: string[] = [];
  const sourceKeys: string[] = [];
  for (const [index, record] of records.entries()) {
    const id = record.id?.trim();
    const userId = keys.users.get(record.user_id?.trim() ?? '');
    if (!id || !userId) continue;
    indexes.push(index);
    userIds.push(userId);
    sourceKeys.push(sourceKey(source, id));
  }
  if (indexes.length === 0) return new Set();
  const rows = await conn.run<{ i: number }>(sql, [indexes, userIds, sourceKeys]);
  return new Set(rows.map((r) => r.i));
}

/** presentBySourceKey over `table`, whose source key is `keyColumn` (unique with user_id). */
const presentIn =
  (table: 'attempts' | 'sessions', keyColumn: string) =>
  (conn: ImportConnection, source: string, records: SourceRecord[], keys: KeyMaps) =>
    presentBySourceKey(
      conn,
      `SELECT t.i FROM unnest($1::int[], $2::uuid[], $3::text[]) AS t(i, u, k)
       CROSS JOIN LATERAL (SELECT FROM ${table} e WHERE e.user_id = t.u AND e.${keyColumn} = t.k LIMIT 1) e`,
      source,
      records,
      keys,
    );

export const presentAttempts = presentIn('attempts', 'client_attempt_id');
export const presentSessions = presentIn('sessions', 'client_session_id');

const notImportedUser = (id: string) => `user_id ${id} is not an imported user (is it in users.csv?)`;

/** Sessions: clientSessionId "<source>:<id>" of their learner. */
export async function loadSessions(
  conn: ImportConnection,
  source: string,
  rows: SessionRecord[],
  keys: KeyMaps,
): Promise<ChunkResult> {
  const refused: ChunkResult['refused'] = [];
  const staged: StagedRow[] = [];
  for (const [index, r] of rows.entries()) {
    const userId = keys.users.get(r.userSourceId);
    if (!userId) refused.push({ index, reason: notImportedUser(r.userSourceId) });
    else
      staged.push({
        index,
        values: [
          userId,
          r.startedAt,
          r.endedAt,
          r.durationSec,
          JSON.stringify(r.units),
          r.notes,
          sourceKey(source, r.sourceId),
        ],
      });
  }
  const { inserted, refusedByDatabase } = await conn.transaction(async () => {
    const refusedByDatabase = await stageRows(conn, stages.sessions, staged);
    const counted = await conn.run<{ n: number }>(
      `WITH created AS (
         INSERT INTO sessions (user_id, started_at, ended_at, duration_sec, units, notes, client_session_id)
         SELECT user_id, started_at, ended_at,
                COALESCE(duration_sec,
                         CASE WHEN ended_at IS NOT NULL
                              THEN GREATEST(0, round(extract(epoch FROM ended_at - started_at)))::int END),
                ARRAY(SELECT jsonb_array_elements_text(units)), notes, client_session_id
         FROM stage_sessions
         ON CONFLICT (user_id, client_session_id) DO NOTHING RETURNING 1)
       SELECT count(*)::int AS n FROM created`,
      [],
    );
    return { inserted: counted[0]?.n ?? 0, refusedByDatabase };
  });
  refused.push(...refusedByDatabase);
  return { imported: inserted, present: rows.length - refused.length - inserted, refused: byIndex(refused) };
}

/** A chunk's attempts as rows to stage and their COPY text, and the rows refused before the database. */
export interface PreparedAttempts {
  refused: ChunkResult['refused'];
  staged: StagedRow[];
  text: string;
}

/**
 * Prepares a chunk's attempts for loadAttempts, giving way to I/O as it goes: the import runs it
 * while the database writes the chunk before (done at the write, it kept the database waiting
 * about 30 ms a chunk of 10,000).
 */
export async function prepareAttempts(source: string, rows: AttemptRecord[], keys: KeyMaps): Promise<PreparedAttempts> {
  const refused: ChunkResult['refused'] = [];
  const staged: StagedRow[] = [];
  const seen = new Set<string>();
  for (const [index, r] of rows.entries()) {
    if (index % 500 === 499) await nextTurn();
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
      staged.push({
        index,
        values: [
          userId,
          questionId,
          r.attemptNo,
          r.context,
          r.options,
          r.userAnswer,
          r.correct,
          r.timeSec,
          r.hintUsed,
          r.createdAt,
          sourceKey(source, r.sourceId),
        ],
      });
    }
  }
  return { refused, staged, text: await copyTextGivingWay(staged) };
}

/**
 * Attempts: clientAttemptId "<source>:<id>", the source's attempt_no and grading kept, recorded at
 * created_at. A session attempt goes to its learner's session whose [started_at, ended_at] holds
 * created_at (of two, the later-started), found by one join over the chunk; with none it stays a
 * SESSION attempt without a session (counted in `unlinked`). `prepared`: prepareAttempts of `rows`.
 */
export async function loadAttempts(
  conn: ImportConnection,
  rows: AttemptRecord[],
  prepared: PreparedAttempts,
  mode: AttemptWriteMode = { optimistic: false },
): Promise<ChunkResult & { unlinked: number }> {
  const { staged, text } = prepared;
  const refused = [...prepared.refused];
  const written = await conn.transaction(async () => {
    const refusedByDatabase = await stageRows(conn, stages.attempts, staged, text);
    const all = mode.optimistic ? await insertAllStaged(conn) : null;
    const written = all ?? (await insertStagedAttempts(conn));
    // The next chunk is likely like this one: optimistic again when this one had nothing to leave out.
    mode.optimistic = written.imported === staged.length - refusedByDatabase.length;
    return { refusedByDatabase, ...written };
  });
  refused.push(...written.refusedByDatabase);
  for (const index of written.taken)
    refused.push({
      index,
      reason: `attempt_no ${rows[index]!.attemptNo} of this learner on this question is another attempt's`,
    });
  return {
    imported: written.imported,
    present: rows.length - refused.length - written.imported,
    refused: byIndex(refused),
    unlinked: written.unlinked,
  };
}

/**
 * How a chunk's attempts are written. `optimistic`: by one plain INSERT of every staged row, which the
 * unique indexes check as they take each entry; a row present or numbered like another attempt fails
 * it, and the chunk is written again by the checking statement. A first load, or an import of new
 * rows, writes all its rows: the checks of the checking statement (two index probes per row, each
 * reading the heap while the table's visibility map is not set) would cost a third of the statement.
 */
export interface AttemptWriteMode {
  optimistic: boolean;
}

/** The learner's session holding the attempt's time (of two, the later-started), for `f`, a staged row. */
const sessionOf = `CASE WHEN f.context = 'SESSION' THEN
  (SELECT s.id FROM sessions s
   WHERE s.user_id = f.user_id AND s.started_at <= f.created_at AND (s.ended_at IS NULL OR s.ended_at >= f.created_at)
   ORDER BY s.started_at DESC LIMIT 1) END`;

const insertColumns = `INSERT INTO attempts (user_id, question_id, session_id, attempt_no, context, options,
                                             user_answer, correct, time_sec, hint_used, answered_at, recorded_at,
                                             client_attempt_id)
  SELECT f.user_id, f.question_id, ${sessionOf}, f.attempt_no, f.context, f.options, f.user_answer, f.correct,
         f.time_sec, f.hint_used, f.created_at, f.created_at, f.client_attempt_id`;

interface AttemptsWritten {
  imported: number;
  unlinked: number;
  taken: number[];
}

/** Every staged row, inserted; a row the unique indexes refuse fails the statement (rolled back to its savepoint). */
async function insertAllStaged(conn: ImportConnection): Promise<AttemptsWritten | null> {
  await conn.run('SAVEPOINT insert_all', []);
  try {
    const [result] = await conn.run<{ imported: number; unlinked: number }>(
      `WITH inserted AS (${insertColumns} FROM stage_attempts f RETURNING context, session_id)
       SELECT count(*)::int AS imported,
              (count(*) FILTER (WHERE context = 'SESSION' AND session_id IS NULL))::int AS unlinked
       FROM inserted`,
      [],
    );
    await conn.run('RELEASE SAVEPOINT insert_all', []);
    return { ...result!, taken: [] };
  } catch (error) {
    if ((error as { code?: string }).code !== uniqueViolation) throw error;
    await conn.run('ROLLBACK TO SAVEPOINT insert_all', []);
    return null;
  }
}

/**
 * The staged attempts not stored before, in one statement: a row is present when its learner has its
 * clientAttemptId already, and refused as taken when its number is another attempt's (stored, or an
 * earlier row of the chunk). Both are anti-joins on the unique indexes, so the insert needs no ON
 * CONFLICT (whose per-row speculative insertion cost a third of the load), and a second import of the
 * same rows reads the indexes and writes nothing. A learner's live attempt committed between the
 * anti-join and the insert fails the statement: it runs again, and sees it.
 */
async function insertStagedAttempts(conn: ImportConnection): Promise<AttemptsWritten> {
  for (let tries = 1; ; tries++) {
    await conn.run('SAVEPOINT insert_attempts', []);
    try {
      const [result] = await conn.run<AttemptsWritten>(
        // Each check a probe of a unique index per row (LATERAL … LIMIT 1): as a plain EXISTS beside the
        // window the planner hashed the whole attempts table for every chunk, a cost that grew with it.
        `WITH fresh AS (
           SELECT st.*,
                  n.numbered IS NOT NULL
                  OR row_number() OVER (PARTITION BY st.user_id, st.question_id, st.attempt_no ORDER BY st.ord) > 1
                  AS taken
           FROM stage_attempts st
           LEFT JOIN LATERAL (SELECT true AS present FROM attempts e
                              WHERE e.user_id = st.user_id AND e.client_attempt_id = st.client_attempt_id
                              LIMIT 1) p ON true
           LEFT JOIN LATERAL (SELECT true AS numbered FROM attempts e
                              WHERE e.user_id = st.user_id AND e.question_id = st.question_id
                                AND e.attempt_no = st.attempt_no
                              LIMIT 1) n ON true
           WHERE p.present IS NULL
         ),
         inserted AS (${insertColumns} FROM fresh f WHERE NOT f.taken RETURNING context, session_id)
         SELECT (SELECT count(*)::int FROM inserted) AS imported,
                (SELECT count(*)::int FROM inserted WHERE context = 'SESSION' AND session_id IS NULL) AS unlinked,
                ARRAY(SELECT ord FROM fresh WHERE taken ORDER BY ord) AS taken`,
        [],
      );
      await conn.run('RELEASE SAVEPOINT insert_attempts', []);
      return result!;
    } catch (error) {
      if ((error as { code?: string }).code !== uniqueViolation || tries >= 3) throw error;
      await conn.run('ROLLBACK TO SAVEPOINT insert_attempts', []);
    }
  }
}

const uniqueViolation = '23505';

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
  // One point per learner, subcategory and day: ON CONFLICT DO UPDATE takes a row once per statement.
  const resolved = dedupe(
    rows.flatMap((r, index) => {
      const userId = keys.users.get(r.userSourceId);
      if (userId) return [{ r, userId, index }];
      refused.push({ index, reason: notImportedUser(r.userSourceId) });
      return [];
    }),
    ({ r, userId }) => `${userId}/${r.subcategory}/${r.date}`,
  );
  const { written, refusedByDatabase } = await conn.transaction(async () => {
    const refusedByDatabase = await stageRows(
      conn,
      stages.masteryHistory,
      resolved.map(({ r, userId, index }) => ({ index, values: [userId, r.subcategory, r.date, r.score] })),
    );
    const counted = await conn.run<{ n: number }>(
      `WITH written AS (
         INSERT INTO mastery_history (user_id, subcategory, date, score, imported)
         SELECT user_id, subcategory, recorded_date, mastery_score, true FROM stage_mastery_history
         ON CONFLICT (user_id, subcategory, date) DO UPDATE SET score = EXCLUDED.score, imported = true
         WHERE NOT mastery_history.imported RETURNING 1)
       SELECT count(*)::int AS n FROM written`,
      [],
    );
    return { written: counted[0]?.n ?? 0, refusedByDatabase };
  });
  refused.push(...refusedByDatabase);
  return { imported: written, present: rows.length - refused.length - written, refused: byIndex(refused) };
}

const stages = {
  users: {
    name: 'stage_users',
    columns: [
      ['id', 'text'],
      ['name', 'text'],
      ['email', 'text'],
      ['role', '"Role"'],
      ['timezone', 'text'],
    ],
  },
  sessions: {
    name: 'stage_sessions',
    columns: [
      ['user_id', 'uuid'],
      ['started_at', 'timestamptz'],
      ['ended_at', 'timestamptz'],
      ['duration_sec', 'int'],
      ['units', 'jsonb'],
      ['notes', 'text'],
      ['client_session_id', 'text'],
    ],
  },
  attempts: {
    name: 'stage_attempts',
    columns: [
      ['user_id', 'uuid'],
      ['question_id', 'uuid'],
      ['attempt_no', 'int'],
      ['context', '"AttemptContext"'],
      ['options', 'jsonb'],
      ['user_answer', 'text'],
      ['correct', 'bool'],
      ['time_sec', 'float8'],
      ['hint_used', 'bool'],
      ['created_at', 'timestamptz'],
      ['client_attempt_id', 'text'],
    ],
  },
  masteryHistory: {
    name: 'stage_mastery_history',
    columns: [
      ['user_id', 'uuid'],
      ['subcategory', 'text'],
      ['recorded_date', 'date'],
      ['mastery_score', 'float8'],
    ],
  },
} as const satisfies Record<string, StageTable>;

const byIndex = (refused: ChunkResult['refused']) => refused.sort((a, b) => a.index - b.index);

export function dedupe<T>(rows: T[], key: (row: T) => string): T[] {
  const seen = new Set<string>();
  return rows.filter((row) => {
    const k = key(row);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
