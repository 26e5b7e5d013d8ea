// NIGHTLY step 4: MasteryHistory. One row per (user, subcategory, run date) holding the score at the
// close of that day, for every subcategory of the learners who practised (an attempt of
// MASTERY_CONTEXTS) in the 30 days before the run: the learners whose scores move, by practice or
// by decay. A learner away longer gets no new points until they return, so the table grows with
// activity, not with the user count; the score on a day without a point is the latest earlier one.
// A re-run of the same date overwrites its rows.
import type { RunContext, StepStats } from '../context.ts';

export async function writeMasteryHistory(ctx: RunContext): Promise<StepStats> {
  const { tx, at, date, config } = ctx;
  // A backfill of a day that later runs have moved past would write later scores into it.
  if (ctx.stale) return { historyRowsWritten: 0 };
  const rows = await tx.$executeRaw`
    INSERT INTO mastery_history (user_id, subcategory, date, score)
    SELECT m.user_id, m.subcategory, ${date}::date, m.score
    FROM masteries m
    WHERE m.user_id IN (
      SELECT p.user_id FROM masteries p
      WHERE p.last_practiced_at > ${at}::timestamptz - ${config.historyActiveDays}::int * interval '1 day')
    ON CONFLICT (user_id, subcategory, date) DO UPDATE SET score = EXCLUDED.score
    WHERE mastery_history.score IS DISTINCT FROM EXCLUDED.score`;
  return { historyRowsWritten: rows };
}
