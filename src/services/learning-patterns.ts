// SPEC 4.3 — learning patterns over the last N days. SQL aggregates the window (two statements for
// any number of learners: per session, and per hour / day / subcategory-day in one GROUPING SETS
// pass over the attempts); the pure computeLearningPatterns decides. The API reads one learner; the
// nightly job passes a chunk of learners to learningPatternsForUsers and stores the results.
//
// The window: the last `days` calendar days in the learner's IANA time zone, today included, up to
// `now` — from local midnight of (today − days + 1) to `now`. An attempt counts by when it was
// answered (answeredAt; recordedAt when absent), bucketed into local hours and dates with
// `AT TIME ZONE`, so half-hour zones and DST days come out right. A session counts when it started in
// the window and ended by `now`.

import { endedSessionSeconds } from '../db/sql.ts';
import type { SqlClient } from '../db/types.ts';
import {
  computeLearningPatterns,
  type DayAggregate,
  type HourAggregate,
  type LearningPatternsInput,
  type LearningPatternsResult,
  type SessionAggregate,
  type SubcategoryDayAggregate,
} from '../domain/learning-patterns.ts';
import { Prisma } from '../generated/prisma/client.ts';
import { zoneOrUtc } from './time-zones.ts';

export const MIN_PATTERN_DAYS = 1;
export const MAX_PATTERN_DAYS = 90;
export const DEFAULT_PATTERN_DAYS = 7;

/** Learners per pair of statements in learningPatternsForUsers. */
const chunkSize = 500;

export function isPatternWindow(days: number): boolean {
  return Number.isInteger(days) && days >= MIN_PATTERN_DAYS && days <= MAX_PATTERN_DAYS;
}

/** One learner's patterns; null when there is no such user. */
export async function learningPatternsFor(
  db: SqlClient,
  userId: string,
  days: number,
  now: Date = new Date(),
): Promise<LearningPatternsResult | null> {
  const id = userId.toLowerCase();
  return (await learningPatternsForUsers(db, [id], days, now)).get(id) ?? null;
}

/**
 * Patterns of many learners (user id → patterns; ids that are not users are left out), two
 * statements per 500 learners whatever their history.
 */
export async function learningPatternsForUsers(
  db: SqlClient,
  userIds: readonly string[],
  days: number,
  now: Date = new Date(),
  /** The caller has checked that every one of these learners' zones is known to the database. */
  zonesChecked = false,
): Promise<Map<string, LearningPatternsResult>> {
  checkPatternWindow(days);
  const result = new Map<string, LearningPatternsResult>();
  for (const chunk of patternChunks(userIds)) {
    const inputs = await aggregateWindow(db, chunk, days, now, zonesChecked);
    for (const [userId, input] of inputs) result.set(userId, computeLearningPatterns(input));
  }
  return result;
}

/** The ids (lower case, as PostgreSQL prints uuids, each once) in chunks of learningPatternInputs' size. */
export function patternChunks(userIds: readonly string[]): string[][] {
  const unique = [...new Set(userIds.map((id) => id.toLowerCase()))];
  const chunks: string[][] = [];
  for (let i = 0; i < unique.length; i += chunkSize) chunks.push(unique.slice(i, i + chunkSize));
  return chunks;
}

/**
 * What computeLearningPatterns takes for each of these learners (at most a chunk of them; ids as
 * patternChunks gives them), in two statements.
 */
export async function learningPatternInputs(
  db: SqlClient,
  userIds: readonly string[],
  days: number,
  now: Date,
  zonesChecked: boolean,
): Promise<Map<string, LearningPatternsInput>> {
  checkPatternWindow(days);
  return aggregateWindow(db, userIds, days, now, zonesChecked);
}

function checkPatternWindow(days: number): void {
  if (!isPatternWindow(days))
    throw new RangeError(`days must be an integer from ${MIN_PATTERN_DAYS} to ${MAX_PATTERN_DAYS}, not ${days}`);
}

interface AttemptGroupRow {
  user_id: string;
  /** Which grouping set the row belongs to (GROUPING(hour, day, subcategory)). */
  grouping: number;
  hour: number | null;
  day: string | null;
  subcategory: string | null;
  attempts: number;
  correct: number;
  mean_difficulty: number | null;
}

interface SessionRow {
  user_id: string;
  minutes: number;
  accuracy: number | null;
}

// GROUPING(hour, day, subcategory): a bit is 1 for a column the set does not group by.
const byUser = 0b111;
const byHour = 0b011;
const byDay = 0b101;
const bySubcategoryDay = 0b100;

/**
 * How much earlier than its answeredAt an attempt may have been recorded. The API refuses an
 * answeredAt more than 5 minutes ahead of the server's clock, so recordedAt ≥ answeredAt − 5 min; a
 * day of slack also covers imported rows with skewed clocks. Bounding recordedAt lets the scan use
 * the (user_id, recorded_at) index while the window itself is on answeredAt.
 */
export const recordedBeforeAnsweredSlack = '1 day';

/**
 * Each learner's window start, local midnight `days - 1` days before today (DST-aware): a CTE body.
 * Checking the zones reads pg_timezone_names (about 0.1 s a statement): skipped when the caller has.
 */
function windowStarts(userIds: readonly string[], days: number, now: Date, zonesChecked: boolean) {
  const zone = zonesChecked ? Prisma.sql`timezone` : zoneOrUtc(Prisma.sql`timezone`);
  return Prisma.sql`
      SELECT u.id AS user_id, u.zone AS timezone,
             (((${now}::timestamptz AT TIME ZONE u.zone)::date - ${days - 1}::int)::timestamp)
               AT TIME ZONE u.zone AS starts_at
      -- A join on the ids rather than id = ANY(ids): the planner takes ANY over 500 ids for a large part
      -- of the table and scans all of it; the join looks each one up in the primary key.
      FROM (SELECT u.id, ${zone} AS zone FROM unnest(${userIds}::uuid[]) AS t(id) JOIN users u ON u.id = t.id) u`;
}

async function aggregateWindow(
  db: SqlClient,
  userIds: readonly string[],
  days: number,
  now: Date,
  zonesChecked: boolean,
) {
  // Each statement works out every learner's window start itself.
  const groups = await db.$queryRaw<AttemptGroupRow[]>`
    WITH w AS (${windowStarts(userIds, days, now, zonesChecked)}
    ), a AS (
      SELECT w.user_id,
             extract(hour FROM COALESCE(a.answered_at, a.recorded_at) AT TIME ZONE w.timezone)::int AS hour,
             to_char(COALESCE(a.answered_at, a.recorded_at) AT TIME ZONE w.timezone, 'YYYY-MM-DD') AS day,
             -- The difficulty as attempted; the question's current one for an attempt recorded without it.
             q.subcategory, a.correct, COALESCE(a.difficulty_at_attempt, q.difficulty) AS difficulty
      FROM w
      -- LEFT: a learner without attempts in the window still gets a row (the (user_id) set).
      LEFT JOIN (attempts a JOIN questions q ON q.id = a.question_id)
        ON a.user_id = w.user_id
       AND a.recorded_at >= w.starts_at - ${recordedBeforeAnsweredSlack}::interval
       AND COALESCE(a.answered_at, a.recorded_at) >= w.starts_at
       AND COALESCE(a.answered_at, a.recorded_at) <= ${now}::timestamptz
    )
    SELECT user_id::text AS user_id, GROUPING(hour, day, subcategory)::int AS grouping, hour, day, subcategory,
           count(correct)::int AS attempts, count(*) FILTER (WHERE correct)::int AS correct,
           -- Summed as numeric: exact, whatever order the rows come in (float sums moved in the last
           -- bits with the plan, and the stored pattern's equality check saw a change).
           avg(difficulty::numeric)::float8 AS mean_difficulty
    FROM a
    GROUP BY GROUPING SETS ((user_id), (user_id, hour), (user_id, day), (user_id, subcategory, day))`;
  const sessions = await db.$queryRaw<SessionRow[]>`
    WITH w AS (${windowStarts(userIds, days, now, zonesChecked)}
    )
    SELECT s.user_id::text AS user_id,
           ${endedSessionSeconds}::float8 / 60 AS minutes,
           -- The stored summary; computed from the attempts only for a session that lacks one.
           COALESCE(sm.accuracy, (SELECT avg(x.correct::int)::float8 FROM attempts x WHERE x.session_id = s.id))
             AS accuracy
    FROM w
    JOIN sessions s ON s.user_id = w.user_id
    LEFT JOIN session_summaries sm ON sm.session_id = s.id
    WHERE s.started_at >= w.starts_at AND s.ended_at IS NOT NULL AND s.ended_at <= ${now}::timestamptz
    ORDER BY s.user_id, s.started_at, s.id`;
  // Every user gets an input (the (user_id) grouping set), even without data: then all null / empty.
  const inputs = new Map(
    groups
      .filter((row) => row.grouping === byUser)
      .map(({ user_id: userId }) => [
        userId,
        {
          windowDays: days,
          sessions: [] as SessionAggregate[],
          hours: [] as HourAggregate[],
          days: [] as DayAggregate[],
          subcategoryDays: [] as SubcategoryDayAggregate[],
        },
      ]),
  );
  for (const row of groups) {
    const input = inputs.get(row.user_id);
    if (!input || row.attempts === 0) continue;
    if (row.grouping === byHour) input.hours.push({ hour: row.hour!, attempts: row.attempts, correct: row.correct });
    else if (row.grouping === byDay)
      input.days.push({
        date: row.day!,
        attempts: row.attempts,
        correct: row.correct,
        meanDifficulty: row.mean_difficulty,
      });
    else if (row.grouping === bySubcategoryDay)
      input.subcategoryDays.push({
        subcategory: row.subcategory!,
        date: row.day!,
        attempts: row.attempts,
        correct: row.correct,
      });
  }
  for (const row of sessions)
    inputs.get(row.user_id)?.sessions.push({ durationMinutes: row.minutes, accuracy: row.accuracy });
  return inputs;
}
