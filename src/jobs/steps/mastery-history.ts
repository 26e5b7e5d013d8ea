// NIGHTLY step 5: MasteryHistory, stored sparse (docs/nightly-incremental.md). The history of a
// learner who practised (an attempt of MASTERY_CONTEXTS) in the 30 days before a night holds every
// subcategory's score at the close of that night; a learner away longer gets no entries until they
// return. Only the entries a read cannot derive are stored:
//
//   - the night is recorded in mastery_history_nights with `decayAt`, the latest MASTERY_DECAY
//     instant (the scores have been decayed up to it);
//   - a point (score, baseAt = the instant its decay is measured from, holdTo = the learner's last
//     attempt + 48 h: no decay reaches them before it, lastPracticedAt) is written for a row that
//     has none yet, of a learner with an attempt in the window (this night's EWMA moved it, or their
//     hold on decay moved), whose day already holds another point (a re-run of the date, an imported
//     point), or whose score is not the SPEC 3 decay of its latest point to the night's decayAt:
//         decayAt ≥ holdTo:  floor + (score − floor) · 2^(−max(0, decayAt − baseAt) / halfLife)
//         else:              score
//     (decay runs out of order, or anything else that moved a score).
//
// A read (src/domain/mastery-history.ts) fills each recorded night after a point with that formula.
// The comparison allows 1e-12: decay in several steps and in one differ in the last bits. Each row
// keeps its latest point on the masteries row (history_*), so the check is one pass over the
// active learners' rows. A full run writes a point for every row of every active learner, as the
// history was stored before: the reference (docs/nightly-incremental.md).
import { DECAY_STEP_NOISE } from '../../domain/mastery-history.ts';
import type { RunContext, StepStats } from '../context.ts';

export async function writeMasteryHistory(ctx: RunContext): Promise<StepStats> {
  const { tx, at, date, config, full } = ctx;
  // A backfill of a day that later runs have moved past would write later scores into it.
  if (ctx.stale) return { historyRowsWritten: 0 };
  const { decayFloor, halfLifeHours, inactiveAfterHours } = config.mastery;
  const [night] = await tx.$queryRaw<{ decay_at: Date | null }[]>`
    INSERT INTO mastery_history_nights (date, at, decay_at)
    SELECT ${date}::date, ${at}::timestamptz,
           (SELECT max(slot) FROM job_runs WHERE job = 'MASTERY_DECAY' AND status = 'SUCCEEDED')
    ON CONFLICT (date) DO UPDATE SET at = EXCLUDED.at, decay_at = EXCLUDED.decay_at
    RETURNING decay_at`;
  const decayAt = night?.decay_at ?? null;
  const rows = await tx.$executeRaw`
    WITH active AS (
      SELECT DISTINCT user_id FROM masteries
      WHERE last_practiced_at > ${at}::timestamptz - ${config.historyActiveDays}::int * interval '1 day'
    ),
    -- Learners with an attempt in the window: MASTERY_DECAY passes them by until 48 h after it.
    held AS (
      SELECT user_id, max(recorded_at) + ${inactiveAfterHours}::float8 * interval '1 hour' AS hold_to
      FROM attempts
      WHERE recorded_at > COALESCE(${ctx.windowStart}::timestamptz, '-infinity')
        AND recorded_at <= ${ctx.windowEnd}::timestamptz
      GROUP BY user_id
    ),
    -- Points of this day the formula does not account for: imported ones and those of a past run.
    taken AS (SELECT user_id, subcategory FROM mastery_history WHERE date = ${date}::date),
    due AS (
      SELECT m.user_id, m.subcategory, m.score, m.last_practiced_at,
             GREATEST(m.updated_at, m.decayed_at) AS base_at,
             COALESCE(h.hold_to, m.history_hold_to) AS hold_to
      FROM masteries m
      JOIN active USING (user_id)
      LEFT JOIN held h ON h.user_id = m.user_id
      LEFT JOIN taken t ON t.user_id = m.user_id AND t.subcategory = m.subcategory
      WHERE ${full}::boolean
         OR m.history_date IS NULL
         OR m.history_date >= ${date}::date
         OR t.user_id IS NOT NULL
         OR h.user_id IS NOT NULL
         OR abs(m.score - CASE
                  WHEN ${decayAt}::timestamptz >= COALESCE(m.history_hold_to, '-infinity')
                  THEN ${decayFloor}::float8 + (m.history_score - ${decayFloor}::float8)
                       * power(2::float8, -GREATEST(0::float8,
                               extract(epoch FROM ${decayAt}::timestamptz - m.history_base_at)::float8 / 3600)
                               / ${halfLifeHours}::float8)
                  ELSE m.history_score
                END) > ${DECAY_STEP_NOISE}::float8
    ),
    written AS (
      INSERT INTO mastery_history (user_id, subcategory, date, score, base_at, base_score, hold_to, last_practiced_at)
      SELECT user_id, subcategory, ${date}::date, score, base_at, score, hold_to, last_practiced_at FROM due
      ON CONFLICT (user_id, subcategory, date) DO UPDATE
      SET score = EXCLUDED.score, base_at = EXCLUDED.base_at, base_score = EXCLUDED.base_score,
          hold_to = EXCLUDED.hold_to, last_practiced_at = EXCLUDED.last_practiced_at
      RETURNING user_id, subcategory, score, base_at, hold_to
    )
    UPDATE masteries m
    SET history_date = ${date}::date, history_score = w.score, history_base_at = w.base_at,
        history_hold_to = w.hold_to
    FROM written w
    WHERE m.user_id = w.user_id AND m.subcategory = w.subcategory
      AND (m.history_date IS NULL OR m.history_date <= ${date}::date)`;
  return { historyRowsWritten: rows };
}
