// A session that ends while a job run holds its learner (the NIGHTLY plan step locks every active
// learner until the run commits) does not wait for the lock: endSession commits at once with a
// pending_replans row, and the session-end adjustment is applied once the lock is free — right
// after the run commits (runJob), or by the ending request's own retries. Applying it and deleting
// its row happen in one transaction, the row locked: each pending replan is applied exactly once.
import type { Database } from '../db/client.ts';
import { dateString } from '../domain/calendar.ts';
import type { Logger } from '../logger.ts';
import { type PubSub, publishPlanChanges } from '../pubsub.ts';
import { type PlanChange, type PlanRequest, replanLearners } from './plans.ts';
import { sessionsAttempts } from './sessions.ts';

/** Pending replans applied per transaction. */
const batchSize = 200;

/**
 * Applies the pending session-end replans whose learners are free (all of them, or one session's),
 * and publishes the plan changes once committed. Returns how many are still pending (their learner
 * still locked).
 */
export async function applyPendingReplans(
  db: Database,
  pubsub: PubSub | null,
  only: { sessionId?: string } = {},
): Promise<number> {
  let left = 0;
  for (;;) {
    const { changes, applied, skipped } = await db.prisma.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<{ session_id: string; user_id: string; plan_date: Date }[]>`
        SELECT p.session_id::text, p.user_id::text, p.plan_date FROM pending_replans p
        WHERE ${only.sessionId ?? null}::uuid IS NULL OR p.session_id = ${only.sessionId ?? null}::uuid
        ORDER BY p.created_at, p.session_id
        LIMIT ${batchSize}
        FOR UPDATE SKIP LOCKED`;
      const attempts = await sessionsAttempts(
        tx,
        rows.map((r) => r.session_id),
      );
      const made: PlanChange[] = [];
      const done: string[] = [];
      const stillLocked: PlanRequest[] = [];
      for (const row of rows) {
        const request = { userId: row.user_id, planDate: dateString(row.plan_date) };
        const skippedLocked: PlanRequest[] = [];
        made.push(
          ...(await replanLearners(
            tx,
            [{ ...request, sessionAttempts: attempts.get(row.session_id) ?? [] }],
            'SESSION_END',
            { now: new Date(), sessionId: row.session_id, skippedLocked },
          )),
        );
        if (skippedLocked.length > 0) stillLocked.push(...skippedLocked);
        else done.push(row.session_id);
      }
      await tx.$executeRaw`DELETE FROM pending_replans WHERE session_id = ANY(${done}::uuid[])`;
      return { changes: made, applied: done.length, skipped: stillLocked.length };
    });
    if (pubsub) publishPlanChanges(pubsub, changes);
    left = skipped;
    if (applied + skipped < batchSize || applied === 0) return left;
  }
}

/**
 * Retries one session's pending replan until it is applied (by this or by anyone), with a growing
 * pause: the backstop for a run in another process. Never throws (failures are logged).
 */
export function retryPendingReplan(db: Database, pubsub: PubSub | null, sessionId: string, log: Logger): void {
  let pause = 1_000;
  const attempt = async (): Promise<boolean> => {
    // One statement, no transaction held: is the replan still pending, and its learner free now?
    const [row] = await db.prisma.$queryRaw<{ free: boolean }[]>`
      SELECT EXISTS (SELECT 1 FROM users u WHERE u.id = p.user_id FOR NO KEY UPDATE SKIP LOCKED) AS free
      FROM pending_replans p WHERE p.session_id = ${sessionId}::uuid`;
    if (!row) return true;
    return row.free && (await applyPendingReplans(db, pubsub, { sessionId })) === 0;
  };
  const next = () => {
    setTimeout(() => {
      attempt().then(
        (done) => {
          pause = Math.min(pause * 2, 30_000);
          if (!done) next();
        },
        (error: unknown) =>
          log.error({ err: error, sessionId }, 'a pending session-end replan failed; it stays pending'),
      );
    }, pause).unref();
  };
  next();
}
