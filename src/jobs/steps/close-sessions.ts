// NIGHTLY step 1: close abandoned sessions. A session still open whose last activity (its last
// attempt, or its start without any) lies more than SESSION_IDLE_MINUTES before the run's `at` is
// ended at that last activity, so durationSec measures the time the learner actually spent.
import { durationSeconds } from '../../db/sql.ts';
import { Prisma } from '../../generated/prisma/client.ts';
import { ceilToMillisecond, sessionsAttempts, storeSessionsAnalytics } from '../../services/sessions.ts';
import type { RunContext, StepStats } from '../context.ts';

export async function closeAbandonedSessions(ctx: RunContext): Promise<StepStats> {
  const { tx, at, config } = ctx;
  const closed = await tx.$queryRaw<{ id: string }[]>`
    WITH idle AS (
      SELECT s.id,
             ${ceilToMillisecond(Prisma.sql`GREATEST(s.started_at, max(a.recorded_at), max(a.answered_at))`)}
               AS last_activity
      FROM sessions s
      LEFT JOIN attempts a ON a.session_id = s.id
      WHERE s.ended_at IS NULL AND s.started_at <= ${at}::timestamptz
      GROUP BY s.id, s.started_at
    )
    UPDATE sessions s
    SET ended_at = idle.last_activity,
        duration_sec = ${durationSeconds('s.started_at', 'idle.last_activity')}::int
    FROM idle
    WHERE s.id = idle.id AND s.ended_at IS NULL
      AND idle.last_activity <= ${at}::timestamptz - ${config.sessionIdleMinutes}::float8 * interval '1 minute'
    RETURNING s.id`;
  // Summary and analytics as endSession stores them (src/domain, through the batch functions of
  // src/services/sessions.ts): one read and two writes per chunk of sessions closed.
  const ids = closed.map((c) => c.id).sort();
  let summaries = 0;
  for (let i = 0; i < ids.length; i += chunkSize) {
    const stored = await storeSessionsAnalytics(tx, await sessionsAttempts(tx, ids.slice(i, i + chunkSize)));
    summaries += stored.summaries;
  }
  return { sessionsClosed: closed.length, sessionSummariesStored: summaries };
}

/** Sessions whose attempts are read and whose summaries are written per statement. */
const chunkSize = 1000;
