// Part of NIGHTLY's activityRollup step: the cohort overview's preset ranges (the last 7, 30 and 90
// days up to the day of the run's instant in JOBS_TZ: the viewers' today until the next run), moved to
// the run's day once the rollup has moved its mark. Per range, the attempts of every learner in each
// subcategory (cohort_range_subcategory_learners) and in each half of the range (cohort_range_learners;
// a learner with no attempt in either half has no row); cohort_ranges says which ranges and as of which
// mark. The cohort overview reads these and the attempts recorded after the mark instead of grouping
// every learner's days (src/services/activity.ts, cohortLearners): at 90 days, 359,000 daily rows
// grouped into 278,000 per request.
//
// A range as of the mark before this run, at most MAX_SHIFT_DAYS behind, is shifted: its rows gain
// this run's rows (activity_added) on its old days and daily_activity's rows of the days that entered
// it (or one of its halves), and lose those of the days that left; so a night costs the day's rows,
// not the population's. Any other (the first run, after a gap or a rebuild) is worked out in full.

import type { Transaction } from '../../db/types.ts';
import { addDays, daysBetween, localDate } from '../../domain/calendar.ts';
import { Prisma } from '../../generated/prisma/client.ts';
import { COHORT_PRESET_SPANS, rangeHalves } from '../../services/activity.ts';
import type { RunContext, StepStats } from '../context.ts';

/** A run that comes after a missed night still shifts; after longer, working a range out is as cheap. */
const MAX_SHIFT_DAYS = 2;

export interface StoredRange {
  id: number;
  span: number;
  from: string;
  to: string;
}

interface Range {
  from: string;
  to: string;
  firstTo: string;
  secondFrom: string;
}

/** The preset ranges as of the rollup's mark; read before a run moves it, the ones it may shift. */
export async function rangesAsOfMark(tx: Pick<Transaction, '$queryRaw'>): Promise<StoredRange[]> {
  return tx.$queryRaw<StoredRange[]>`
    SELECT r.id, r.span, to_char(r."from", 'YYYY-MM-DD') AS "from", to_char(r."to", 'YYYY-MM-DD') AS "to"
    FROM cohort_ranges r JOIN activity_rollup_mark m ON m.id = 1 AND m.up_to = r.up_to`;
}

export async function storeCohortRanges(ctx: RunContext, previous: StoredRange[]): Promise<StepStats> {
  const to = localDate(ctx.at, ctx.config.timezone);
  const shifts: { id: number; old: Range; next: Range }[] = [];
  const builds: (Range & { span: number })[] = [];
  for (const span of COHORT_PRESET_SPANS) {
    const from = addDays(to, -(span - 1));
    const next = { from, to, ...rangeHalves(from, to) };
    const old = previous.find((r) => r.span === span);
    const shift = old ? daysBetween(old.to, to) : -1;
    if (old && shift >= 0 && shift <= MAX_SHIFT_DAYS) {
      shifts.push({ id: old.id, old: { from: old.from, to: old.to, ...rangeHalves(old.from, old.to) }, next });
    } else builds.push({ span, ...next });
  }
  const shifted = shifts.length > 0 ? await shiftRanges(ctx.tx, shifts) : { pairs: 0, learners: 0 };
  const built = builds.length > 0 ? await buildRanges(ctx.tx, builds) : { ids: [], pairs: 0, learners: 0 };
  await clearCohortRanges(ctx.tx, [...shifts.map((s) => s.id), ...built.ids]);
  return {
    cohortRangesShifted: shifts.length,
    cohortRangesBuilt: builds.length,
    cohortRangeSubcategoryRows: shifted.pairs + built.pairs,
    cohortRangeLearnerRows: shifted.learners + built.learners,
  };
}

/** The days of daily_activity (alias d) that entered [newLo, newHi] or left [oldLo, oldHi]: columns of `shifts`. */
const entered = (oldHi: string, newLo: string, newHi: string) =>
  `d.date BETWEEN GREATEST(s.${oldHi} + 1, s.${newLo}) AND s.${newHi}`;
const left = (oldLo: string, oldHi: string, newLo: string) =>
  `d.date BETWEEN s.${oldLo} AND LEAST(s.${newLo} - 1, s.${oldHi})`;

/**
 * Shifts ranges in place. A key's new sum over the new days is its old sum, plus this run's rows on the
 * old days (the late attempts), plus daily_activity's rows (as of the new mark) on the days that entered,
 * minus those on the days that left (less this run's rows there, already added on the old days). Only
 * the keys these rows name are written; those that reach zero are deleted, as a full build has none.
 */
async function shiftRanges(
  tx: RunContext['tx'],
  shifts: { id: number; old: Range; next: Range }[],
): Promise<{ pairs: number; learners: number }> {
  const column = (f: (s: (typeof shifts)[number]) => string) => shifts.map(f);
  const ranges = Prisma.sql`shifts AS (
    SELECT * FROM unnest(${shifts.map((s) => s.id)}::int[],
      ${column((s) => s.old.from)}::date[], ${column((s) => s.old.firstTo)}::date[],
      ${column((s) => s.old.secondFrom)}::date[], ${column((s) => s.old.to)}::date[],
      ${column((s) => s.next.from)}::date[], ${column((s) => s.next.firstTo)}::date[],
      ${column((s) => s.next.secondFrom)}::date[], ${column((s) => s.next.to)}::date[])
      AS s(id, old_from, old_first_to, old_second_from, old_to, new_from, new_first_to, new_second_from, new_to)
  )`;
  const dayRows = (days: string, sign: string) =>
    Prisma.raw(`SELECT s.id, d.subcategory, d.user_id, ${sign}d.attempts, ${sign}d.correct
      FROM shifts s JOIN daily_activity d ON ${days}`);
  const [pairs] = await tx.$queryRaw<Zeroed[]>`
    WITH ${ranges}, delta AS (
      SELECT id, subcategory, user_id, sum(attempts)::int AS attempts, sum(correct)::int AS correct
      FROM (
        SELECT s.id, a.subcategory, a.user_id, a.attempts, a.correct
        FROM shifts s JOIN activity_added a ON a.date BETWEEN s.old_from AND s.old_to
        UNION ALL ${dayRows(entered('old_to', 'new_from', 'new_to'), '')}
        UNION ALL ${dayRows(left('old_from', 'old_to', 'new_from'), '-')}
      ) x(id, subcategory, user_id, attempts, correct)
      GROUP BY 1, 2, 3
      HAVING sum(attempts) <> 0 OR sum(correct) <> 0
    ), written AS (
      INSERT INTO cohort_range_subcategory_learners AS p (range_id, subcategory, user_id, attempts, correct)
      SELECT id, subcategory, user_id, attempts, correct FROM delta
      ON CONFLICT (range_id, subcategory, user_id)
      DO UPDATE SET attempts = p.attempts + EXCLUDED.attempts, correct = p.correct + EXCLUDED.correct
      RETURNING p.range_id, p.subcategory, p.user_id, p.attempts = 0 AS zero
    )
    SELECT count(*)::int AS rows,
           COALESCE(array_agg(range_id) FILTER (WHERE zero), '{}') AS ids,
           COALESCE(array_agg(subcategory) FILTER (WHERE zero), '{}') AS subcategories,
           COALESCE(array_agg(user_id::text) FILTER (WHERE zero), '{}') AS users
    FROM written`;
  // Each zeroed row found by its key (OFFSET 0 keeps the lookup one), then deleted by its ctid: joined, the
  // planner hashes the whole table (650,000 rows on the bench) for the night's 18,000 keys.
  await tx.$executeRaw`
    DELETE FROM cohort_range_subcategory_learners
    WHERE ctid = ANY(ARRAY(
      SELECT x.ctid
      FROM unnest(${pairs!.ids}::int[], ${pairs!.subcategories}::text[], ${pairs!.users}::uuid[])
        AS z(id, subcategory, user_id)
      CROSS JOIN LATERAL (SELECT p.ctid FROM cohort_range_subcategory_learners p
                          WHERE p.range_id = z.id AND p.subcategory = z.subcategory AND p.user_id = z.user_id
                          OFFSET 0) x))`;
  // The halves move too: a day enters the first half as the day before it leaves, one crosses the middle.
  const halfRows = (days: string, sign: string, half: 1 | 2) => {
    const sums = `${sign}d.attempts, ${sign}d.correct`;
    return Prisma.raw(`SELECT s.id, d.user_id, ${half === 1 ? `${sums}, 0, 0` : `0, 0, ${sums}`}
      FROM shifts s JOIN daily_activity d ON ${days}`);
  };
  const [learners] = await tx.$queryRaw<Zeroed[]>`
    WITH ${ranges}, delta AS (
      SELECT id, user_id, sum(n1)::int AS n1, sum(c1)::int AS c1, sum(n2)::int AS n2, sum(c2)::int AS c2
      FROM (
        SELECT s.id, a.user_id,
               CASE WHEN a.date <= s.old_first_to THEN a.attempts ELSE 0 END,
               CASE WHEN a.date <= s.old_first_to THEN a.correct ELSE 0 END,
               CASE WHEN a.date >= s.old_second_from THEN a.attempts ELSE 0 END,
               CASE WHEN a.date >= s.old_second_from THEN a.correct ELSE 0 END
        FROM shifts s JOIN activity_added a ON a.date BETWEEN s.old_from AND s.old_to
        UNION ALL ${halfRows(entered('old_first_to', 'new_from', 'new_first_to'), '', 1)}
        UNION ALL ${halfRows(left('old_from', 'old_first_to', 'new_from'), '-', 1)}
        UNION ALL ${halfRows(entered('old_to', 'new_second_from', 'new_to'), '', 2)}
        UNION ALL ${halfRows(left('old_second_from', 'old_to', 'new_second_from'), '-', 2)}
      ) x(id, user_id, n1, c1, n2, c2)
      GROUP BY 1, 2
      HAVING sum(n1) <> 0 OR sum(c1) <> 0 OR sum(n2) <> 0 OR sum(c2) <> 0
    ), written AS (
      INSERT INTO cohort_range_learners AS l
        (range_id, user_id, first_attempts, first_correct, second_attempts, second_correct)
      SELECT id, user_id, n1, c1, n2, c2 FROM delta
      ON CONFLICT (range_id, user_id) DO UPDATE
      SET first_attempts = l.first_attempts + EXCLUDED.first_attempts,
          first_correct = l.first_correct + EXCLUDED.first_correct,
          second_attempts = l.second_attempts + EXCLUDED.second_attempts,
          second_correct = l.second_correct + EXCLUDED.second_correct
      RETURNING l.range_id, l.user_id, l.first_attempts = 0 AND l.second_attempts = 0 AS zero
    )
    SELECT count(*)::int AS rows,
           COALESCE(array_agg(range_id) FILTER (WHERE zero), '{}') AS ids,
           COALESCE(array_agg(user_id::text) FILTER (WHERE zero), '{}') AS users
    FROM written`;
  await tx.$executeRaw`
    DELETE FROM cohort_range_learners
    WHERE ctid = ANY(ARRAY(
      SELECT x.ctid FROM unnest(${learners!.ids}::int[], ${learners!.users}::uuid[]) AS z(id, user_id)
      CROSS JOIN LATERAL (SELECT l.ctid FROM cohort_range_learners l WHERE l.range_id = z.id AND l.user_id = z.user_id
                          OFFSET 0) x))`;
  await tx.$executeRaw`
    WITH ${ranges}
    UPDATE cohort_ranges r SET "from" = s.new_from, "to" = s.new_to, up_to = m.up_to
    FROM shifts s, activity_rollup_mark m
    WHERE r.id = s.id AND m.id = 1`;
  return { pairs: pairs!.rows, learners: learners!.rows };
}

/** What a shift wrote, and the keys of the rows it brought to zero. */
interface Zeroed {
  rows: number;
  ids: number[];
  subcategories: string[];
  users: string[];
}

/** Works ranges out in full from daily_activity, under new ids (the old ones are deleted after). */
async function buildRanges(
  tx: RunContext['tx'],
  ranges: (Range & { span: number })[],
): Promise<{ ids: number[]; pairs: number; learners: number }> {
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
    WHERE r.id = ANY(${ids}::int[]) AND (d.date <= h.first_to OR d.date >= h.second_from)
    GROUP BY 1, 2`;
  return { ids, pairs, learners };
}

/** Forgets the preset ranges but those of `keep` (the overview groups daily_activity until the next run). */
export async function clearCohortRanges(
  tx: Pick<Transaction, '$queryRaw' | '$executeRaw'>,
  keep: number[] = [],
): Promise<void> {
  // By the ranges' ids, through the primary keys: a night that shifts every range reads none of their rows.
  const gone = await tx.$queryRaw<
    { id: number }[]
  >`DELETE FROM cohort_ranges WHERE id <> ALL(${keep}::int[]) RETURNING id`;
  const ids = gone.map((r) => r.id);
  if (ids.length === 0) return;
  await tx.$executeRaw`DELETE FROM cohort_range_subcategory_learners WHERE range_id = ANY(${ids}::int[])`;
  await tx.$executeRaw`DELETE FROM cohort_range_learners WHERE range_id = ANY(${ids}::int[])`;
}
