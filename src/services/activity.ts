// Dashboard reads beyond the SPEC: a learner's activity per day, and a cohort overview for coaches.
// Each is one SQL statement, whatever the range or the number of learners.
//
// Days are calendar days in each learner's IANA time zone. An attempt falls on the day it was
// answered (answeredAt; recordedAt when absent); a session on the day it started.

import { endedSessionSeconds } from '../db/sql.ts';
import type { SqlClient } from '../db/types.ts';
import { type RangeHalf, riskReason } from '../domain/at-risk.ts';
import { addDays, daysBetween } from '../domain/calendar.ts';
import { Prisma } from '../generated/prisma/client.ts';
import { recordedBeforeAnsweredSlack } from './learning-patterns.ts';
import { zoneOrUtc } from './time-zones.ts';

/** The longest range activity and cohortOverview accept, in days (from and to included). */
export const MAX_RANGE_DAYS = 366;

/** Why a date range is refused, or null when it is fine. */
export function rangeProblem(from: string, to: string): string | null {
  const days = daysBetween(from, to) + 1;
  if (days < 1) return `from (${from}) must not be after to (${to}).`;
  if (days > MAX_RANGE_DAYS)
    return `The range ${from}..${to} has ${days} days; ask for at most ${MAX_RANGE_DAYS} at a time.`;
  return null;
}

export interface ActivityPoint {
  /** YYYY-MM-DD in the learner's time zone. */
  date: string;
  /** Sessions started that day. */
  sessions: number;
  /** Minutes of the ended sessions started that day. */
  minutes: number;
  /** Attempts answered that day, in any context. */
  attempts: number;
  /** correct ÷ attempts; null on a day without attempts. */
  accuracy: number | null;
}

/** One point per day from `from` to `to` (YYYY-MM-DD, inclusive), days without activity as zeros. */
export async function activityFor(db: SqlClient, userId: string, from: string, to: string): Promise<ActivityPoint[]> {
  const problem = rangeProblem(from, to);
  if (problem) throw new RangeError(problem);
  const rows = await db.$queryRaw<
    { date: string; sessions: number; minutes: number; attempts: number; correct: number }[]
  >`
    WITH u AS (
      SELECT id, ${zoneOrUtc(Prisma.sql`timezone`)} AS timezone,
             (${from}::date::timestamp AT TIME ZONE timezone) AS starts_at,
             ((${to}::date + 1)::timestamp AT TIME ZONE timezone) AS ends_at
      FROM users WHERE id = ${userId}::uuid
    ), a AS (
      SELECT (COALESCE(a.answered_at, a.recorded_at) AT TIME ZONE u.timezone)::date AS day,
             count(*)::int AS attempts, count(*) FILTER (WHERE a.correct)::int AS correct
      FROM u JOIN attempts a ON a.user_id = u.id
      WHERE a.recorded_at >= u.starts_at - ${recordedBeforeAnsweredSlack}::interval
        AND COALESCE(a.answered_at, a.recorded_at) >= u.starts_at
        AND COALESCE(a.answered_at, a.recorded_at) < u.ends_at
      GROUP BY 1
    ), s AS (
      SELECT (s.started_at AT TIME ZONE u.timezone)::date AS day, count(*)::int AS sessions,
             sum(CASE WHEN s.ended_at IS NULL THEN 0
                      ELSE ${endedSessionSeconds} END)::float8 / 60 AS minutes
      FROM u JOIN sessions s ON s.user_id = u.id
      WHERE s.started_at >= u.starts_at AND s.started_at < u.ends_at
      GROUP BY 1
    )
    SELECT to_char(d.day, 'YYYY-MM-DD') AS date, COALESCE(s.sessions, 0) AS sessions, COALESCE(s.minutes, 0) AS minutes,
           COALESCE(a.attempts, 0) AS attempts, COALESCE(a.correct, 0) AS correct
    FROM ${rangeDays(from, to)} d
    LEFT JOIN a ON a.day = d.day
    LEFT JOIN s ON s.day = d.day
    ORDER BY d.day`;
  return rows.map((r) => ({
    date: r.date,
    sessions: r.sessions,
    minutes: r.minutes,
    attempts: r.attempts,
    accuracy: r.attempts === 0 ? null : r.correct / r.attempts,
  }));
}

// ---------------------------------------------------------------------------------------------
// Cohort overview (coaches and admins): every learner (role LEARNER), each in their own time zone.

export interface CohortSubcategory {
  subcategory: string;
  /** Learners with at least one attempt in the subcategory in the range. */
  learners: number;
  attempts: number;
  accuracy: number;
  /** Mean current mastery of those learners (those without a mastery yet left out); null if none has one. */
  meanMastery: number | null;
  /** Minimum, quartiles and maximum of those masteries (empty when none has one). */
  masteryQuantiles: number[];
}

/** The quantiles of masteryQuantiles: minimum, lower quartile, median, upper quartile, maximum. */
export const MASTERY_QUANTILES = [0, 0.25, 0.5, 0.75, 1];

export interface CohortDay {
  /** YYYY-MM-DD, each learner's own calendar day. */
  date: string;
  attempts: number;
  /** correct ÷ attempts; null on a day without attempts. */
  accuracy: number | null;
  /** Learners with an attempt that day. */
  activeLearners: number;
  /** Sessions learners started that day. */
  sessions: number;
}

/**
 * Every day of the range (zeros included): the learners' attempts, accuracy and sessions. The days'
 * totals come from daily_cohort_activity (the sums of daily_activity, and the sessions), plus the
 * attempts and sessions recorded after the rollup's mark; a learner of those attempts counts as active
 * only where the rollup has no row of theirs that day.
 */
export async function cohortDays(db: SqlClient, from: string, to: string): Promise<CohortDay[]> {
  const problem = rangeProblem(from, to);
  if (problem) throw new RangeError(problem);
  const mark = await rollupMark(db);
  const rows = await db.$queryRaw<
    { date: string; attempts: number; correct: number; learners: number; sessions: number }[]
  >`
    WITH recent AS (${recentActivity(from, to, mark)}),
    recent_learner_days AS (
      SELECT r.day, r.user_id, sum(r.attempts)::int AS attempts, sum(r.correct)::int AS correct,
             NOT EXISTS (SELECT 1 FROM daily_activity d WHERE d.date = r.day AND d.user_id = r.user_id) AS new
      FROM recent r GROUP BY 1, 2
    ), recent_days AS (
      SELECT day, sum(attempts)::int AS attempts, sum(correct)::int AS correct,
             count(*) FILTER (WHERE new)::int AS learners
      FROM recent_learner_days GROUP BY day
    ), s AS (
      -- The sessions recorded after the mark (the recorded_at index), on their learner's day.
      SELECT x.day, count(*)::int AS sessions
      FROM (
        SELECT (s.started_at AT TIME ZONE ${zoneOrUtc(Prisma.sql`u.timezone`)})::date AS day
        FROM sessions s JOIN users u ON u.id = s.user_id AND u.role = 'LEARNER'
        WHERE s.recorded_at > COALESCE(${mark}::timestamptz, '-infinity'::timestamptz)
          AND s.started_at >= (${from}::date::timestamp AT TIME ZONE 'UTC') - interval '14 hours'
          AND s.started_at < ((${to}::date + 1)::timestamp AT TIME ZONE 'UTC') + interval '12 hours'
      ) x
      GROUP BY x.day -- the days around the range too: the join to the range's days drops them
    )
    SELECT to_char(d.day, 'YYYY-MM-DD') AS date,
           (COALESCE(c.attempts, 0) + COALESCE(r.attempts, 0))::int AS attempts,
           (COALESCE(c.correct, 0) + COALESCE(r.correct, 0))::int AS correct,
           (COALESCE(c.learners, 0) + COALESCE(r.learners, 0))::int AS learners,
           (COALESCE(c.sessions, 0) + COALESCE(s.sessions, 0))::int AS sessions
    FROM ${rangeDays(from, to)} d
    LEFT JOIN daily_cohort_activity c ON c.date = d.day
    LEFT JOIN recent_days r ON r.day = d.day
    LEFT JOIN s ON s.day = d.day
    ORDER BY d.day`;
  return rows.map((r) => ({
    date: r.date,
    attempts: r.attempts,
    accuracy: r.attempts === 0 ? null : r.correct / r.attempts,
    activeLearners: r.learners,
    sessions: r.sessions,
  }));
}

/** A learner's accuracy drop counts from 15 points, comparing halves of at least 5 attempts each. */
export const ACCURACY_DROP_THRESHOLD = 0.15;
/** Activity (attempts) counts as dropped when the second half has at most half the first's. */
export const ACTIVITY_DROP_THRESHOLD = 0.5;
/** Attempts a half needs before its accuracy or activity is compared. */
export const MIN_HALF_ATTEMPTS = 5;
export const AT_RISK_LIMIT = 10;

export interface AtRiskLearner {
  userId: string;
  /** Accuracy of the first half minus the second's (positive: it dropped); null with too few attempts. */
  accuracyDrop: number | null;
  /** 1 − second-half attempts ÷ first-half attempts (1: stopped); null with too few first-half attempts. */
  activityDrop: number | null;
  reason: string;
  firstHalf: RangeHalf;
  secondHalf: RangeHalf;
}

export interface CohortLearners {
  /** Per subcategory practised in the range, by subcategory name. */
  subcategories: CohortSubcategory[];
  /**
   * The learners whose accuracy or activity dropped most from the first half of the range to the
   * second (halves of equal length; the middle day of an odd range belongs to neither), ranked by how
   * far past its threshold the larger drop is, at most `limit`. Empty for a one-day range.
   */
  atRisk: AtRiskLearner[];
}

/** The cohort overview's preset ranges, in days up to today: NIGHTLY works their figures out ahead. */
export const COHORT_PRESET_SPANS = [7, 30, 90];

/**
 * The halves of a range compared for the at-risk list: equal lengths, the middle day of an odd range in
 * neither. A one-day range has none: firstTo before from and secondFrom after to leave both empty.
 */
export function rangeHalves(from: string, to: string): { firstTo: string; secondFrom: string } {
  const half = Math.floor((daysBetween(from, to) + 1) / 2);
  return { firstTo: addDays(from, half - 1), secondFrom: addDays(to, -(half - 1)) };
}

/**
 * The cohort's figures that need each learner's rows over the range: the subcategories and who is at
 * risk, in one statement sharing one aggregate per (learner, subcategory) with both halves' sums. A
 * preset range NIGHTLY worked out as of the current rollup mark (cohort_ranges) is read from its rows
 * plus the attempts recorded after the mark; any other range from daily_activity and those attempts.
 */
export async function cohortLearners(
  db: SqlClient,
  from: string,
  to: string,
  limit = AT_RISK_LIMIT,
): Promise<CohortLearners> {
  const problem = rangeProblem(from, to);
  if (problem) throw new RangeError(problem);
  const { firstTo, secondFrom } = rangeHalves(from, to);
  const [state] = await db.$queryRaw<{ mark: Date | null; range: number | null }[]>`
    SELECT m.up_to AS mark, r.id AS range
    FROM (SELECT 1) one
    LEFT JOIN activity_rollup_mark m ON m.id = 1
    LEFT JOIN cohort_ranges r ON r."from" = ${from}::date AND r."to" = ${to}::date AND r.up_to = m.up_to`;
  const mark = state?.mark ?? null;
  const halvesOf = (day: Prisma.Sql) => Prisma.sql`
    sum(attempts) FILTER (WHERE ${day} <= ${firstTo}::date)::int AS n1,
    sum(correct) FILTER (WHERE ${day} <= ${firstTo}::date)::int AS c1,
    sum(attempts) FILTER (WHERE ${day} >= ${secondFrom}::date)::int AS n2,
    sum(correct) FILTER (WHERE ${day} >= ${secondFrom}::date)::int AS c2`;
  // The mean in numeric: its sum does not depend on the order rows come in, so both ways agree to the bit.
  const mastery = Prisma.sql`
    avg(m.score::numeric) FILTER (WHERE p.member)::float8 AS "meanMastery",
    COALESCE(percentile_cont(${MASTERY_QUANTILES}::float8[]) WITHIN GROUP (ORDER BY m.score) FILTER (WHERE p.member),
             '{}') AS "masteryQuantiles"`;
  // Both ways end in `subcategories` and `halves` (user_id, n1, c1, n2, c2 as bigint).
  const figures =
    state?.range != null
      ? Prisma.sql`
    recent AS MATERIALIZED (${recentActivity(from, to, mark)}),
    pairs AS (
      -- Every learner who practised a subcategory (member) with their attempts; a recent learner is
      -- one more only where the range's rows have none of theirs in it.
      SELECT p.subcategory, p.user_id, p.attempts, p.correct, true AS member
      FROM cohort_range_subcategory_learners p WHERE p.range_id = ${state.range}
      UNION ALL
      SELECT r.subcategory, r.user_id, sum(r.attempts)::int, sum(r.correct)::int,
             NOT EXISTS (SELECT 1 FROM cohort_range_subcategory_learners p
                         WHERE p.range_id = ${state.range} AND p.subcategory = r.subcategory AND p.user_id = r.user_id)
      FROM recent r GROUP BY 1, 2
    ), subcategories AS (
      SELECT p.subcategory, count(*) FILTER (WHERE p.member)::int AS learners, sum(p.attempts)::int AS attempts,
             (sum(p.correct)::float8 / sum(p.attempts)) AS accuracy, ${mastery}
      FROM pairs p LEFT JOIN masteries m ON m.user_id = p.user_id AND m.subcategory = p.subcategory
      GROUP BY p.subcategory
    ), recent_halves AS (
      SELECT user_id, ${halvesOf(Prisma.sql`day`)} FROM recent GROUP BY user_id
    ), halves AS (
      SELECT COALESCE(l.user_id, r.user_id) AS user_id,
             (COALESCE(l.first_attempts, 0) + COALESCE(r.n1, 0))::bigint AS n1,
             (COALESCE(l.first_correct, 0) + COALESCE(r.c1, 0))::bigint AS c1,
             (COALESCE(l.second_attempts, 0) + COALESCE(r.n2, 0))::bigint AS n2,
             (COALESCE(l.second_correct, 0) + COALESCE(r.c2, 0))::bigint AS c2
      FROM (SELECT * FROM cohort_range_learners WHERE range_id = ${state.range}) l
      FULL JOIN recent_halves r ON r.user_id = l.user_id
    )`
      : Prisma.sql`
    r AS (${rangeActivity(from, to, mark)}),
    per_learner AS MATERIALIZED (
      SELECT subcategory, user_id, sum(attempts)::int AS attempts, sum(correct)::int AS correct, true AS member,
             ${halvesOf(Prisma.sql`day`)}
      FROM r GROUP BY 1, 2
    ), subcategories AS (
      SELECT p.subcategory, count(*)::int AS learners, sum(p.attempts)::int AS attempts,
             (sum(p.correct)::float8 / sum(p.attempts)) AS accuracy, ${mastery}
      FROM per_learner p LEFT JOIN masteries m ON m.user_id = p.user_id AND m.subcategory = p.subcategory
      GROUP BY p.subcategory
    ), halves AS (
      SELECT user_id, COALESCE(sum(n1), 0)::bigint AS n1, COALESCE(sum(c1), 0)::bigint AS c1,
             COALESCE(sum(n2), 0)::bigint AS n2, COALESCE(sum(c2), 0)::bigint AS c2
      FROM per_learner GROUP BY user_id
    )`;
  // Thresholds compared in integers (c1/n1 − c2/n2 ≥ 3/20 ⇔ 20(c1·n2 − c2·n1) ≥ 3·n1·n2), so a drop
  // of exactly 15 points or exactly half counts, whatever floating point would make of it.
  const [row] = await db.$queryRaw<{ subcategories: CohortSubcategory[]; at_risk: AtRiskRow[] }[]>`
    WITH ${figures}, flagged AS (
      SELECT h.*,
             (h.n1 >= ${MIN_HALF_ATTEMPTS} AND h.n2 >= ${MIN_HALF_ATTEMPTS}
              AND 20 * (h.c1 * h.n2 - h.c2 * h.n1) >= 3 * h.n1 * h.n2) AS accuracy_flag,
             (h.n1 >= ${MIN_HALF_ATTEMPTS} AND 2 * h.n2 <= h.n1) AS activity_flag
      FROM halves h
    ), ranked AS (
      -- The names break ties only: read them for the top scores (ties included), not for everyone.
      SELECT f.*,
             GREATEST(
               CASE WHEN f.accuracy_flag
                    THEN (f.c1::float8 / f.n1 - f.c2::float8 / f.n2) / ${ACCURACY_DROP_THRESHOLD} ELSE 0 END,
               CASE WHEN f.activity_flag THEN (1 - f.n2::float8 / f.n1) / ${ACTIVITY_DROP_THRESHOLD} ELSE 0 END)
               AS score
      FROM flagged f
      WHERE f.accuracy_flag OR f.activity_flag
      ORDER BY score DESC
      FETCH FIRST (${limit}) ROWS WITH TIES
    ), at_risk AS (
      SELECT f.user_id::text AS user_id, f.n1::int AS n1, f.c1::int AS c1, f.n2::int AS n2, f.c2::int AS c2,
             f.accuracy_flag, f.activity_flag, row_number() OVER (ORDER BY f.score DESC, u.name, u.id) AS rank
      FROM ranked f JOIN users u ON u.id = f.user_id
      ORDER BY rank
      LIMIT ${limit}
    )
    SELECT (SELECT COALESCE(json_agg(s ORDER BY s.subcategory), '[]') FROM subcategories s) AS subcategories,
           (SELECT COALESCE(json_agg(a ORDER BY a.rank), '[]') FROM at_risk a) AS at_risk`;
  const firstHalf = (r: AtRiskRow): RangeHalf => ({ from, to: firstTo, attempts: r.n1, correct: r.c1 });
  const secondHalf = (r: AtRiskRow): RangeHalf => ({ from: secondFrom, to, attempts: r.n2, correct: r.c2 });
  return {
    subcategories: row!.subcategories,
    atRisk: row!.at_risk.map((r) => ({
      userId: r.user_id,
      accuracyDrop: r.n1 >= MIN_HALF_ATTEMPTS && r.n2 >= MIN_HALF_ATTEMPTS ? r.c1 / r.n1 - r.c2 / r.n2 : null,
      activityDrop: r.n1 >= MIN_HALF_ATTEMPTS ? 1 - r.n2 / r.n1 : null,
      reason: riskReason(r.accuracy_flag, r.activity_flag, firstHalf(r), secondHalf(r)),
      firstHalf: firstHalf(r),
      secondHalf: secondHalf(r),
    })),
  };
}

interface AtRiskRow {
  user_id: string;
  n1: number;
  c1: number;
  n2: number;
  c2: number;
  accuracy_flag: boolean;
  activity_flag: boolean;
}

/** Every day from `from` to `to` (inclusive) as rows of `day`, to join each day's figures to. */
function rangeDays(from: string, to: string) {
  return Prisma.sql`(SELECT g::date AS day FROM generate_series(${from}::date, ${to}::date, interval '1 day') AS g)`;
}

/** Up to when daily_activity holds the attempts (null before the first NIGHTLY run with it). */
async function rollupMark(db: SqlClient): Promise<Date | null> {
  const [row] = await db.$queryRaw<{ up_to: Date }[]>`SELECT up_to FROM activity_rollup_mark WHERE id = 1`;
  return row?.up_to ?? null;
}

/**
 * The learners' attempts answered on a day of the range in their own time zone, counted per
 * (user_id, subcategory, day): attempts, correct. The attempts recorded up to the rollup's mark come
 * from daily_activity (NIGHTLY's activityRollup step); those recorded after it from recentActivity.
 */
function rangeActivity(from: string, to: string, mark: Date | null) {
  return Prisma.sql`
    SELECT d.user_id, d.subcategory, d.date AS day, d.attempts, d.correct
    FROM daily_activity d
    WHERE d.date BETWEEN ${from}::date AND ${to}::date
    UNION ALL
    ${recentActivity(from, to, mark)}`;
}

/**
 * The attempts recorded after the rollup's mark (the day so far, or everything before a first
 * NIGHTLY) answered on a day of the range, counted per (user_id, subcategory, day). The mark is read
 * first and passed as a value, so the planner sees how few attempts this reads. The bounds on the
 * instants hold for every zone (UTC−12 to UTC+14) so that the recorded_at index narrows the scan
 * before the per-learner day is worked out.
 */
function recentActivity(from: string, to: string, mark: Date | null) {
  return Prisma.sql`
    SELECT x.user_id, x.subcategory, x.day, count(*)::int AS attempts, count(*) FILTER (WHERE x.correct)::int AS correct
    FROM (
      SELECT a.user_id, q.subcategory, a.correct,
             (COALESCE(a.answered_at, a.recorded_at) AT TIME ZONE ${zoneOrUtc(Prisma.sql`u.timezone`)})::date AS day
      FROM attempts a
      JOIN users u ON u.id = a.user_id AND u.role = 'LEARNER'
      JOIN questions q ON q.id = a.question_id
      WHERE a.recorded_at > COALESCE(${mark}::timestamptz, '-infinity'::timestamptz)
        AND a.recorded_at >= (${from}::date::timestamp AT TIME ZONE 'UTC') - interval '14 hours'
                             - ${recordedBeforeAnsweredSlack}::interval
        AND COALESCE(a.answered_at, a.recorded_at)
            >= (${from}::date::timestamp AT TIME ZONE 'UTC') - interval '14 hours'
        AND COALESCE(a.answered_at, a.recorded_at)
            < ((${to}::date + 1)::timestamp AT TIME ZONE 'UTC') + interval '12 hours'
    ) x
    WHERE x.day BETWEEN ${from}::date AND ${to}::date
    GROUP BY 1, 2, 3`;
}
