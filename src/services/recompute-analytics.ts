// Summaries and analytics for ended sessions that lack them (data imported from elsewhere, or
// sessions ended before analytics existed). Set-based in chunks: per chunk one transaction reads the
// chunk's attempts in one statement and writes the missing rows in one statement per table, with
// the same pure functions endSession uses. Rows that exist are never changed, so a re-run (or a
// session ended concurrently) writes nothing twice.
import type { Database } from '../db/client.ts';
import { Prisma } from '../generated/prisma/client.ts';
import { sessionsAttempts, storeSessionsAnalytics } from './sessions.ts';

export interface RecomputeProgress {
  /** Sessions looked at so far (ended, lacking a summary or analytics). */
  sessions: number;
  summaries: number;
  analytics: number;
  chunks: number;
}

export interface RecomputeOptions {
  /** Sessions per transaction (default 500). */
  chunkSize?: number;
  /** How many sessions lack rows now (for a progress bar), before the first chunk. */
  onStart?: (total: number) => void;
  onChunk?: (progress: RecomputeProgress) => void;
}

/**
 * The ended sessions `s` without their summary or their analytics. The checks are index probes
 * (LATERAL … LIMIT 1): as two NOT EXISTS under an OR, each chunk hashed both tables whole, a cost
 * growing with every chunk written.
 */
const endedSessionsLackingAnalytics = Prisma.sql`sessions s
  LEFT JOIN LATERAL (SELECT true AS has FROM session_summaries x WHERE x.session_id = s.id LIMIT 1) x ON true
  LEFT JOIN LATERAL (SELECT true AS has FROM session_analytics y WHERE y.session_id = s.id LIMIT 1) y ON true
  WHERE s.ended_at IS NOT NULL AND (x.has IS NULL OR y.has IS NULL)`;

export async function recomputeMissingSessionAnalytics(
  db: Database,
  options: RecomputeOptions = {},
): Promise<RecomputeProgress> {
  const chunkSize = options.chunkSize ?? 500;
  if (!Number.isInteger(chunkSize) || chunkSize < 1)
    throw new RangeError(`chunkSize must be a positive integer, not ${chunkSize}`);
  const progress: RecomputeProgress = { sessions: 0, summaries: 0, analytics: 0, chunks: 0 };
  if (options.onStart) {
    const counted = await db.prisma.$queryRaw<{ total: number }[]>`
      SELECT count(*)::int AS total FROM ${endedSessionsLackingAnalytics}`;
    options.onStart(counted[0]?.total ?? 0);
  }
  // Keyset over session ids: every chunk moves forward, so the run ends even if a chunk wrote nothing.
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const written = await db.prisma.$transaction(
      async (tx) => {
        // No JIT: the plan's cost (every session, should none lack rows) is high enough to compile it,
        // for more time than it runs.
        if (db.kind === 'postgres') await tx.$executeRawUnsafe('SET LOCAL jit = off');
        const ids = (
          await tx.$queryRaw<{ id: string }[]>`
            SELECT s.id::text AS id FROM ${endedSessionsLackingAnalytics} AND s.id > ${after}::uuid
            ORDER BY s.id
            LIMIT ${chunkSize}`
        ).map((row) => row.id);
        if (ids.length === 0) return null;
        const stored = await storeSessionsAnalytics(tx, await sessionsAttempts(tx, ids));
        return { sessions: ids.length, last: ids[ids.length - 1]!, ...stored };
      },
      { timeout: 120_000 },
    );
    if (!written) return progress;
    after = written.last;
    progress.sessions += written.sessions;
    progress.summaries += written.summaries;
    progress.analytics += written.analytics;
    progress.chunks += 1;
    options.onChunk?.({ ...progress });
  }
}
