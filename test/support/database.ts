// A fresh, migrated database per test file: in-memory PGlite, or a new PostgreSQL database on
// TEST_DATABASE_URL when the vitest project is 'postgres'.
import { describe } from 'vitest';
import { type Database, type OpenOptions, openDatabase } from '../../src/db/client.ts';
import { createScratchDatabase, type ScratchDatabase } from '../../src/db/scratch-database.ts';

export type TestDatabaseKind = 'pglite' | 'postgres';

export const testDatabaseKind: TestDatabaseKind =
  process.env.LEARNLOOP_TEST_DATABASE === 'postgres' ? 'postgres' : 'pglite';

export interface TestDatabase extends Database {
  /** postgres:// URL of this database (PostgreSQL only). */
  url: string | null;
  /** Closes the database and drops it (PostgreSQL). */
  destroy(): Promise<void>;
}

function adminUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set: the postgres test project needs it');
  return url;
}

/** Creates an empty PostgreSQL database and returns its URL (tests that need several connections use it). */
export function createEmptyPostgresDatabase(prefix = 'll_test'): Promise<ScratchDatabase> {
  return createScratchDatabase(adminUrl(), prefix);
}

export async function createTestDatabase(
  options: OpenOptions = {},
  kind: TestDatabaseKind = testDatabaseKind,
): Promise<TestDatabase> {
  if (kind === 'pglite') {
    const db = await openDatabase({ kind: 'pglite', dataDir: null }, options);
    return { ...db, url: null, destroy: () => db.close() };
  }
  const empty = await createEmptyPostgresDatabase();
  const db = await openDatabase({ kind: 'postgres', url: empty.url, poolSize: 8 }, options);
  return {
    ...db,
    url: empty.url,
    async destroy() {
      await db.close().catch(() => {}); // a test may have closed it already
      await empty.drop();
    },
  };
}

/**
 * Registers a suite only in the project of one database kind: PostgreSQL-only behaviour (several
 * connections racing), or checks that do not depend on the database and need to run once.
 */
export function describeOnlyOn(kind: TestDatabaseKind, name: string, suite: () => void): void {
  if (testDatabaseKind === kind) describe(name, suite);
}
