// The planner's statistics of the tables a step reads chunk by chunk. A step that looks up 500
// learners at a time relies on the planner knowing that 500 user ids pick a small part of a table;
// with statistics from when the table was empty (a first night, an import, a database without
// autovacuum, or rows this very run wrote) it scans the whole table for every chunk, and the step
// grows with the square of the population (docs/nightly-incremental.md). So such a step first
// analyses the user_id column of the tables that have more than doubled since they were last analysed
// (the column only: the whole of plan_adjustments, its JSON, costs ten times more). ANALYZE inside the
// run's transaction samples its own rows too; it holds SHARE UPDATE EXCLUSIVE on those tables until
// the run commits, which blocks only autovacuum, other ANALYZE and DDL, not reads or writes.
import { Prisma } from '../../generated/prisma/client.ts';
import type { RunContext } from '../context.ts';

/** Tables smaller than this many pages (8 kB each) are never worth analysing for the step. */
const minimumPages = 64;

/**
 * Analyses the user_id column of those of `tables` whose statistics describe fewer than half of their
 * pages; returns their names.
 */
export async function refreshStaleStatistics(ctx: Pick<RunContext, 'tx'>, tables: readonly string[]) {
  const rows = await ctx.tx.$queryRaw<{ name: string }[]>`
    SELECT c.relname::text AS name FROM pg_class c
    WHERE c.relname = ANY(${tables}::text[]) AND c.relnamespace = current_schema()::regnamespace
      AND c.relkind = 'r'
      AND pg_relation_size(c.oid) / current_setting('block_size')::int > GREATEST(2 * c.relpages, ${minimumPages})
    ORDER BY 1`;
  const stale = rows.map((row) => row.name);
  const columns = stale.map((table) => `"${table}" (user_id)`).join(', ');
  if (stale.length > 0) await ctx.tx.$executeRaw`ANALYZE ${Prisma.raw(columns)}`;
  return stale;
}
