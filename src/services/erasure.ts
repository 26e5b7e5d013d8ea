// A learner's data, all of it: export as one JSON document, or erase in one transaction.
//
// Where a learner's rows are is found in one place, learnerTables(): the users row itself, every table
// with a user_id column, every table with a session_id column (rows of the learner's sessions), and
// the tables of linkedTables that point at them under another name.
// Every other table must be named in anonymousTables (aggregates that name nobody: question
// statistics, usage counts, job runs, the nights the history is read at and plans were made with);
// test/erasure.test.ts fails on a table that is neither, so a new table holding learner data cannot
// be forgotten here.
import type { Database } from '../db/client.ts';
import { notFound } from '../errors.ts';
import { Prisma } from '../generated/prisma/client.ts';
import { zoneOrUtc } from './time-zones.ts';

/** Tables that hold no learner's rows: kept by an erasure, left out of an export. */
export const anonymousTables = [
  '_prisma_migrations',
  'questions',
  'usage_stats',
  'job_runs',
  'subcategory_priors',
  'activity_rollup_mark',
  'cohort_ranges',
  // Per-day sums over the learners; an erasure takes the learner's part out first (eraseLearner).
  'daily_cohort_activity',
  'time_zone_names',
  'erasures',
  'mastery_history_nights',
  // What a night planned with: its instant and the question bank's importance.
  'plan_nights',
] as const;

/** Tables that point at a learner's rows under another name: add such a table here. */
const linkedTables: LearnerTable[] = [
  // What an import brought in: the source's ids of the learner and of their sessions.
  {
    table: 'import_keys',
    where: 'target_id = $1::uuid OR target_id IN (SELECT id FROM sessions WHERE user_id = $1::uuid)',
  },
];

type Client = Pick<Database['prisma'], '$queryRawUnsafe' | '$executeRawUnsafe'>;

export interface LearnerTable {
  table: string;
  /** SQL selecting the learner's rows of the table ($1: the user id). */
  where: string;
}

/** Every table with a learner's rows, children first (delete in this order), users last. */
export async function learnerTables(db: Client): Promise<LearnerTable[]> {
  const columns = await db.$queryRawUnsafe<{ table: string; column: string }[]>(
    `SELECT table_name AS table, column_name AS column FROM information_schema.columns
     WHERE table_schema = current_schema() AND column_name IN ('user_id', 'session_id')
     ORDER BY table_name`,
  );
  const byTable = new Map<string, Set<string>>();
  for (const { table, column } of columns) byTable.set(table, (byTable.get(table) ?? new Set()).add(column));
  const tables: LearnerTable[] = [];
  for (const [table, cols] of byTable) {
    if (table === 'sessions') continue;
    const conditions = [
      ...(cols.has('user_id') ? ['user_id = $1::uuid'] : []),
      ...(cols.has('session_id') ? ['session_id IN (SELECT id FROM sessions WHERE user_id = $1::uuid)'] : []),
    ];
    tables.push({ table, where: conditions.join(' OR ') });
  }
  return [
    ...tables,
    ...linkedTables,
    { table: 'sessions', where: 'user_id = $1::uuid' },
    { table: 'users', where: 'id = $1::uuid' },
  ];
}

const quoted = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;

export interface LearnerExport {
  exportedAt: string;
  userId: string;
  /** The learner's rows of each table, columns as stored. */
  tables: Record<string, unknown[]>;
}

/** All of a learner's data as one document; NOT_FOUND when there is no such user. */
export async function exportLearner(db: Database, userId: string): Promise<LearnerExport> {
  return db.prisma.$transaction(async (tx) => {
    const tables: Record<string, unknown[]> = {};
    for (const { table, where } of (await learnerTables(tx)).reverse()) {
      const [row] = await tx.$queryRawUnsafe<{ rows: unknown[] }[]>(
        `SELECT coalesce(json_agg(t), '[]'::json) AS rows FROM ${quoted(table)} t WHERE ${where}`,
        userId,
      );
      tables[table] = row!.rows;
    }
    if (tables.users?.length !== 1) throw notFound('This user');
    return { exportedAt: new Date().toISOString(), userId, tables };
  });
}

export interface ErasureRecord {
  id: string;
  erasedAt: Date;
  counts: Record<string, number>;
}

/**
 * Deletes every row of a learner in one transaction and records the erasure (who, when, how many rows
 * per table). Question statistics and usage counts stay: they are sums over everyone and name nobody.
 * A user already erased (or never there) is NOT_FOUND.
 */
export async function eraseLearner(db: Database, userId: string, erasedBy: string): Promise<ErasureRecord> {
  return db.prisma.$transaction(async (tx) => {
    const user = await tx.$queryRawUnsafe<{ id: string }[]>(
      'SELECT id FROM users WHERE id = $1::uuid FOR UPDATE',
      userId,
    );
    if (user.length === 0) throw notFound('This user');
    // The cohort's totals per day count the learner's rollup rows: subtract them before those go.
    await tx.$executeRawUnsafe(
      `UPDATE daily_cohort_activity c
       SET attempts = c.attempts - x.attempts, correct = c.correct - x.correct, learners = c.learners - 1
       FROM (SELECT date, sum(attempts)::int AS attempts, sum(correct)::int AS correct
             FROM daily_activity WHERE user_id = $1::uuid GROUP BY date) x
       WHERE c.date = x.date`,
      userId,
    );
    // And the learner's sessions rolled up (recorded up to the mark), on the days they were counted on.
    await tx.$executeRaw`
      UPDATE daily_cohort_activity c SET sessions = c.sessions - x.sessions
      FROM (SELECT (s.started_at AT TIME ZONE ${zoneOrUtc(Prisma.sql`u.timezone`)})::date AS date,
                   count(*)::int AS sessions
            FROM sessions s JOIN users u ON u.id = s.user_id AND u.role = 'LEARNER'
            WHERE s.user_id = ${userId}::uuid
              AND s.recorded_at <= (SELECT up_to FROM activity_rollup_mark WHERE id = 1)
            GROUP BY 1) x
      WHERE c.date = x.date`;
    const counts: Record<string, number> = {};
    for (const { table, where } of await learnerTables(tx)) {
      const deleted = await tx.$executeRawUnsafe(`DELETE FROM ${quoted(table)} WHERE ${where}`, userId);
      if (deleted > 0) counts[table] = deleted;
    }
    const erasure = await tx.erasure.create({ data: { erasedBy, counts } });
    return { id: erasure.id, erasedAt: erasure.erasedAt, counts };
  });
}
