// NIGHTLY step 10, and the whole PATTERNS job: the stored learning pattern (SPEC 4.3) of every learner
// active in the pattern window, computed as User.learningPatterns computes it live. A learner's stored
// pattern is their latest learning_patterns row: a run writes a row only when the pattern differs from
// it, so a learner whose window did not change keeps theirs (carried, no row; docs/nightly-incremental.md).
// A full run computes every active learner; a normal run only those whose window may have changed
// since the previous run that stored patterns (changedWindows). Learners are taken in chunks, each
// computed and written with one multi-row statement, so memory stays flat however many there are.
import { readingAhead } from '../../db/in-flight.ts';
import { computeLearningPatterns } from '../../domain/learning-patterns.ts';
import { Prisma } from '../../generated/prisma/client.ts';
import {
  DEFAULT_PATTERN_DAYS,
  learningPatternInputs,
  patternChunks,
  recordedBeforeAnsweredSlack,
} from '../../services/learning-patterns.ts';
import type { RunContext, StepStats } from '../context.ts';
import { activeLearnerIds, withUsableTimeZones } from './active-learners.ts';
import { refreshStaleStatistics } from './table-statistics.ts';

/**
 * Learners with an attempt recorded in this many days are computed. Two more than the window: the
 * window's local days start up to a day before `at` − 7 days (a zone ahead of UTC, an attempt just
 * after midnight), and an attempt may be recorded up to a day before it is answered. So a learner is
 * still computed on the night their window empties, and their stored pattern becomes the empty one
 * rather than keeping the days that left it.
 */
const patternActiveDays = DEFAULT_PATTERN_DAYS + 2;

/** What the step looks up learner by learner that this run may have filled (the activity rollup, patterns). */
const tablesReadPerChunk = ['learning_patterns', 'daily_activity'];

export async function storeLearningPatterns(ctx: RunContext): Promise<StepStats> {
  await refreshStaleStatistics(ctx, tablesReadPerChunk);
  const active = await activeLearnerIds(ctx, patternActiveDays);
  const { usable, unusable, unknownZones } = await withUsableTimeZones(ctx, active);
  const previousAt = ctx.full ? null : await previousPatternsAt(ctx);
  const learners =
    previousAt && !(await mostQuestionsEdited(ctx, previousAt))
      ? await changedWindows(ctx, usable, unknownZones, previousAt)
      : usable;
  let written = 0;
  // Read ahead: the next chunk's window is read while this chunk's patterns are computed and written
  // (chunks are distinct learners, and a pattern reads nothing the step writes). Zones checked by
  // withUsableTimeZones.
  await readingAhead(
    patternChunks(learners),
    (chunk) => learningPatternInputs(ctx.tx, chunk, DEFAULT_PATTERN_DAYS, ctx.at, true),
    async (_chunk, inputs) => {
      const patterns = [...inputs].map(([userId, input]) => [userId, computeLearningPatterns(input)] as const);
      if (patterns.length === 0) return;
      // Written only where the pattern (or the zone it was cut in) differs from the learner's latest row.
      written += await ctx.tx.$executeRaw`
        INSERT INTO learning_patterns (user_id, computed_at, window_days, optimal_session_duration_minutes,
                                       best_hour_of_day, difficulty_progression, concept_retention, time_zone)
        SELECT t.u, ${ctx.at}::timestamptz, t.w, t.d, t.h, t.p::jsonb, t.r::jsonb, u.timezone
        FROM unnest(${patterns.map(([userId]) => userId)}::uuid[], ${patterns.map(([, p]) => p.windowDays)}::int[],
                    ${patterns.map(([, p]) => p.optimalSessionDurationMinutes)}::float8[],
                    ${patterns.map(([, p]) => p.bestHourOfDay)}::int[],
                    ${patterns.map(([, p]) => JSON.stringify(p.difficultyProgression))}::text[],
                    ${patterns.map(([, p]) => JSON.stringify(p.conceptRetention))}::text[]) AS t(u, w, d, h, p, r)
        JOIN users u ON u.id = t.u
        WHERE NOT EXISTS (
          SELECT 1 FROM (SELECT * FROM learning_patterns l WHERE l.user_id = t.u
                         ORDER BY l.computed_at DESC LIMIT 1) l
          WHERE (l.window_days, l.optimal_session_duration_minutes, l.best_hour_of_day, l.difficulty_progression,
                 l.concept_retention, l.time_zone)
                IS NOT DISTINCT FROM (t.w, t.d, t.h, t.p::jsonb, t.r::jsonb, u.timezone))`;
    },
  );
  return {
    patterns: usable.length,
    patternsComputed: learners.length,
    patternsWritten: written,
    ...(unusable > 0 ? { patternLearnersSkipped: unusable } : {}),
  };
}

/**
 * The instant the previous run that stored patterns acted as of (NIGHTLY or PATTERNS, succeeded); null
 * when there is none, or when it is not before this run (a backfill of an earlier day): then every
 * learner is computed.
 */
async function previousPatternsAt(ctx: RunContext): Promise<Date | null> {
  const [row] = await ctx.tx.$queryRaw<{ at: Date | null }[]>`
    SELECT max(slot) AS at FROM job_runs
    WHERE job IN ('NIGHTLY', 'PATTERNS') AND status = 'SUCCEEDED' AND id::text <> ${ctx.runId}`;
  const at = row?.at ?? null;
  return at && at < ctx.at ? at : null;
}

/**
 * Whether most questions were edited since `previousAt` (a catalogue reloaded): then nearly every
 * learner's window holds an edited question, and reading them all through their questions costs more
 * than computing everyone. A cost rule only: computing everyone is always right. Rescored questions do
 * not count: a pattern reads the difficulty an attempt was made at (attempts.difficulty_at_attempt).
 */
async function mostQuestionsEdited(ctx: RunContext, previousAt: Date): Promise<boolean> {
  const [row] = await ctx.tx.$queryRaw<{ edited: number; total: number }[]>`
    SELECT count(*) FILTER (WHERE updated_at > ${previousAt}::timestamptz)::int AS edited, count(*)::int AS total
    FROM questions`;
  return row !== undefined && row.edited * 2 > row.total;
}

/**
 * The learners whose pattern may differ from the one the previous run (as of `previousAt`) left: a
 * superset of those whose window changed. A pattern is a function of the window's attempts (by
 * answeredAt, up to `at`) with their questions' subcategory and difficulty, of the sessions started in
 * the window and ended by `at`, and of the zone that cuts the window. So a learner is taken when
 *   - they have no stored pattern yet, or it was cut in another zone;
 *   - an attempt of theirs was recorded since, or recorded before and answered since (an attempt answers
 *     at most a day after it is recorded, so only the day before `previousAt` is read for those: one
 *     recorded then and answered by `previousAt` was already in that window);
 *   - an active day left the window (the window starts a day later: daily_activity has their days,
 *     and the attempts not rolled up yet are looked at directly);
 *   - a session of theirs left the window, ended since, or had its summary (re)computed since;
 *   - a question they answered in the window was edited since, or had its statistics moved since and the
 *     attempt carries no difficulty of its own (an imported one: the pattern reads the current difficulty).
 */
async function changedWindows(
  ctx: RunContext,
  learners: readonly string[],
  unknownZones: readonly string[],
  previousAt: Date,
): Promise<string[]> {
  const { tx, at } = ctx;
  const days = DEFAULT_PATTERN_DAYS;
  const slack = Prisma.sql`${recordedBeforeAnsweredSlack}::interval`;
  const since = Prisma.sql`${previousAt}::timestamptz - ${slack}`;
  const answered = Prisma.sql`COALESCE(a.answered_at, a.recorded_at)`;
  // Set-based: each reason is one scan of the rows that changed, bounded by instants that hold in every
  // zone (a local midnight is within a day of UTC's), joined to the users for their windows. Probing
  // learner by learner instead cost 10 s of index lookups on the 100,000-learner bench.
  const earliestStart = Prisma.sql`(${previousAt}::timestamptz - ${days + 2}::int * interval '1 day')`;
  const latestStart = Prisma.sql`(${at}::timestamptz - ${days - 2}::int * interval '1 day')`;
  // The rollup's mark as a value, not a subquery: the planner then reads the attempts after it through the
  // recorded_at index (in NIGHTLY the mark is this run's window end: hardly any) instead of scanning them all.
  const [mark] = await tx.$queryRaw<{ up_to: Date }[]>`SELECT up_to FROM activity_rollup_mark WHERE id = 1`;
  const rolledUpTo = mark?.up_to ?? null;
  const changedRows = await tx.$queryRaw<{ id: string }[]>`
    WITH z AS NOT MATERIALIZED (
      SELECT w.id, w.start_date, w.previous_start_date,
             w.start_date::timestamp AT TIME ZONE w.tz AS starts_at,
             w.previous_start_date::timestamp AT TIME ZONE w.tz AS previous_starts_at
      FROM (SELECT u.id, u.timezone AS tz,
                   (${at}::timestamptz AT TIME ZONE u.timezone)::date - ${days - 1}::int AS start_date,
                   (${previousAt}::timestamptz AT TIME ZONE u.timezone)::date - ${days - 1}::int AS previous_start_date
            FROM users u WHERE u.timezone <> ALL(${unknownZones}::text[])) w
    ), undated AS MATERIALIZED (
      -- Attempts that read their question's current difficulty (imported, not rebuilt yet): rare.
      SELECT a.user_id, a.question_id, a.recorded_at, ${answered} AS answered FROM attempts a
      WHERE a.difficulty_at_attempt IS NULL AND a.recorded_at >= ${earliestStart} - ${slack}
    )
    SELECT a.user_id::text AS id FROM attempts a
    WHERE a.recorded_at > ${since}
      AND (a.recorded_at > ${previousAt}::timestamptz OR ${answered} > ${previousAt}::timestamptz)
    UNION
    SELECT z.id::text FROM daily_activity d JOIN z ON z.id = d.user_id
    WHERE d.date >= (${earliestStart} AT TIME ZONE 'UTC')::date AND d.date < (${latestStart} AT TIME ZONE 'UTC')::date
      AND d.date >= z.previous_start_date AND d.date < z.start_date
    UNION
    SELECT z.id::text FROM attempts a JOIN z ON z.id = a.user_id
    WHERE a.recorded_at > COALESCE(${rolledUpTo}::timestamptz, '-infinity')
      AND ${answered} >= z.previous_starts_at AND ${answered} < z.starts_at
    UNION
    SELECT z.id::text FROM sessions s JOIN z ON z.id = s.user_id
    WHERE s.ended_at IS NOT NULL AND s.started_at >= ${earliestStart} AND s.started_at < ${latestStart}
      AND s.started_at >= z.previous_starts_at AND s.started_at < z.starts_at
    UNION
    SELECT z.id::text FROM sessions s JOIN z ON z.id = s.user_id
    WHERE s.ended_at > ${since} AND s.started_at >= z.starts_at
    UNION
    SELECT z.id::text FROM session_summaries sm JOIN sessions s ON s.id = sm.session_id JOIN z ON z.id = s.user_id
    WHERE sm.computed_at > ${since} AND s.ended_at IS NOT NULL AND s.started_at >= z.starts_at
    UNION
    SELECT z.id::text FROM questions q JOIN attempts a ON a.question_id = q.id JOIN z ON z.id = a.user_id
    WHERE q.updated_at > ${previousAt}::timestamptz
      AND a.recorded_at >= ${earliestStart} - ${slack} AND a.recorded_at >= z.starts_at - ${slack}
      AND ${answered} >= z.starts_at AND ${answered} <= ${at}::timestamptz
    UNION
    SELECT z.id::text FROM undated a JOIN questions q ON q.id = a.question_id JOIN z ON z.id = a.user_id
    WHERE q.stats_updated_at > ${previousAt}::timestamptz
      AND a.recorded_at >= z.starts_at - ${slack} AND a.answered >= z.starts_at AND a.answered <= ${at}::timestamptz`;
  const changed = new Set(changedRows.map((row) => row.id));
  // The rest are looked up one by one, as the latest pattern of each is what counts.
  const unchanged = learners.filter((id) => !changed.has(id));
  const elsewhere = await tx.$queryRaw<{ id: string }[]>`
    SELECT l.id::text AS id FROM unnest(${unchanged}::uuid[]) AS l(id) JOIN users u ON u.id = l.id
    WHERE NOT EXISTS (SELECT 1 FROM (SELECT p.time_zone FROM learning_patterns p WHERE p.user_id = l.id
                                     ORDER BY p.computed_at DESC LIMIT 1) p
                      WHERE p.time_zone = u.timezone)`;
  for (const row of elsewhere) changed.add(row.id);
  return learners.filter((id) => changed.has(id));
}
