// Part of NIGHTLY's activityRollup step: the cohort overview's preset ranges (the last 7, 30 and 90
// days up to the day of the run's instant in JOBS_TZ: the viewers' today until the next run), worked
// out again from daily_activity once the rollup has moved its mark. Per range, the attempts of every learner in each
// subcategory (cohort_range_subcategory_learners) and in each half of the range (cohort_range_learners);
// cohort_ranges says which ranges and as of which mark. The cohort overview reads these and the
// attempts recorded after the mark instead of grouping every learner's days (src/services/activity.ts,
// cohortLearners): at 90 days, 359,000 daily rows grouped into 278,000 per request.
import type { Transaction } from '../../db/types.ts';
import { addDays, localDate } from '../../domain/calendar.ts';
import { COHORT_PRESET_SPANS, rangeHalves } from '../../services/activity.ts';
import type { RunContext, StepStats } from '../context.ts';

export async function storeCohortRanges(ctx: RunContext): Promise<StepStats> {
  const { tx } = ctx;
  const to = localDate(ctx.at, ctx.config.timezone);
  const ranges = COHORT_PRESET_SPANS.map((span) => {
    const from = addDays(to, -(span - 1));
    return { span, from, to, ...rangeHalves(from, to) };
  });
  const column = <K extends keyof (typeof ranges)[number]>(key: K) => ranges.map((r) => r[key]);
  // New ranges under new ids first, then the old ones go: the new rows' keys never meet the old rows'
  // in the unique indexes (writing over keys just deleted checks each against its dead row: 3× slower).
  const stored = await tx.$queryRaw<{ id: number }[]>`
    INSERT INTO cohort_ranges (span, "from", "to", up_to)
    SELECT r.span, r.from, r.to, m.up_to
    FROM unnest(${column('span')}::int[], ${column('from')}::date[], ${column('to')}::date[]) AS r(span, "from", "to"),
         activity_rollup_mark m
    WHERE m.id = 1
    RETURNING id`;
  const ids = stored.map((r) => r.id);
  const pairs = await tx.$executeRaw`
    INSERT INTO cohort_range_subcategory_learners (range_id, subcategory, user_id, attempts, correct)
    SELECT r.id, d.subcategory, d.user_id, sum(d.attempts)::int, sum(d.correct)::int
    FROM cohort_ranges r JOIN daily_activity d ON d.date BETWEEN r."from" AND r."to"
    WHERE r.id = ANY(${ids}::int[])
    GROUP BY 1, 2, 3`;
  const learners = await tx.$executeRaw`
    INSERT INTO cohort_range_learners
      (range_id, user_id, first_attempts, first_correct, second_attempts, second_correct)
    SELECT r.id, d.user_id,
           COALESCE(sum(d.attempts) FILTER (WHERE d.date <= h.first_to), 0)::int,
           COALESCE(sum(d.correct) FILTER (WHERE d.date <= h.first_to), 0)::int,
           COALESCE(sum(d.attempts) FILTER (WHERE d.date >= h.second_from), 0)::int,
           COALESCE(sum(d.correct) FILTER (WHERE d.date >= h.second_from), 0)::int
    FROM cohort_ranges r
    JOIN unnest(${column('span')}::int[], ${column('firstTo')}::date[], ${column('secondFrom')}::date[])
           AS h(span, first_to, second_from) ON h.span = r.span
    JOIN daily_activity d ON d.date BETWEEN r."from" AND r."to"
    WHERE r.id = ANY(${ids}::int[])
    GROUP BY 1, 2`;
  await clearCohortRanges(tx, ids);
  return { cohortRangeSubcategoryRows: pairs, cohortRangeLearnerRows: learners };
}

/** Forgets the preset ranges but those of `keep` (the overview groups daily_activity until the next run). */
export async function clearCohortRanges(tx: Pick<Transaction, '$executeRaw'>, keep: number[] = []): Promise<void> {
  await tx.$executeRaw`DELETE FROM cohort_range_subcategory_learners WHERE range_id <> ALL(${keep}::int[])`;
  await tx.$executeRaw`DELETE FROM cohort_range_learners WHERE range_id <> ALL(${keep}::int[])`;
  await tx.$executeRaw`DELETE FROM cohort_ranges WHERE id <> ALL(${keep}::int[])`;
}
