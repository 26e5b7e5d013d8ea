// Writing a chunk of xAPI statements (xapi.ts) in one transaction: their learners and questions found
// or created, the sessions of their registrations, then the attempts through insertAttemptRows with
// clientAttemptId "<source>:<statement id>" (a statement imported before is skipped as present).
import type { Database } from '../db/client.ts';
import { answerKey } from '../domain/grading.ts';
import { type AttemptRow, insertAttemptRows } from '../services/attempt-batches.ts';
import type { Transaction } from '../services/transaction.ts';
import { type ChunkResult, sourceKey } from './load.ts';
import type { XapiAttempt, XapiRecord } from './xapi.ts';

export async function loadStatements(db: Database, source: string, records: XapiRecord[]): Promise<ChunkResult> {
  const refused: ChunkResult['refused'] = [];
  const attempts = records
    .map((record, index) => ({ record, index }))
    .filter((r): r is { record: XapiAttempt; index: number } => r.record.kind === 'attempt');
  const skipped = records.length - attempts.length;
  if (attempts.length === 0) return { imported: 0, present: 0, skipped, refused };
  return db.prisma.$transaction(async (tx) => {
    const users = await resolveUsers(
      tx,
      source,
      attempts.map((a) => a.record),
    );
    const questions = await resolveQuestions(
      tx,
      attempts.map((a) => a.record),
    );
    const batch: { index: number; row: AttemptRow; registration: string | null; attempt: XapiAttempt }[] = [];
    const seen = new Set<string>();
    for (const { record, index } of attempts) {
      const userId = users.get(actorKey(record));
      const questionId = questions.get(record.question.externalId);
      if (!userId) refused.push({ index, reason: `actor ${actorKey(record)} is no known user (give an mbox)` });
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
    const sessions = await registrationSessions(tx, batch);
    for (const b of batch) b.row.sessionId = b.registration ? sessions.get(`${b.row.userId}/${b.registration}`)! : null;
    const inserted = await insertAttemptRows(
      tx,
      batch.map((b) => b.row),
    );
    return { imported: inserted.length, present: batch.length - inserted.length, skipped, refused };
  });
}

const actorKey = (a: XapiAttempt) => a.actor.email ?? a.actor.account!;

/** Users by email (created when missing) or by an account an earlier import mapped. */
async function resolveUsers(tx: Transaction, source: string, attempts: XapiAttempt[]): Promise<Map<string, string>> {
  const byEmail = new Map(attempts.filter((a) => a.actor.email).map((a) => [a.actor.email!, a.actor]));
  if (byEmail.size > 0) {
    const actors = [...byEmail.values()];
    await tx.$executeRaw`
      INSERT INTO users (name, email, timezone)
      SELECT * FROM unnest(${actors.map((a) => a.name ?? a.email!.split('@')[0]!)}::text[], ${actors.map((a) => a.email!)}::text[],
                           ${actors.map((a) => a.timezone ?? 'UTC')}::text[])
      ON CONFLICT (email) DO NOTHING`;
  }
  const found = await tx.user.findMany({
    where: { email: { in: [...byEmail.keys()] } },
    select: { id: true, email: true },
  });
  const ids = new Map(found.map((u) => [u.email, u.id]));
  const accounts = [...new Set(attempts.filter((a) => !a.actor.email).map((a) => a.actor.account!))];
  if (accounts.length > 0) {
    const keys = await tx.importKey.findMany({ where: { source, entity: 'user', sourceId: { in: accounts } } });
    for (const k of keys) ids.set(k.sourceId, k.targetId);
  }
  return ids;
}

/** Questions by externalId; a missing one whose definition describes it is created. */
async function resolveQuestions(tx: Transaction, attempts: XapiAttempt[]): Promise<Map<string, string>> {
  const definitions = new Map(
    attempts.filter((a) => a.question.definition).map((a) => [a.question.externalId, a.question.definition!]),
  );
  if (definitions.size > 0) {
    await tx.question.createMany({
      skipDuplicates: true,
      data: [...definitions].map(([externalId, d]) => ({ externalId, ...d, answerKey: answerKey(d.answer) })),
    });
  }
  const found = await tx.question.findMany({
    where: { externalId: { in: [...new Set(attempts.map((a) => a.question.externalId))] } },
    select: { id: true, externalId: true },
  });
  return new Map(found.map((q) => [q.externalId, q.id]));
}

/**
 * The session of each (learner, registration): clientSessionId "xapi:<registration>", started at the
 * session start the statement names, else its first answer; ended as named, else left open (the
 * rebuild closes it at its last answer, as NIGHTLY closes an abandoned session).
 */
async function registrationSessions(
  tx: Transaction,
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
  const rows = await tx.$queryRaw<{ userId: string; clientSessionId: string; id: string }[]>`
    INSERT INTO sessions AS s (user_id, client_session_id, started_at, ended_at, duration_sec)
    SELECT u, c, st, en,
           CASE WHEN en IS NOT NULL THEN GREATEST(0, round(extract(epoch FROM en - st)))::int END
    FROM unnest(${sessions.map((s) => s.userId)}::uuid[], ${sessions.map((s) => s.clientSessionId)}::text[],
                ${sessions.map((s) => s.startedAt)}::timestamptz[], ${sessions.map((s) => s.endedAt)}::timestamptz[])
         AS t(u, c, st, en)
    ON CONFLICT (user_id, client_session_id) DO UPDATE SET started_at = LEAST(s.started_at, EXCLUDED.started_at),
      duration_sec = CASE WHEN s.ended_at IS NOT NULL
                          THEN GREATEST(0, round(extract(epoch FROM s.ended_at - LEAST(s.started_at, EXCLUDED.started_at))))::int END
    RETURNING s.user_id::text AS "userId", s.client_session_id AS "clientSessionId", s.id::text AS id`;
  return new Map(rows.map((r) => [`${r.userId}/${r.clientSessionId.slice('xapi:'.length)}`, r.id]));
}
