import { Prisma } from '../../generated/prisma/client.ts';
import type { RunContext } from '../context.ts';

/** The longest span a step asks about (SPEC 5's 30 days of the plans). */
const activeSpanDays = 30;

/** The transactions holding a run_active_learners table, and the instant it was built as of. */
const built = new WeakMap<RunContext['tx'], { at: number; table: Promise<void> }>();

/** A run's window ends at its `at` unless it is stale (src/jobs/run.ts). */
type ActiveLearnersContext = Pick<RunContext, 'tx' | 'at' | 'job' | 'stale' | 'full' | 'windowStart' | 'windowEnd'>;

/**
 * Each learner's latest attempt recorded in the 30 days up to the run's `at`, in a temporary table of
 * the run's transaction (run_active_learners: id, last_recorded_at), built by the first step that asks,
 * shared by the plans (30 days) and the patterns (9), and joined in SQL rather than sent back as an
 * array of every active learner's id.
 * A NIGHTLY that is not stale reads it from learner_last_recorded, which it first brings up to its
 * window's end: the window's attempts (a full run: every attempt up to it). So the night reads the
 * learners who practised rather than probing every user's attempts; the table holds, after each run,
 * every learner's latest attempt recorded up to its watermark, which for this run is `at`. Any other
 * run (a backfill, the PATTERNS job: an instant the table is not as of) probes the attempts per user.
 */
function activeLearnersTable(ctx: ActiveLearnersContext): Promise<void> {
  const current = built.get(ctx.tx);
  if (current?.at === ctx.at.getTime()) return current.table;
  const since = Prisma.sql`${ctx.at}::timestamptz - ${activeSpanDays}::int * interval '1 day'`;
  const table = (async () => {
    await ctx.tx.$executeRaw`DROP TABLE IF EXISTS run_active_learners`;
    if (ctx.job === 'NIGHTLY' && !ctx.stale) {
      await recordLastAttempts(ctx);
      await ctx.tx.$executeRaw`
        CREATE TEMP TABLE run_active_learners ON COMMIT DROP AS
        SELECT l.user_id AS id, l.last_recorded_at FROM learner_last_recorded l
        JOIN users u ON u.id = l.user_id AND u.role = 'LEARNER'
        WHERE l.last_recorded_at > ${since}`;
    } else {
      await ctx.tx.$executeRaw`
        CREATE TEMP TABLE run_active_learners ON COMMIT DROP AS
        SELECT u.id, l.last_recorded_at FROM users u
        CROSS JOIN LATERAL (SELECT max(a.recorded_at) AS last_recorded_at FROM attempts a
                            WHERE a.user_id = u.id AND a.recorded_at > ${since}
                              AND a.recorded_at <= ${ctx.at}::timestamptz) l
        WHERE u.role = 'LEARNER' AND l.last_recorded_at IS NOT NULL`;
    }
    await ctx.tx.$executeRaw`ALTER TABLE run_active_learners ADD PRIMARY KEY (id)`;
    await ctx.tx.$executeRaw`ANALYZE run_active_learners`;
  })();
  built.set(ctx.tx, { at: ctx.at.getTime(), table });
  return table;
}

/**
 * learner_last_recorded up to the window's end: GREATEST with the window's attempts (idempotent, so a
 * second call in the run changes nothing); a full run or the first one works it out from every attempt.
 */
async function recordLastAttempts(ctx: ActiveLearnersContext): Promise<void> {
  const { tx, windowStart, windowEnd } = ctx;
  const everything = ctx.full || windowStart === null;
  if (everything) await tx.$executeRaw`DELETE FROM learner_last_recorded`;
  await tx.$executeRaw`
    INSERT INTO learner_last_recorded AS l (user_id, last_recorded_at)
    SELECT a.user_id, max(a.recorded_at) FROM attempts a
    WHERE a.recorded_at <= ${windowEnd}::timestamptz
      ${everything ? Prisma.empty : Prisma.sql`AND a.recorded_at > ${windowStart}::timestamptz`}
    GROUP BY a.user_id
    ON CONFLICT (user_id) DO UPDATE SET last_recorded_at = GREATEST(l.last_recorded_at, EXCLUDED.last_recorded_at)`;
}

/** The ids (a SQL subquery, column `id`) of the learners with an attempt recorded in the `days` days up to `at`. */
export async function activeLearnersSql(ctx: ActiveLearnersContext, days: number): Promise<Prisma.Sql> {
  if (days > activeSpanDays) throw new RangeError(`active learners are kept for ${activeSpanDays} days, not ${days}`);
  await activeLearnersTable(ctx);
  return Prisma.sql`(SELECT id FROM run_active_learners
                     WHERE last_recorded_at > ${ctx.at}::timestamptz - ${days}::int * interval '1 day')`;
}

/** Learners with an attempt recorded in the `days` days up to the run's `at` (SPEC 5: 30), in id order. */
export async function activeLearnerIds(ctx: ActiveLearnersContext, days: number): Promise<string[]> {
  const rows = await ctx.tx.$queryRaw<{ id: string }[]>`
    SELECT l.id::text AS id FROM ${await activeLearnersSql(ctx, days)} l ORDER BY l.id`;
  return rows.map((row) => row.id);
}

/**
 * Splits learners by whether the database knows their time zone: a zone stored before createUser
 * checked it against pg_timezone_names would fail every `AT TIME ZONE` over the batch. The others
 * are processed; these are logged (with their ids) and counted in the run's stats.
 */
export async function withUsableTimeZones(
  ctx: Pick<RunContext, 'tx' | 'log' | 'job'>,
  userIds: readonly string[],
): Promise<{ usable: string[]; unusable: number; unknownZones: string[] }> {
  // The zones first (one pass over the users, and over pg_timezone_names, which reads the zone files),
  // then only where one is unknown the learners who have it.
  const zones = await ctx.tx.$queryRaw<{ timezone: string }[]>`
    SELECT DISTINCT u.timezone FROM users u WHERE u.timezone NOT IN (SELECT name FROM pg_timezone_names)`;
  const unknownZones = zones.map((z) => z.timezone);
  if (unknownZones.length === 0) return { usable: [...userIds], unusable: 0, unknownZones };
  const rows = await ctx.tx.$queryRaw<{ id: string; timezone: string }[]>`
    SELECT u.id::text AS id, u.timezone FROM users u
    WHERE u.id = ANY(${userIds}::uuid[]) AND u.timezone = ANY(${unknownZones}::text[])`;
  if (rows.length === 0) return { usable: [...userIds], unusable: 0, unknownZones };
  ctx.log.warn(
    { job: ctx.job, learners: rows.slice(0, 100) },
    `${rows.length} learner(s) skipped: their time zone is unknown to the database (fix users.timezone)`,
  );
  const unusable = new Set(rows.map((r) => r.id));
  return { usable: userIds.filter((id) => !unusable.has(id)), unusable: rows.length, unknownZones };
}
