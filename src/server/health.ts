// GET /health: the process is alive and serving (no dependency is checked, nothing internal is shown).
// GET /ready: this instance can serve: the database answers and every migration of this build is
// applied (503 otherwise); Redis is shown, and does not fail it (events wait for Redis, the API does not).
import type { Database } from '../db/client.ts';
import { readMigrations } from '../db/migration-files.ts';
import type { RedisState } from '../pubsub.ts';

export interface Probe {
  status: number;
  body: Record<string, string>;
}

export function health(): Probe {
  return { status: 200, body: { status: 'ok' } };
}

/** How long /ready waits for the database before calling it unavailable. */
const databaseTimeoutMs = 2_000;

/** The migrations this build ships, read once. */
let shipped: Promise<string[]> | undefined;

export async function readiness(db: Database, redis: RedisState): Promise<Probe> {
  shipped ??= readMigrations().then((files) => files.map((file) => file.name));
  const expected = await shipped;
  let database: 'ok' | 'unavailable' = 'unavailable';
  let migrations: 'applied' | 'pending' | 'unknown' = 'unknown';
  try {
    const applied = await withTimeout(
      db.prisma.$queryRaw<{ name: string }[]>`
        SELECT migration_name AS name FROM "_prisma_migrations"
        WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
      databaseTimeoutMs,
    );
    database = 'ok';
    const names = new Set(applied.map((row) => row.name));
    migrations = expected.every((name) => names.has(name)) ? 'applied' : 'pending';
  } catch {
    // Unreachable, or no migrations table: not ready. The reason is the server log's, never the body's.
  }
  const ready = database === 'ok' && migrations === 'applied';
  return { status: ready ? 200 : 503, body: { status: ready ? 'ready' : 'not ready', database, migrations, redis } };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
