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
