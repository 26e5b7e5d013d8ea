// NIGHTLY step: the daily rollups behind the cohort overview. The attempts of learners recorded since
// the rollup's mark, up to the run's window end, are added to daily_activity per (learner, the
// learner's day by answeredAt, subcategory); the days it added to get their totals in
// daily_cohort_activity again (attempts, correct, learners with a row); the learners' sessions recorded
// in the same window are added to the day they started on (in the learner's zone); then the mark moves
// to the window end — in the run's transaction, so each attempt and session is added exactly once
// (attempts are never deleted or changed, nor a session's start; a stale run's window ends before the
// mark and adds nothing). The first run adds every attempt so far.
// Last, the cohort overview's preset ranges (the last 7, 30 and 90 days up to the day of the run's
// instant) move to the run's day (cohort-ranges.ts), but in a stale run: shifted by the days that
// entered and left them and by this run's rows (activity_added), or worked out again in full.
// The cohort overview (src/services/activity.ts) reads these rows and the attempts recorded after
// the mark, so its figures are the raw scan's, at a fraction of the cost over long ranges.
import { Prisma } from '../../generated/prisma/client.ts';
import { zoneOrUtc } from '../../services/time-zones.ts';
import type { RunContext, StepStats } from '../context.ts';
import { clearCohortRanges, rangesAsOfMark, storeCohortRanges } from './cohort-ranges.ts';

export async function rollUpActivity(ctx: RunContext): Promise<StepStats> {
  const { tx, windowEnd } = ctx;
  // The ranges up to date with the mark before this run: the ones this run may shift by its rows (none
  // in a full run, the reference: it works them out again).
  const previousRanges = ctx.stale || ctx.full ? [] : await rangesAsOfMark(tx);
  // What this run adds, kept for the transaction: the preset ranges are shifted by exactly these rows.
  await tx.$executeRaw`
    CREATE TEMP TABLE activity_added (user_id uuid, date date, subcategory text, attempts int, correct int)
    ON COMMIT DROP`;
  await tx.$executeRaw`
    INSERT INTO activity_added (user_id, date, subcategory, attempts, correct)
    SELECT a.user_id, (COALESCE(a.answered_at, a.recorded_at) AT TIME ZONE ${zoneOrUtc(Prisma.sql`u.timezone`)})::date,
           q.subcategory, count(*)::int, count(*) FILTER (WHERE a.correct)::int
    FROM attempts a
    JOIN users u ON u.id = a.user_id AND u.role = 'LEARNER'
    JOIN questions q ON q.id = a.question_id
    WHERE a.recorded_at > COALESCE((SELECT up_to FROM activity_rollup_mark WHERE id = 1), '-infinity'::timestamptz)
      AND a.recorded_at <= ${windowEnd}::timestamptz
    GROUP BY 1, 2, 3`;
  const [added] = await tx.$queryRaw<{ rows: number; dates: string[] }[]>`
    WITH written AS (
      INSERT INTO daily_activity AS d (user_id, date, subcategory, attempts, correct)
      SELECT user_id, date, subcategory, attempts, correct FROM activity_added
      ON CONFLICT (date, user_id, subcategory)
      DO UPDATE SET attempts = d.attempts + EXCLUDED.attempts, correct = d.correct + EXCLUDED.correct
      RETURNING d.date
    )
    SELECT count(*)::int AS rows, COALESCE(array_agg(DISTINCT date::text), '{}') AS dates FROM written`;
  // The totals of the days this run added to (mostly yesterday and today), worked out again from their
  // rows: distinct learners do not add up, and a day's rows are few.
  await tx.$executeRaw`
    INSERT INTO daily_cohort_activity AS c (date, attempts, correct, learners)
    SELECT date, sum(attempts)::int, sum(correct)::int, count(DISTINCT user_id)::int
    FROM daily_activity WHERE date = ANY(${added!.dates}::date[])
    GROUP BY date
    ON CONFLICT (date) DO UPDATE
    SET attempts = EXCLUDED.attempts, correct = EXCLUDED.correct, learners = EXCLUDED.learners`;
  // A session counts on the day it started; the totals above leave this column alone.
  const sessions = await tx.$executeRaw`
    INSERT INTO daily_cohort_activity AS c (date, attempts, correct, learners, sessions)
    SELECT x.date, 0, 0, 0, count(*)::int
    FROM (
      SELECT (s.started_at AT TIME ZONE ${zoneOrUtc(Prisma.sql`u.timezone`)})::date AS date
      FROM sessions s JOIN users u ON u.id = s.user_id AND u.role = 'LEARNER'
      WHERE s.recorded_at > COALESCE((SELECT up_to FROM activity_rollup_mark WHERE id = 1), '-infinity'::timestamptz)
        AND s.recorded_at <= ${windowEnd}::timestamptz
    ) x
    GROUP BY x.date
    ON CONFLICT (date) DO UPDATE SET sessions = c.sessions + EXCLUDED.sessions`;
  await tx.$executeRaw`
    INSERT INTO activity_rollup_mark (id, up_to) VALUES (1, ${windowEnd}::timestamptz)
    ON CONFLICT (id) DO UPDATE SET up_to = GREATEST(activity_rollup_mark.up_to, EXCLUDED.up_to)`;
  const ranges = ctx.stale ? {} : await storeCohortRanges(ctx, previousRanges);
  await tx.$executeRaw`DROP TABLE activity_added`;
  return { activityRowsRolledUp: added!.rows, sessionDaysRolledUp: sessions, ...ranges };
}

/** Empties the rollups, their mark and the preset ranges: the next run adds every attempt again (a rebuild). */
export async function resetActivityRollup(tx: RunContext['tx']): Promise<void> {
  await tx.$executeRaw`DELETE FROM daily_activity`;
  await tx.$executeRaw`DELETE FROM daily_cohort_activity`;
  await tx.$executeRaw`DELETE FROM activity_rollup_mark`;
  await clearCohortRanges(tx);
}
