// NIGHTLY step 2: mastery EWMA (SPEC 3), one statement over the run's window.
//   credit      1 correct, 0.5 correct with a hint, 0 wrong
//   performance mean credit of the window's attempts of (user, subcategory), contexts MASTERY_CONTEXTS
//   new score   α·performance + (1−α)·previous, previous = prior (0.5) without a score yet
// The same arithmetic as attemptCredit/performance/ewmaStep in src/domain/mastery.ts (tests hold
// the two together). updatedAt is the run's `at`: decay measures from it.
import type { RunContext, StepStats } from '../context.ts';

export async function updateMastery(ctx: RunContext): Promise<StepStats> {
  const { tx, at, windowStart, windowEnd, config } = ctx;
  const { alpha, prior } = config.mastery;
  if (ctx.stale) return { masteriesUpdated: 0, masteryAttempts: 0 };
  const [result] = await tx.$queryRaw<{ masteries: number; attempts: number }[]>`
    WITH window_performance AS (
      SELECT a.user_id, q.subcategory,
             avg(CASE WHEN NOT a.correct THEN 0.0 WHEN a.hint_used THEN 0.5 ELSE 1.0 END::float8) AS performance,
             count(*)::int AS attempts,
             max(a.recorded_at) AS last_practiced_at
      FROM attempts a
      JOIN questions q ON q.id = a.question_id
      WHERE a.recorded_at > COALESCE(${windowStart}::timestamptz, '-infinity')
        AND a.recorded_at <= ${windowEnd}::timestamptz
        AND a.context::text = ANY(${config.masteryContexts}::text[])
      GROUP BY a.user_id, q.subcategory
    ),
    next_scores AS (
      SELECT w.user_id, w.subcategory,
             ${alpha}::float8 * w.performance + (1 - ${alpha}::float8) * COALESCE(m.score, ${prior}::float8) AS score,
             COALESCE(m.attempts_count, 0) + w.attempts AS attempts_count,
             GREATEST(m.last_practiced_at, w.last_practiced_at) AS last_practiced_at,
             w.attempts
      FROM window_performance w
      LEFT JOIN masteries m ON m.user_id = w.user_id AND m.subcategory = w.subcategory
    ),
    upserted AS (
      INSERT INTO masteries (user_id, subcategory, score, attempts_count, last_practiced_at, updated_at)
      SELECT user_id, subcategory, score, attempts_count, last_practiced_at, ${at}::timestamptz FROM next_scores
      ON CONFLICT (user_id, subcategory) DO UPDATE
      SET score = EXCLUDED.score, attempts_count = EXCLUDED.attempts_count,
          last_practiced_at = EXCLUDED.last_practiced_at, updated_at = EXCLUDED.updated_at
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM upserted)::int AS masteries,
           COALESCE((SELECT sum(attempts) FROM next_scores), 0)::int AS attempts`;
  return { masteriesUpdated: result?.masteries ?? 0, masteryAttempts: result?.attempts ?? 0 };
}
