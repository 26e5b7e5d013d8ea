// Writing one chunk of the existing system's rows: one transaction per chunk, a few multi-row
// statements each. Every row is found again by its source id (import_keys for users and questions,
// clientSessionId / clientAttemptId "<source>:<id>" for sessions and attempts, the key of
// mastery_history), so a chunk written before is skipped as present and an interrupted import,
// started again, goes on where it stopped.
import type { Database } from '../db/client.ts';
import { answerKey } from '../domain/grading.ts';
import { type AttemptRow, insertAttemptRows } from '../services/attempt-batches.ts';
import type { Transaction } from '../services/transaction.ts';
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

export async function loadKeyMaps(db: Database, source: string): Promise<KeyMaps> {
  const rows = await db.prisma.importKey.findMany({
    where: { source },
    select: { entity: true, sourceId: true, targetId: true },
  });
  const maps: KeyMaps = { users: new Map(), questions: new Map() };
  for (const row of rows) (row.entity === 'user' ? maps.users : maps.questions).set(row.sourceId, row.targetId);
  return maps;
}

async function knownKeys(tx: Transaction, source: string, entity: string, ids: string[]): Promise<Map<string, string>> {
  const rows = await tx.importKey.findMany({ where: { source, entity, sourceId: { in: ids } } });
  return new Map(rows.map((r) => [r.sourceId, r.targetId]));
}

/**
 * Users: matched by email to a user who is here already (created live, or by another source), else
 * created. Their ids go into import_keys and into `keys`.
 */
export async function loadUsers(db: Database, source: string, rows: UserRecord[], keys: KeyMaps): Promise<ChunkResult> {
  return db.prisma.$transaction(async (tx) => {
    const known = await knownKeys(
      tx,
      source,
      'user',
      rows.map((r) => r.sourceId),
    );
    const fresh = dedupe(
      rows.filter((r) => !known.has(r.sourceId)),
      (r) => r.sourceId,
    );
    if (fresh.length > 0) {
      await tx.$executeRaw`
        INSERT INTO users (name, email, role, timezone)
        SELECT n, e, r::"Role", z
        FROM unnest(${fresh.map((r) => r.name)}::text[], ${fresh.map((r) => r.email)}::text[],
                    ${fresh.map((r) => r.role)}::text[], ${fresh.map((r) => r.timezone ?? 'UTC')}::text[]) AS t(n, e, r, z)
        ON CONFLICT (email) DO NOTHING`;
      const users = await tx.user.findMany({
        where: { email: { in: fresh.map((r) => r.email) } },
        select: { id: true, email: true },
      });
      const idByEmail = new Map(users.map((u) => [u.email, u.id]));
      await tx.importKey.createMany({
        data: fresh.map((r) => ({ source, entity: 'user', sourceId: r.sourceId, targetId: idByEmail.get(r.email)! })),
        skipDuplicates: true,
      });
      for (const r of fresh) keys.users.set(r.sourceId, idByEmail.get(r.email)!);
    }
    return { imported: fresh.length, present: rows.length - fresh.length, refused: [] };
  });
}

/** Questions: matched by externalId to the bank's question (kept as it is), else created. */
export async function loadQuestions(
  db: Database,
  source: string,
  rows: QuestionRecord[],
  keys: KeyMaps,
): Promise<ChunkResult> {
  return db.prisma.$transaction(async (tx) => {
    const known = await knownKeys(
      tx,
      source,
      'question',
      rows.map((r) => r.sourceId),
    );
    const fresh = dedupe(
      rows.filter((r) => !known.has(r.sourceId)),
      (r) => r.sourceId,
    );
    if (fresh.length > 0) {
      await tx.question.createMany({
        skipDuplicates: true,
        data: fresh.map((r) => ({
          externalId: r.externalId,
          category: r.category,
          subcategory: r.subcategory,
          difficultyBand: r.difficultyBand,
          answer: r.answer,
          answerKey: answerKey(r.answer),
          options: r.options ?? undefined,
        })),
      });
      const questions = await tx.question.findMany({
        where: { externalId: { in: fresh.map((r) => r.externalId) } },
        select: { id: true, externalId: true },
      });
      const idByExternal = new Map(questions.map((q) => [q.externalId, q.id]));
      await tx.importKey.createMany({
        data: fresh.map((r) => ({
          source,
          entity: 'question',
          sourceId: r.sourceId,
          targetId: idByExternal.get(r.externalId)!,
        })),
        skipDuplicates: true,
      });
      for (const r of fresh) keys.questions.set(r.sourceId, idByExternal.get(r.externalId)!);
    }
    return { imported: fresh.length, present: rows.length - fresh.length, refused: [] };
  });
}

/** Sessions: clientSessionId "<source>:<id>" of their learner. */
export async function loadSessions(
  db: Database,
  source: string,
  rows: SessionRecord[],
  keys: KeyMaps,
): Promise<ChunkResult> {
  const refused: ChunkResult['refused'] = [];
  const resolved = rows.flatMap((r, index) => {
    const userId = keys.users.get(r.userSourceId);
    if (!userId) {
      refused.push({ index, reason: `user_id ${r.userSourceId} is not an imported user (is it in users.csv?)` });
      return [];
    }
    return [{ ...r, userId, clientSessionId: sourceKey(source, r.sourceId) }];
  });
  const inserted = await db.prisma.$executeRaw`
    INSERT INTO sessions (user_id, started_at, ended_at, duration_sec, units, notes, client_session_id)
    SELECT u, s, e, COALESCE(d, CASE WHEN e IS NOT NULL THEN GREATEST(0, round(extract(epoch FROM e - s)))::int END),
           COALESCE((SELECT array_agg(x) FROM json_array_elements_text(un::json) x), '{}'), n, c
    FROM unnest(${resolved.map((r) => r.userId)}::uuid[], ${resolved.map((r) => r.startedAt)}::timestamptz[],
                ${resolved.map((r) => r.endedAt)}::timestamptz[], ${resolved.map((r) => r.durationSec)}::int[],
                ${resolved.map((r) => JSON.stringify(r.units))}::text[], ${resolved.map((r) => r.notes)}::text[],
                ${resolved.map((r) => r.clientSessionId)}::text[]) AS t(u, s, e, d, un, n, c)
    ON CONFLICT (user_id, client_session_id) DO NOTHING`;
  return { imported: inserted, present: resolved.length - inserted, refused };
}

/**
 * Attempts: clientAttemptId "<source>:<id>", the source's attempt_no and grading kept, recorded at
 * created_at. A session attempt goes to its learner's session whose [started_at, ended_at] holds
 * created_at; with none it stays a SESSION attempt without a session (counted in `unlinked`).
 */
export async function loadAttempts(
  db: Database,
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
    if (!userId)
      refused.push({ index, reason: `user_id ${r.userSourceId} is not an imported user (is it in users.csv?)` });
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
  const { inserted, present, taken } = await db.prisma.$transaction((tx) =>
    insertAndSort(
      tx,
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
async function insertAndSort(tx: Transaction, rows: AttemptRow[]) {
  const inserted = await insertAttemptRows(tx, rows);
  const insertedIndexes = new Set(inserted.map((a) => a.index));
  const missing = rows.map((row, index) => ({ row, index })).filter(({ index }) => !insertedIndexes.has(index));
  if (missing.length === 0) return { inserted, present: 0, taken: [] as number[] };
  const stored = await tx.$queryRaw<{ key: string }[]>`
    SELECT a.user_id::text || '/' || a.client_attempt_id AS key FROM attempts a
    JOIN unnest(${missing.map((m) => m.row.userId)}::uuid[], ${missing.map((m) => m.row.clientAttemptId)}::text[]) AS t(u, c)
      ON a.user_id = t.u AND a.client_attempt_id = t.c`;
  const storedKeys = new Set(stored.map((s) => s.key));
  const taken = missing.filter((m) => !storedKeys.has(`${m.row.userId}/${m.row.clientAttemptId}`)).map((m) => m.index);
  return { inserted, present: missing.length - taken.length, taken };
}

/**
 * MasteryHistory points of the existing system, marked imported: they stay the record of their day
 * (a rebuild fills only the days without one, and compares its own values with them).
 */
export async function loadMasteryHistory(
  db: Database,
  rows: MasteryHistoryRecord[],
  keys: KeyMaps,
): Promise<ChunkResult> {
  const refused: ChunkResult['refused'] = [];
  const resolved = dedupe(
    rows.flatMap((r, index) => {
      const userId = keys.users.get(r.userSourceId);
      if (userId) return [{ ...r, userId }];
      refused.push({ index, reason: `user_id ${r.userSourceId} is not an imported user (is it in users.csv?)` });
      return [];
    }),
    (r) => `${r.userId}/${r.subcategory}/${r.date}`,
  );
  const written = await db.prisma.$executeRaw`
    INSERT INTO mastery_history (user_id, subcategory, date, score, imported)
    SELECT u, s, d, v, true
    FROM unnest(${resolved.map((r) => r.userId)}::uuid[], ${resolved.map((r) => r.subcategory)}::text[],
                ${resolved.map((r) => r.date)}::date[], ${resolved.map((r) => r.score)}::float8[]) AS t(u, s, d, v)
    ON CONFLICT (user_id, subcategory, date) DO UPDATE SET score = EXCLUDED.score, imported = true
    WHERE NOT mastery_history.imported`;
  return { imported: written, present: rows.length - refused.length - written, refused };
}

function dedupe<T>(rows: T[], key: (row: T) => string): T[] {
  const seen = new Set<string>();
  return rows.filter((row) => {
    const k = key(row);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
