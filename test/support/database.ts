// A fresh, migrated database per test file: in-memory PGlite, or a new PostgreSQL database on
// TEST_DATABASE_URL when the vitest project is 'postgres'.
import { readFile } from 'node:fs/promises';
import { describe, inject } from 'vitest';
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

let pgliteTemplate: Promise<Blob> | undefined;

/** The suite's migrated PGlite data directory (test/support/global-setup.ts), read once per test file. */
export function pgliteTemplateArchive(): Promise<Blob> {
  pgliteTemplate ??= readFile(inject('pgliteTemplate')).then((bytes) => new Blob([bytes]));
  return pgliteTemplate;
}

/** A fresh database that already holds every migration (a copy of the suite's template). */
export async function createTestDatabase(
  options: OpenOptions = {},
  kind: TestDatabaseKind = testDatabaseKind,
): Promise<TestDatabase> {
  if (kind === 'pglite') {
    const pgliteArchive = await pgliteTemplateArchive();
    const db = await openDatabase({ kind: 'pglite', dataDir: null }, { pgliteArchive, ...options });
    return { ...db, url: null, destroy: () => db.close() };
  }
  const copy = await createScratchDatabase(adminUrl(), 'll_test', inject('postgresTemplate') || undefined);
  const db = await openDatabase({ kind: 'postgres', url: copy.url, poolSize: 8 }, options);
  return {
    ...db,
    url: copy.url,
    async destroy() {
      await db.close().catch(() => {}); // a test may have closed it already
      await copy.drop();
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
