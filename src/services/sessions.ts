import { actingUserId, userGone, type Viewer } from '../auth.ts';
import type { Database } from '../db/client.ts';
import { durationSeconds } from '../db/sql.ts';
import type { Transaction } from '../db/types.ts';
import { addDays, localDate } from '../domain/calendar.ts';
import { analyzeSession, type SessionAnalyticsResult } from '../domain/session-analytics.ts';
import { type SessionAttempt, type SessionSummary, summarizeSession } from '../domain/session-summary.ts';
import { badInput, conflict, forbidden, notFound } from '../errors.ts';
import { Prisma } from '../generated/prisma/client.ts';
import { checkDeviceTime } from './attempts.ts';
import { type PlanChange, type PlanRequest, replanLearners } from './plans.ts';
import { isForeignKeyViolation, isUniqueViolation } from './prisma-errors.ts';

export interface NewSession {
  units: string[];
  notes: string | null;
  clientSessionId: string | null;
  /** When the session started on the device (an offline app syncing later); null: now. */
  startedAt: Date | null;
}

type SessionQuery = Omit<Prisma.SessionFindUniqueArgs, 'where'>;

/** Starts a session for the viewer; a repeated clientSessionId returns the session it started. */
export async function startSession<Q extends SessionQuery>(db: Database, query: Q, viewer: Viewer, input: NewSession) {
  checkDeviceTime('startedAt', input.startedAt);
  const userId = actingUserId(viewer);
  const user = await db.prisma.user.findUnique({ where: { id: userId }, select: { id: true } });
  if (!user) throw userGone();
  if (input.clientSessionId !== null) {
    const existing = await findByClientId(db, query, userId, input.clientSessionId);
    if (existing) return sameSessionOrConflict(existing, input);
  }
  try {
    return await db.prisma.session.create({
      ...query,
      data: {
        userId,
        units: input.units,
        notes: input.notes,
        clientSessionId: input.clientSessionId,
        ...(input.startedAt ? { startedAt: input.startedAt } : {}),
      },
    });
  } catch (error) {
    // Two identical requests raced: the other one created it.
    if (input.clientSessionId !== null && isUniqueViolation(error)) {
      const existing = await findByClientId(db, query, userId, input.clientSessionId);
      if (existing) return sameSessionOrConflict(existing, input);
    }
    // The user was erased between the check above and the insert (the erasure held their row).
    if (isForeignKeyViolation(error)) throw userGone();
    throw error;
  }
}

function findByClientId<Q extends SessionQuery>(db: Database, query: Q, userId: string, clientSessionId: string) {
  return db.prisma.session.findUnique({ ...query, where: { userId_clientSessionId: { userId, clientSessionId } } });
}

function sameSessionOrConflict<T>(existing: T, input: NewSession): T {
  const stored = existing as unknown as {
    units: string[];
    notes: string | null;
    clientSessionId: string;
    startedAt?: Date;
  };
  if (
    JSON.stringify(stored.units) !== JSON.stringify(input.units) ||
    stored.notes !== input.notes ||
    (input.startedAt && stored.startedAt && stored.startedAt.getTime() !== input.startedAt.getTime())
  ) {
    throw conflict(
      `clientSessionId ${stored.clientSessionId} already started a session with other units, notes or startedAt: ` +
        'use a new clientSessionId for a new session.',
    );
  }
  return existing;
}

export interface EndedSession {
  sessionId: string;
  userId: string;
  /** False when the session had already ended: nothing was written. */
  changed: boolean;
  /** Tomorrow's plan as this session adjusted it (null when unchanged): publish it after commit. */
  planChange: PlanChange | null;
  /** A job run held the learner: the adjustment is pending (retryPendingReplan applies it). */
  replanPending: boolean;
}

interface LockedSession {
  id: string;
  user_id: string;
  started_at: Date;
  ended_at: Date | null;
  timezone: string;
}

/**
 * A burst of session ends (a class finishing at once) queues for a pool connection rather than
 * failing after Prisma's default 2 s; nothing in the transaction waits for a job run's locks.
 */
const endSessionTransaction = { maxWait: 15_000, timeout: 15_000 };

/**
 * Ends a session: sets endedAt and durationSec in one transaction with the session's derived rows.
 * Idempotent: a second call changes nothing. `endedAt` is the device's time of the end (a session
 * synced later): not in the future, not before the session's start or its last answer.
 */
export async function endSession(
  db: Database,
  viewer: Viewer,
  sessionId: string,
  endedAt: Date | null = null,
): Promise<EndedSession> {
  checkDeviceTime('endedAt', endedAt);
  return db.prisma.$transaction(async (tx) => {
    const [session] = await tx.$queryRaw<LockedSession[]>`
      SELECT s.id, s.user_id, s.started_at, s.ended_at, u.timezone
      FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ${sessionId}::uuid FOR UPDATE OF s`;
    if (!session) throw notFound('This session');
    if (viewer.role !== 'ADMIN' && viewer.userId !== session.user_id)
      throw forbidden('You may end only your own sessions.');
    if (session.ended_at)
      return { sessionId, userId: session.user_id, changed: false, planChange: null, replanPending: false };
    if (endedAt) await checkEndedAt(tx, session, endedAt);
    // The session lasts until endedAt, else until now, or until its last answer when a client clock ran ahead.
    await tx.$executeRaw`
      UPDATE sessions s SET ended_at = e.ended_at,
        duration_sec = ${durationSeconds('s.started_at', 'e.ended_at')}::int
      FROM (SELECT COALESCE(
                     ${endedAt}::timestamptz,
                     ${ceilToMillisecond(Prisma.sql`GREATEST(now(), max(a.recorded_at), max(a.answered_at))`)}
                   ) AS ended_at
            FROM attempts a WHERE a.session_id = ${sessionId}::uuid) e
      WHERE s.id = ${sessionId}::uuid`;
    const attemptsBySession = await sessionsAttempts(tx, [sessionId]);
    await storeSessionsAnalytics(tx, attemptsBySession);
    const attempts = attemptsBySession.get(sessionId)!;
    // Tomorrow in the learner's time zone, adjusted from this session at once — unless a job run holds
    // the learner: then the session ends now and the adjustment follows (src/services/pending-replans.ts).
    const now = new Date();
    const planDate = addDays(localDate(now, session.timezone), 1);
    const skippedLocked: PlanRequest[] = [];
    const [planChange = null] = await replanLearners(
      tx,
      [{ userId: session.user_id, planDate, sessionAttempts: attempts }],
      'SESSION_END',
      { now, sessionId, skippedLocked },
    );
    const replanPending = skippedLocked.length > 0;
    if (replanPending) {
      await tx.$executeRaw`
        INSERT INTO pending_replans (session_id, user_id, plan_date)
        VALUES (${sessionId}::uuid, ${session.user_id}::uuid, ${planDate}::date) ON CONFLICT DO NOTHING`;
    }
    return { sessionId, userId: session.user_id, changed: true, planChange, replanPending };
  }, endSessionTransaction);
}

async function checkEndedAt(tx: Transaction, session: LockedSession, endedAt: Date): Promise<void> {
  if (endedAt.getTime() < session.started_at.getTime())
    throw badInput(
      `endedAt ${endedAt.toISOString()} is before the session started (${session.started_at.toISOString()}).`,
    );
  // An attempt's time is its device time when it has one (a late sync is recorded later than it happened).
  const [last] = await tx.$queryRaw<{ at: Date | null }[]>`
    SELECT max(COALESCE(a.answered_at, a.recorded_at)) AS at FROM attempts a WHERE a.session_id = ${session.id}::uuid`;
  if (last?.at && endedAt.getTime() < last.at.getTime())
    throw badInput(`endedAt ${endedAt.toISOString()} is before the session's last answer (${last.at.toISOString()}).`);
}

/**
 * An instant rounded up to the millisecond sessions.ended_at keeps (attempts.recorded_at keeps
 * microseconds): storing it as is would round it, sometimes to before the session's last attempt.
 */
export function ceilToMillisecond(instant: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`date_trunc('milliseconds', ${instant} + interval '999 microseconds')`;
}

export interface EndedSessionAttempt extends SessionAttempt {
  hintUsed: boolean;
}

/** The attempts of several sessions, each list in recordedAt order (sessions without attempts get []). */
export async function sessionsAttempts(
  tx: Transaction,
  sessionIds: readonly string[],
): Promise<Map<string, EndedSessionAttempt[]>> {
  const rows = await tx.$queryRaw<(EndedSessionAttempt & { sessionId: string })[]>`
    SELECT a.session_id::text AS "sessionId", a.correct, a.time_sec AS "timeSec", a.hint_used AS "hintUsed",
           q.subcategory, q.difficulty_band::text AS "difficultyBand"
    FROM attempts a JOIN questions q ON q.id = a.question_id
    WHERE a.session_id = ANY(${sessionIds}::uuid[])
    ORDER BY a.session_id, a.recorded_at, a.id`;
  const bySession = new Map<string, EndedSessionAttempt[]>(sessionIds.map((id) => [id, []]));
  for (const { sessionId, ...attempt } of rows) bySession.get(sessionId)!.push(attempt);
  return bySession;
}

/**
 * Computes and stores the sessions' summaries and analytics (SPEC 4.1, 4.2) from their attempts,
 * one statement per table (arrays unnested: a rebuild writes thousands a chunk, and bound arrays
 * cost a fraction of a parameter per value). Rows that exist are kept: what a session ended with
 * is what it keeps.
 */
export async function storeSessionsAnalytics(
  tx: Transaction,
  attemptsBySession: ReadonlyMap<string, readonly SessionAttempt[]>,
): Promise<{ summaries: number; analytics: number }> {
  if (attemptsBySession.size === 0) return { summaries: 0, analytics: 0 };
  const ids: string[] = [];
  const summaries: SessionSummary[] = [];
  const analytics: SessionAnalyticsResult[] = [];
  for (const [sessionId, attempts] of attemptsBySession) {
    ids.push(sessionId);
    summaries.push(summarizeSession(attempts));
    analytics.push(analyzeSession(attempts));
  }
  const summaryCount = await tx.$executeRawUnsafe(
    `INSERT INTO session_summaries (session_id, questions_attempted, questions_correct, accuracy,
       average_time_per_question, topics_covered, easy_count, medium_count, hard_count)
     SELECT id, n, c, a, t, ARRAY(SELECT jsonb_array_elements_text(topics)), e, m, h
     FROM unnest($1::uuid[], $2::int[], $3::int[], $4::float8[], $5::float8[], $6::jsonb[], $7::int[], $8::int[],
                 $9::int[]) AS x(id, n, c, a, t, topics, e, m, h)
     ON CONFLICT (session_id) DO NOTHING`,
    ids,
    summaries.map((s) => s.questionsAttempted),
    summaries.map((s) => s.questionsCorrect),
    summaries.map((s) => s.accuracy),
    summaries.map((s) => s.averageTimePerQuestion),
    summaries.map((s) => JSON.stringify(s.topicsCovered)),
    summaries.map((s) => s.difficultyDistribution.easy),
    summaries.map((s) => s.difficultyDistribution.medium),
    summaries.map((s) => s.difficultyDistribution.hard),
  );
  const analyticsCount = await tx.$executeRawUnsafe(
    `INSERT INTO session_analytics (session_id, learning_velocity, concept_switches, attention_span_minutes,
       optimal_difficulty_range)
     SELECT id, v, c, a, ARRAY(SELECT jsonb_array_elements_text(bands))::"DifficultyBand"[]
     FROM unnest($1::uuid[], $2::float8[], $3::int[], $4::float8[], $5::jsonb[]) AS x(id, v, c, a, bands)
     ON CONFLICT (session_id) DO NOTHING`,
    ids,
    analytics.map((a) => a.learningVelocity),
    analytics.map((a) => a.conceptSwitches),
    analytics.map((a) => a.attentionSpanMinutes),
    analytics.map((a) => JSON.stringify(a.optimalDifficultyRange)),
  );
  return { summaries: summaryCount, analytics: analyticsCount };
}
