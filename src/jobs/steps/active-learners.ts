import type { RunContext } from '../context.ts';

/** Learners with an attempt recorded in the `days` days up to the run's `at` (SPEC 5: 30). */
export async function activeLearnerIds(ctx: Pick<RunContext, 'tx' | 'at'>, days: number): Promise<string[]> {
  const rows = await ctx.tx.$queryRaw<{ id: string }[]>`
    SELECT u.id::text AS id FROM users u
    WHERE u.role = 'LEARNER'
      AND EXISTS (SELECT 1 FROM attempts a
                  WHERE a.user_id = u.id
                    AND a.recorded_at > ${ctx.at}::timestamptz - ${days}::int * interval '1 day'
                    AND a.recorded_at <= ${ctx.at}::timestamptz)
    ORDER BY u.id`;
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
