// NIGHTLY step 3: question statistics and importance indices (SPEC 3), kept as running sums so no
// run rescans history. Two statements:
//
// 1. Add the window's attempts (every context) to each question's running sums:
//      attempts_count, correct_count                     → difficulty
//      mastery_n, mastery_sum, mastery_sq_sum,
//      mastery_correct_n, mastery_correct_sum            → discrimination (attempts with mastery_at_attempt)
//      follow_up_n, follow_up_correct                    → learningImpact
//    A follow-up: every attempt of the window credits the question of the attempt just before it by
//    the same learner in the same subcategory (recordedAt order, ties by id). That predecessor may
//    lie in an earlier window: follow_up_marks keeps each (learner, subcategory)'s last attempt seen,
//    moved by the same statement, so no run looks back through the log.
// 2. Recompute the values of every question of the subcategories the window touched, with the
//    formulas of src/domain/question-stats.ts (questionDifficulty, pointBiserial, learningImpact,
//    importanceIndices), which the tests hold this SQL to, and write those whose values moved
//    (statsUpdatedAt is when they last did; a discrimination moves by more than float noise).
//    A subcategory the window did not touch keeps its sums, so its values cannot have moved.
// A full run (RunContext.full) starts the sums from zero and takes every attempt up to the window's
// end: the reference the running sums are tested against (docs/nightly-incremental.md).
import { LEARNING_IMPACT_SHRINKAGE, MIN_MASTERY_VARIANCE } from '../../domain/question-stats.ts';
import type { RunContext, StepStats } from '../context.ts';

/** How far a value computed from float sums may move by the order of the additions alone. */
const SUM_ORDER_NOISE = 1e-12;

export async function updateQuestionStatistics(ctx: RunContext): Promise<StepStats> {
  if (ctx.stale) return { questionsUpdated: 0, questionsRescored: 0 };
  if (ctx.full) {
    await ctx.tx.$executeRaw`
      UPDATE questions SET attempts_count = 0, correct_count = 0, mastery_n = 0, mastery_sum = 0, mastery_sq_sum = 0,
        mastery_correct_n = 0, mastery_correct_sum = 0, follow_up_n = 0, follow_up_correct = 0`;
    await ctx.tx.$executeRaw`DELETE FROM follow_up_marks`;
  }
  const touched = await addWindowToSums({ ...ctx, windowStart: ctx.full ? null : ctx.windowStart });
  const subcategories = [...new Set(touched.map((t) => t.subcategory))].sort();
  if (subcategories.length === 0) return { questionsUpdated: 0, questionsRescored: 0 };
  return { questionsUpdated: touched.length, questionsRescored: await rescore(ctx, subcategories) };
}

/** Statement 1: the window's attempts added to the running sums; the subcategory of each question updated. */
function addWindowToSums({ tx, windowStart, windowEnd }: RunContext): Promise<{ subcategory: string }[]> {
  return tx.$queryRaw<{ subcategory: string }[]>`
    WITH counts AS (
      SELECT a.question_id AS id,
             count(*)::int AS n,
             count(*) FILTER (WHERE a.correct)::int AS n_correct,
             count(a.mastery_at_attempt)::int AS x_n,
             COALESCE(sum(a.mastery_at_attempt), 0)::float8 AS x_sum,
             COALESCE(sum(a.mastery_at_attempt * a.mastery_at_attempt), 0)::float8 AS x_sq_sum,
             count(a.mastery_at_attempt) FILTER (WHERE a.correct)::int AS x_correct_n,
             COALESCE(sum(a.mastery_at_attempt) FILTER (WHERE a.correct), 0)::float8 AS x_correct_sum
      FROM attempts a
      WHERE a.recorded_at > COALESCE(${windowStart}::timestamptz, '-infinity')
        AND a.recorded_at <= ${windowEnd}::timestamptz
      GROUP BY a.question_id
    ),
    sequenced AS (
      SELECT a.user_id, q.subcategory, a.question_id, a.recorded_at, a.correct,
             lag(a.question_id) OVER learner_subcategory AS previous_question,
             lead(a.id) OVER learner_subcategory IS NULL AS last_of_window
      FROM attempts a
      JOIN questions q ON q.id = a.question_id
      WHERE a.recorded_at > COALESCE(${windowStart}::timestamptz, '-infinity')
        AND a.recorded_at <= ${windowEnd}::timestamptz
      WINDOW learner_subcategory AS (PARTITION BY a.user_id, q.subcategory ORDER BY a.recorded_at, a.id)
    ),
    follow_ups AS (
      -- The first attempt of a (learner, subcategory) in the window follows their last one before it,
      -- which the previous run left in follow_up_marks.
      SELECT COALESCE(s.previous_question, fm.question_id) AS id,
             count(*)::int AS n, count(*) FILTER (WHERE s.correct)::int AS n_correct
      FROM sequenced s
      -- Looked up by key, one per (learner, subcategory) of the window (OFFSET 0 keeps the lookup one):
      -- joined, the planner hashes every mark (300,000 on the bench) for a night's 12,000.
      LEFT JOIN LATERAL (SELECT fm.question_id FROM follow_up_marks fm
                         WHERE s.previous_question IS NULL AND fm.user_id = s.user_id AND fm.subcategory = s.subcategory
                         OFFSET 0) fm ON true
      WHERE COALESCE(s.previous_question, fm.question_id) IS NOT NULL
      GROUP BY 1
    ),
    marked AS (
      INSERT INTO follow_up_marks (user_id, subcategory, question_id, recorded_at)
      SELECT user_id, subcategory, question_id, recorded_at FROM sequenced WHERE last_of_window
      ON CONFLICT (user_id, subcategory) DO UPDATE
      SET question_id = EXCLUDED.question_id, recorded_at = EXCLUDED.recorded_at
    ),
    delta AS (
      SELECT COALESCE(c.id, f.id) AS id,
             COALESCE(c.n, 0) AS n, COALESCE(c.n_correct, 0) AS n_correct,
             COALESCE(c.x_n, 0) AS x_n, COALESCE(c.x_sum, 0) AS x_sum, COALESCE(c.x_sq_sum, 0) AS x_sq_sum,
             COALESCE(c.x_correct_n, 0) AS x_correct_n, COALESCE(c.x_correct_sum, 0) AS x_correct_sum,
             COALESCE(f.n, 0) AS f_n, COALESCE(f.n_correct, 0) AS f_correct
      FROM counts c FULL JOIN follow_ups f ON f.id = c.id
    )
    UPDATE questions q
    SET attempts_count = q.attempts_count + d.n,
        correct_count = q.correct_count + d.n_correct,
        mastery_n = q.mastery_n + d.x_n,
        mastery_sum = q.mastery_sum + d.x_sum,
        mastery_sq_sum = q.mastery_sq_sum + d.x_sq_sum,
        mastery_correct_n = q.mastery_correct_n + d.x_correct_n,
        mastery_correct_sum = q.mastery_correct_sum + d.x_correct_sum,
        follow_up_n = q.follow_up_n + d.f_n,
        follow_up_correct = q.follow_up_correct + d.f_correct
    FROM delta d
    WHERE q.id = d.id
    RETURNING q.subcategory`;
}

/** Statement 2: every question of the subcategories rescored from its sums; how many were. */
function rescore({ tx, at }: RunContext, subcategories: readonly string[]): Promise<number> {
  return tx.$executeRaw`
    WITH subcategory_accuracy AS (
      SELECT subcategory, sum(correct_count)::float8 / NULLIF(sum(attempts_count), 0) AS accuracy
      FROM questions WHERE subcategory = ANY(${subcategories}::text[])
      GROUP BY subcategory
    ),
    computed AS (
      SELECT q.id, q.subcategory,
             (q.attempts_count - q.correct_count + 1)::float8 / (q.attempts_count + 2) AS difficulty,
             CASE
               WHEN q.mastery_n < 2 OR q.mastery_correct_n = 0 OR q.mastery_correct_n = q.mastery_n THEN NULL
               WHEN m.mastery_variance < ${MIN_MASTERY_VARIANCE}::float8 THEN NULL
               ELSE LEAST(1::float8, GREATEST(-1::float8,
                      ((m.mean_mastery_correct - m.mean_mastery_wrong) / sqrt(m.mastery_variance))
                      * sqrt(m.share_correct * (1 - m.share_correct))))
             END AS discrimination,
             CASE
               WHEN q.follow_up_n = 0 THEN NULL
               ELSE (q.follow_up_correct::float8 / q.follow_up_n - s.accuracy)
                    * (q.follow_up_n::float8 / (q.follow_up_n + ${LEARNING_IMPACT_SHRINKAGE}::int))
             END AS learning_impact
      FROM questions q
      JOIN subcategory_accuracy s ON s.subcategory = q.subcategory
      -- The point-biserial's parts (NULL where a count is 0: the CASE above then never reads them).
      CROSS JOIN LATERAL (SELECT q.mastery_sum / NULLIF(q.mastery_n, 0) AS mean_mastery) mean
      CROSS JOIN LATERAL (
        SELECT q.mastery_sq_sum / NULLIF(q.mastery_n, 0) - mean.mean_mastery * mean.mean_mastery AS mastery_variance,
               q.mastery_correct_sum / NULLIF(q.mastery_correct_n, 0) AS mean_mastery_correct,
               (q.mastery_sum - q.mastery_correct_sum) / NULLIF(q.mastery_n - q.mastery_correct_n, 0)
                 AS mean_mastery_wrong,
               q.mastery_correct_n::float8 / NULLIF(q.mastery_n, 0) AS share_correct
      ) m
    ),
    scored AS (
      SELECT c.*, COALESCE(c.learning_impact, 0) + COALESCE(c.discrimination, 0) AS importance
      FROM computed c
    ),
    ranked AS (
      -- Rank-normalised within the subcategory, ties sharing the average of their ranks (rankNormalize).
      SELECT s.*,
             CASE WHEN count(*) OVER (PARTITION BY s.subcategory) = 1 THEN 0.5::float8
                  ELSE ((rank() OVER (PARTITION BY s.subcategory ORDER BY s.importance) - 1)
                        + (count(*) OVER (PARTITION BY s.subcategory, s.importance) - 1) / 2.0)::float8
                       / (count(*) OVER (PARTITION BY s.subcategory) - 1)
             END AS importance_index
      FROM scored s
    )
    UPDATE questions q
    SET difficulty = r.difficulty, discrimination = r.discrimination, learning_impact = r.learning_impact,
        importance_index = r.importance_index, stats_updated_at = ${at}::timestamptz
    FROM ranked r
    WHERE q.id = r.id
      AND ((q.difficulty, q.learning_impact, q.importance_index)
             IS DISTINCT FROM (r.difficulty, r.learning_impact, r.importance_index)
           -- The mastery sums are floats: added up in another order they differ in the last bits.
           OR (q.discrimination IS NULL) <> (r.discrimination IS NULL)
           OR abs(q.discrimination - r.discrimination) > ${SUM_ORDER_NOISE}::float8)`;
}
