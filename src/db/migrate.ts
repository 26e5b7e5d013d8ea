// Applies prisma/migrations/* at every start, compatible with Prisma's `_prisma_migrations` table so
// that `prisma migrate deploy|status` on a machine with the engines sees the same history.
import { randomUUID } from 'node:crypto';
import { equivalentChecksums, type MigrationFile, readMigrations } from './migration-files.ts';

/** One dedicated connection: `query` uses parameters, `exec` runs a whole script as one simple-protocol query. */
export interface MigrationConnection {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  exec(sql: string): Promise<void>;
  release(): Promise<void>;
}

/** Prisma's advisory lock key for migrations. */
const migrationLockKey = 72707369;

export class MigrationError extends Error {
  constructor(
    message: string,
    readonly code: 'P3005' | 'P3009' | 'CHECKSUM' | 'FAILED',
  ) {
    super(message);
    this.name = 'MigrationError';
  }
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

const createTableSql = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

/**
 * Copies the server's zone names into time_zone_names (once migrated): the zones a statement treats as
 * known (src/services/time-zones.ts) are those of the server it runs on, after a tzdata update too.
 */
export async function refreshTimeZoneNames(conn: MigrationConnection): Promise<void> {
  // One read of pg_timezone_names (it reads every zone file); nothing is written when nothing changed.
  await conn.exec(`
    WITH server AS MATERIALIZED (SELECT name FROM pg_timezone_names),
    gone AS (DELETE FROM time_zone_names t WHERE NOT EXISTS (SELECT 1 FROM server s WHERE s.name = t.name))
    INSERT INTO time_zone_names (name) SELECT name FROM server ORDER BY name ON CONFLICT DO NOTHING`);
}

/** Applies pending migrations in name order under Prisma's advisory lock; returns the names applied. */
export async function applyMigrations(conn: MigrationConnection, migrations?: MigrationFile[]): Promise<string[]> {
  const files = migrations ?? (await readMigrations());
  await conn.query('SELECT pg_advisory_lock($1)', [migrationLockKey]);
  try {
    await ensureHistoryTable(conn);
    const rows = await conn.query<AppliedRow>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at',
    );
    const failed = rows.find((r) => r.finished_at === null && r.rolled_back_at === null);
    if (failed) {
      throw new MigrationError(
        `Migration ${failed.migration_name} failed earlier and was not rolled back (Prisma P3009); ` +
          'its error is in _prisma_migrations.logs. Fix the database by hand, then run: ' +
          `UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = '${failed.migration_name}' ` +
          'AND finished_at IS NULL',
        'P3009',
      );
    }
    const applied = new Map(
      rows.filter((r) => r.finished_at !== null && r.rolled_back_at === null).map((r) => [r.migration_name, r]),
    );
    for (const file of files) {
      const row = applied.get(file.name);
      if (row && !equivalentChecksums(file.sql).includes(row.checksum)) {
        throw new MigrationError(
          `Migration ${file.name} was edited after it was applied (checksum differs). Restore the file as it shipped ` +
            'and put the change in a new migration (npm run db:migration -- <name>).',
          'CHECKSUM',
        );
      }
    }
    const done: string[] = [];
    for (const file of files.filter((f) => !applied.has(f.name))) {
      await applyOne(conn, file);
      done.push(file.name);
    }
    return done;
  } finally {
    await conn.query('SELECT pg_advisory_unlock($1)', [migrationLockKey]);
  }
}

async function ensureHistoryTable(conn: MigrationConnection): Promise<void> {
  const [{ exists }] = (await conn.query<{ exists: boolean }>(
    `SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS exists`,
  )) as [{ exists: boolean }];
  if (exists) return;
  const [{ count }] = (await conn.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM information_schema.tables WHERE table_schema = current_schema()`,
  )) as [{ count: number }];
  if (count > 0) {
    throw new MigrationError(
      'The database schema is not empty but has no migration history (Prisma P3005). ' +
        'Point DATABASE_URL at an empty database, or baseline this one.',
      'P3005',
    );
  }
  await conn.query(createTableSql);
}

async function applyOne(conn: MigrationConnection, file: MigrationFile): Promise<void> {
  const id = randomUUID();
  await conn.query(
    `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
     VALUES ($1, $2, $3, now(), 0)`,
    [id, file.checksum, file.name],
  );
  try {
    // One simple-protocol query: PostgreSQL runs it as one implicit transaction, so a failure leaves nothing behind.
    await conn.exec(file.sql);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await conn.query('UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1', [id, message]);
    throw new MigrationError(`Migration ${file.name} failed: ${message}`, 'FAILED');
  }
  await conn.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [id]);
}
