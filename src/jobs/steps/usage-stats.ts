// NIGHTLY step 7: UsageStat of the run's date (a day in JOBS_TZ), recomputed over that whole day
// on every run that closes it, so a re-run or a late-synced attempt corrects it.
//   attempts, activeUsers, accuracy   attempts recorded that day (server clock), every context;
//                                     activeUsers = distinct learners with such an attempt
//   sessions                          sessions started that day
//   averageSessionMinutes             mean duration of those of them that have ended (null: none)
//   byContext                         [{ context, activeUsers, attempts, accuracy }] for SESSION,
//                                     PRACTICE, DAILY in that order (accuracy null without attempts)
import type { RunContext, StepStats } from '../context.ts';

export async function computeUsageStatistics(ctx: RunContext): Promise<StepStats> {
  const { tx, date, config } = ctx;
  const rows = await tx.$executeRaw`
    WITH day AS (
      SELECT (${date}::date)::timestamp AT TIME ZONE ${config.timezone} AS starts,
             (${date}::date + 1)::timestamp AT TIME ZONE ${config.timezone} AS ends
    ),
    day_attempts AS (
      SELECT a.user_id, a.context, a.correct
      FROM attempts a, day
      WHERE a.recorded_at >= day.starts AND a.recorded_at < day.ends
    ),
    day_sessions AS (
      SELECT count(*)::int AS sessions,
             avg(s.duration_sec) FILTER (WHERE s.ended_at IS NOT NULL)::float8 / 60 AS average_minutes
      FROM sessions s, day
      WHERE s.started_at >= day.starts AND s.started_at < day.ends
    ),
    by_context AS (
      SELECT jsonb_agg(jsonb_build_object(
               'context', c.context::text,
               'activeUsers', (SELECT count(DISTINCT user_id) FROM day_attempts d WHERE d.context = c.context),
               'attempts', (SELECT count(*) FROM day_attempts d WHERE d.context = c.context),
               'accuracy', (SELECT avg(d.correct::int)::float8 FROM day_attempts d WHERE d.context = c.context))
             ORDER BY c.ordinal) AS contexts
      FROM unnest(enum_range(NULL::"AttemptContext")) WITH ORDINALITY AS c(context, ordinal)
    )
    INSERT INTO usage_stats (date, active_users, sessions, attempts, accuracy, average_session_minutes, by_context,
                             computed_at)
    SELECT ${date}::date,
           (SELECT count(DISTINCT user_id) FROM day_attempts)::int,
           day_sessions.sessions,
           (SELECT count(*) FROM day_attempts)::int,
           (SELECT avg(correct::int)::float8 FROM day_attempts),
           day_sessions.average_minutes,
           by_context.contexts,
           clock_timestamp()
    FROM day_sessions, by_context
    ON CONFLICT (date) DO UPDATE
    SET active_users = EXCLUDED.active_users, sessions = EXCLUDED.sessions, attempts = EXCLUDED.attempts,
        accuracy = EXCLUDED.accuracy, average_session_minutes = EXCLUDED.average_session_minutes,
        by_context = EXCLUDED.by_context, computed_at = EXCLUDED.computed_at`;
  return { usageDays: rows };
}
