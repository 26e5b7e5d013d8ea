// The attempt log as xAPI statements (JSON lines), in recordedAt order, read in pages: the inverse
// of the xAPI import (attemptStatement in xapi.ts), so another learning record store can take
// Learnloop's data and a round trip reproduces the attempts.
import type { Writable } from 'node:stream';
import type { Database } from '../db/client.ts';
import { attemptStatement, type ExportedAttempt } from './xapi.ts';

export interface ExportRange {
  /** Attempts recorded at or after this instant (null: from the start). */
  from: Date | null;
  /** Attempts recorded before this instant (null: to the end). */
  to: Date | null;
}

const pageSize = 5_000;

export async function exportXapi(db: Database, range: ExportRange, out: Writable): Promise<number> {
  let after: { at: Date; id: string } | null = null;
  let written = 0;
  for (;;) {
    const page: (ExportedAttempt & { recordedAt: Date })[] = await db.prisma.$queryRaw`
      SELECT a.id::text AS id, u.name AS "userName", u.email, u.timezone, q.external_id AS "externalId", q.category,
             q.subcategory, q.difficulty_band::text AS "difficultyBand", q.answer, a.context::text AS context,
             a.user_answer AS "userAnswer", a.correct, a.time_sec AS "timeSec", a.hint_used AS "hintUsed",
             a.answered_at AS "answeredAt", a.recorded_at AS "recordedAt", a.session_id::text AS "sessionId",
             s.started_at AS "sessionStartedAt", s.ended_at AS "sessionEndedAt"
      FROM attempts a
      JOIN users u ON u.id = a.user_id
      JOIN questions q ON q.id = a.question_id
      LEFT JOIN sessions s ON s.id = a.session_id
      WHERE a.recorded_at >= COALESCE(${range.from}::timestamptz, '-infinity')
        AND a.recorded_at < COALESCE(${range.to}::timestamptz, 'infinity')
        AND (${after?.at ?? null}::timestamptz IS NULL
             OR (a.recorded_at, a.id) > (${after?.at ?? null}::timestamptz, ${after?.id ?? null}::uuid))
      ORDER BY a.recorded_at, a.id
      LIMIT ${pageSize}`;
    if (page.length === 0) return written;
    const text = `${page.map((a) => JSON.stringify(attemptStatement(a))).join('\n')}\n`;
    if (!out.write(text)) await new Promise((resolve) => out.once('drain', resolve));
    written += page.length;
    const last = page[page.length - 1]!;
    after = { at: last.recordedAt, id: last.id };
  }
}
