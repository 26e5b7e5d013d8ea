// The migration applier and the database factory against real databases: in-memory or on-disk
// PGlite in the 'pglite' project, fresh PostgreSQL databases in the 'postgres' project.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  type Database,
  type DatabaseConfig,
  DatabaseConfigError,
  databaseConfigFrom,
  openDatabase,
} from '../../src/db/client.ts';
import { applyMigrations, type MigrationConnection, MigrationError } from '../../src/db/migrate.ts';
import { checksumOf, type MigrationFile, migrationsDir, readMigrations } from '../../src/db/migration-files.ts';
import { diffMigrationsToSchema, isEmptyMigration } from '../../src/db/schema-engine.ts';
import { type UnitSnapshot, unitsDigest } from '../../src/services/plans.ts';
import { createEmptyPostgresDatabase, describeOnlyOn, testDatabaseKind } from '../support/database.ts';

interface HistoryRow {
  id: string;
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  started_at: Date;
  rolled_back_at: Date | null;
  logs: string | null;
  applied_steps_count: number;
}

const committed = await readMigrations();
const committedNames = committed.map((m) => m.name);
/** The app tables the committed migrations create and leave. */
const tablesMatching = (pattern: RegExp) =>
  new Set(committed.flatMap((m) => [...m.sql.matchAll(pattern)].map((r) => r[1]!)));
const droppedTables = tablesMatching(/DROP TABLE "([^"]+)"/g);
const appTables = [...tablesMatching(/CREATE TABLE "([^"]+)"/g)].filter((t) => !droppedTables.has(t)).sort();

function migration(name: string, sql: string): MigrationFile {
  return { name, sql, checksum: checksumOf(sql) };
}

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

/** Where an empty database lives, so a test can open it (again) with openDatabase. */
async function emptyDatabaseConfig(): Promise<DatabaseConfig> {
  if (testDatabaseKind === 'pglite') {
    const dir = await mkdtemp(path.join(tmpdir(), 'learnloop-migrations-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return { kind: 'pglite', dataDir: path.join(dir, 'pglite') };
  }
  const empty = await createEmptyPostgresDatabase('ll_migrations');
  cleanups.push(() => empty.drop());
  return { kind: 'postgres', url: empty.url, poolSize: 2 };
}

/** An open, empty database (nothing migrated) with a dedicated connection; closed after the file. */
async function emptyDatabase(): Promise<{ db: Database; conn: MigrationConnection }> {
  const config: DatabaseConfig =
    testDatabaseKind === 'pglite' ? { kind: 'pglite', dataDir: null } : await emptyDatabaseConfig();
  const db = await openDatabase(config, { migrate: false });
  const conn = await db.connect();
  cleanups.push(async () => {
    await conn.release();
    await db.close();
  });
  return { db, conn };
}

async function history(conn: MigrationConnection): Promise<HistoryRow[]> {
  return conn.query<HistoryRow>('SELECT * FROM "_prisma_migrations" ORDER BY started_at, migration_name');
}

async function tableExists(conn: MigrationConnection, table: string): Promise<boolean> {
  const [row] = await conn.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [`"${table}"`]);
  return row!.exists;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe(`applying the committed migrations (${testDatabaseKind})`, () => {
  test('a fresh database gets every committed migration, recorded the way Prisma does', async () => {
    expect(committedNames.length).toBeGreaterThan(0);
    const { db, conn } = await emptyDatabase();

    expect(await applyMigrations(conn)).toEqual(committedNames);

    const rows = await history(conn);
    expect(rows.map((r) => r.migration_name)).toEqual(committedNames);
    for (const row of rows) {
      const bytes = await readFile(path.join(migrationsDir, row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
      expect(row.rolled_back_at).toBeNull();
      expect(row.logs).toBeNull();
      expect(row.applied_steps_count).toBe(1);
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
    }

    const tables = await conn.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name`,
    );
    expect(appTables).toContain('users');
    expect(tables.map((t) => t.table_name)).toEqual([...appTables, '_prisma_migrations'].sort());
    // The generated client agrees with the schema the migrations built.
    expect(await db.prisma.user.count()).toBe(0);

    // A second run on the same connection applies nothing and leaves the history as it was.
    expect(await applyMigrations(conn)).toEqual([]);
    expect(await history(conn)).toEqual(rows);
  });

  test('plans stored as units become versions of plan_adjustments, none lost', async () => {
    const { conn } = await emptyDatabase();
    const plansAsVersions = committed.findIndex((m) => m.name.endsWith('_plans_as_versions'));
    expect(plansAsVersions).toBeGreaterThan(0);
    await applyMigrations(conn, committed.slice(0, plansAsVersions));
    const [ann, bob] = ['a0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000002'];
    const plan = (algebraStatus: string) =>
      JSON.stringify([
        { subcategory: 'Algebra', targetQuestions: 20, priority: 1, reason: 'weak', status: algebraStatus },
        { subcategory: 'Geometry', targetQuestions: 10, priority: 2, reason: 'review', status: 'PENDING' },
      ]);
    await conn.exec(`
      INSERT INTO users (id, name, email)
      VALUES ('${ann}', 'Ann', 'ann@example.com'), ('${bob}', 'Bob', 'bob@example.com');
      -- Ann's plan: made by NIGHTLY, then a unit marked DONE (both adjustments kept).
      INSERT INTO plan_units (user_id, plan_date, subcategory, target_questions, priority, reason, status) VALUES
        ('${ann}', '2025-03-02', 'Algebra', 20, 1, 'weak', 'DONE'),
        ('${ann}', '2025-03-02', 'Geometry', 10, 2, 'review', 'PENDING');
      INSERT INTO plan_adjustments (user_id, plan_date, trigger, before, after, created_at) VALUES
        ('${ann}', '2025-03-02', 'NIGHTLY', '[]', '${plan('PENDING')}', '2025-03-02 02:00:00+00'),
        ('${ann}', '2025-03-02', 'MANUAL', '${plan('PENDING')}', '${plan('DONE')}', '2025-03-02 09:00:00+00');
      -- Bob's plan: its adjustments already past retention.
      INSERT INTO plan_units (user_id, plan_date, subcategory, target_questions, priority, reason) VALUES
        ('${bob}', '2025-03-02', 'Reading', 30, 1, 'new');`);
    await applyMigrations(conn);
    const versions = await conn.query<{
      user_id: string;
      version: number;
      trigger: string;
      after: UnitSnapshot[];
      units_digest: string;
    }>('SELECT user_id, version, trigger, after, units_digest FROM plan_adjustments ORDER BY user_id, version');
    expect(versions.map((v) => [v.user_id, v.version, v.trigger])).toEqual([
      [ann, 1, 'NIGHTLY'],
      [ann, 2, 'MANUAL'],
      [bob, 1, 'NIGHTLY'],
    ]);
    expect(versions[1]!.after).toEqual([
      { subcategory: 'Algebra', targetQuestions: 20, priority: 1, reason: 'weak', status: 'DONE' },
      { subcategory: 'Geometry', targetQuestions: 10, priority: 2, reason: 'review', status: 'PENDING' },
    ]);
    expect(versions[2]!.after).toEqual([
      { subcategory: 'Reading', targetQuestions: 30, priority: 1, reason: 'new', status: 'PENDING' },
    ]);
    // The digests filled in SQL are the writers' (statuses aside: Ann's two versions share one).
    expect(versions.map((v) => v.units_digest)).toEqual(versions.map((v) => unitsDigest(v.after)));
    expect(versions[0]!.units_digest).toBe(versions[1]!.units_digest);
    expect(await tableExists(conn, 'plan_units')).toBe(false);
  });

  test("each learner's latest attempt is filled up to the latest NIGHTLY watermark, not after it", async () => {
    const { conn } = await emptyDatabase();
    const lastRecorded = committed.findIndex((m) => m.name.endsWith('_learner_last_recorded'));
    expect(lastRecorded).toBeGreaterThan(0);
    await applyMigrations(conn, committed.slice(0, lastRecorded));
    const [ann, bob, cy] = [
      'a0000000-0000-4000-8000-00000000000a',
      'b0000000-0000-4000-8000-00000000000b',
      'c0000000-0000-4000-8000-00000000000c',
    ];
    const q = 'd0000000-0000-4000-8000-00000000000d';
    const attempt = (user: string, n: number, recordedAt: string) =>
      `('${user}', '${q}', ${n}, 'SESSION', 'A', true, 30, 'x${user}${n}', '${recordedAt}')`;
    await conn.exec(`
      INSERT INTO users (id, name, email) VALUES ('${ann}', 'Ann', 'ann@example.com'),
        ('${bob}', 'Bob', 'bob@example.com'), ('${cy}', 'Cy', 'cy@example.com');
      INSERT INTO questions (id, external_id, category, subcategory, difficulty_band, answer, answer_key)
      VALUES ('${q}', 'q1', 'Math', 'Algebra', 'EASY', 'A', 'a');
      INSERT INTO attempts (user_id, question_id, attempt_no, context, user_answer, correct, time_sec,
                            client_attempt_id, recorded_at) VALUES
        ${attempt(ann, 1, '2025-03-01 10:00:00.123456+00')}, ${attempt(ann, 2, '2025-03-03 01:00:00.654321+00')},
        ${attempt(bob, 1, '2025-03-03 03:00:00+00')}, ${attempt(cy, 1, '2025-03-04 10:00:00+00')};
      INSERT INTO job_runs (job, slot, status, watermark) VALUES
        ('NIGHTLY', '2025-03-02 02:00:00+00', 'SUCCEEDED', '2025-03-02 02:00:00+00'),
        ('NIGHTLY', '2025-03-03 02:00:00+00', 'SUCCEEDED', '2025-03-03 02:00:00+00'),
        ('NIGHTLY', '2025-03-04 02:00:00+00', 'FAILED', NULL);`);
    await applyMigrations(conn);
    const rows = await conn.query<{ user_id: string; last: string }>(
      `SELECT user_id::text, to_char(last_recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS last
       FROM learner_last_recorded ORDER BY user_id`,
    );
    // Bob's attempt came after the watermark: the next run's window adds it. Ann's keeps its microseconds,
    // as the probe compares them.
    expect(rows).toEqual([{ user_id: ann, last: '2025-03-03 01:00:00.654321' }]);
  });

  test('reopening a database applies nothing and keeps its data', async () => {
    const config = await emptyDatabaseConfig();
    const first = await openDatabase(config);
    const user = await first.prisma.user.create({ data: { name: 'Persisted Pat', email: 'pat@example.com' } });
    const conn1 = await first.connect();
    const rows = await history(conn1);
    await conn1.release();
    await first.close();
    expect(rows.map((r) => r.migration_name)).toEqual(committedNames);

    const second = await openDatabase(config);
    try {
      const conn2 = await second.connect();
      try {
        expect(await applyMigrations(conn2)).toEqual([]);
        expect(await history(conn2)).toEqual(rows);
      } finally {
        await conn2.release();
      }
      expect(await second.prisma.user.findUnique({ where: { id: user.id } })).toMatchObject({
        name: 'Persisted Pat',
        email: 'pat@example.com',
      });
    } finally {
      await second.close();
    }
  });
});

describeOnlyOn('postgres', 'concurrent appliers (postgres)', () => {
  test('several instances starting at once apply each migration exactly once', async () => {
    const config = await emptyDatabaseConfig();
    const dbs = await Promise.all([openDatabase(config), openDatabase(config), openDatabase(config)]);
    try {
      const conn = await dbs[0]!.connect();
      try {
        const counts = await conn.query<{ migration_name: string; n: number; finished: number }>(
          `SELECT migration_name, count(*)::int AS n, count(finished_at)::int AS finished
           FROM "_prisma_migrations" GROUP BY migration_name ORDER BY migration_name`,
        );
        expect(counts).toEqual(committedNames.map((name) => ({ migration_name: name, n: 1, finished: 1 })));
      } finally {
        await conn.release();
      }
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
    }
  });

  test('two applyMigrations on two connections: one applies everything, the other nothing', async () => {
    const config = await emptyDatabaseConfig();
    const db = await openDatabase(config, { migrate: false });
    const [a, b] = await Promise.all([db.connect(), db.connect()]);
    try {
      const extra = migration('29990101000000_slow', 'CREATE TABLE t_slow (id int); SELECT pg_sleep(0.2);');
      const results = await Promise.all([
        applyMigrations(a, [...committed, extra]),
        applyMigrations(b, [...committed, extra]),
      ]);
      expect(results.map((r) => r.length).sort()).toEqual([0, committedNames.length + 1]);
      expect(results.flat()).toEqual([...committedNames, extra.name]);
      const rows = await history(a);
      expect(rows.map((r) => r.migration_name)).toEqual([...committedNames, extra.name]);
      expect(rows.every((r) => r.finished_at !== null && r.applied_steps_count === 1)).toBe(true);
      // The lock is released: a third run gets it at once.
      expect(await applyMigrations(b, [...committed, extra])).toEqual([]);
    } finally {
      await a.release();
      await b.release();
      await db.close();
    }
  });
});

describe(`refusals (${testDatabaseKind})`, () => {
  test('a failing migration leaves nothing half applied, is logged, and blocks later runs (P3009)', async () => {
    const { conn } = await emptyDatabase();
    const broken = migration('29990101000000_broken', 'CREATE TABLE t_ok (id int); SELECT 1/0;');
    const later = migration('29990102000000_later', 'CREATE TABLE t_later (id int);');

    const error = await rejection(applyMigrations(conn, [...committed, broken, later]));
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).code).toBe('FAILED');
    expect(error.message).toContain('29990101000000_broken');
    expect(error.message).toMatch(/division by zero/);

    expect(await tableExists(conn, 't_ok')).toBe(false);
    expect(await tableExists(conn, 't_later')).toBe(false);
    expect(await tableExists(conn, 'users')).toBe(true); // the committed ones went in before it
    const rows = await history(conn);
    expect(rows.map((r) => r.migration_name)).toEqual([...committedNames, broken.name]);
    const failed = rows.at(-1)!;
    expect(failed.finished_at).toBeNull();
    expect(failed.rolled_back_at).toBeNull();
    expect(failed.applied_steps_count).toBe(0);
    expect(failed.checksum).toBe(broken.checksum);
    expect(failed.logs).toMatch(/division by zero/);

    // The connection is usable and the lock was released: the next run gets as far as refusing.
    for (const files of [committed, [...committed, broken, later]]) {
      const refusal = await rejection(applyMigrations(conn, files));
      expect(refusal).toBeInstanceOf(MigrationError);
      expect((refusal as MigrationError).code).toBe('P3009');
      expect(refusal.message).toContain('29990101000000_broken');
      expect(refusal.message).toContain('rolled_back_at'); // says how to resolve it
    }
    expect(await history(conn)).toEqual(rows);

    // Following the advice in the message unblocks it; the fixed migration then applies.
    const resolve = /(UPDATE "_prisma_migrations" SET rolled_back_at = now\(\) WHERE .*)$/.exec(
      (await rejection(applyMigrations(conn, committed))).message,
    );
    expect(resolve).not.toBeNull();
    await conn.exec(resolve![1]!);
    const fixed = migration(broken.name, 'CREATE TABLE t_ok (id int);');
    expect(await applyMigrations(conn, [...committed, fixed, later])).toEqual([fixed.name, later.name]);
    expect(await tableExists(conn, 't_ok')).toBe(true);
    const after = await history(conn);
    expect(
      after
        .filter((r) => r.migration_name === broken.name)
        .map((r) => [r.rolled_back_at !== null, r.finished_at !== null]),
    ).toEqual([
      [true, false],
      [false, true],
    ]);
  });

  test('an applied migration that was edited is refused (CHECKSUM); CRLF line endings are not an edit', async () => {
    const { conn } = await emptyDatabase();
    const extra = migration(
      '29990101000000_extra',
      'CREATE TABLE t_extra (id int);\nCREATE INDEX t_extra_id ON t_extra (id);\n',
    );
    expect(await applyMigrations(conn, [...committed, extra])).toEqual(committedNames.concat(extra.name));
    const rows = await history(conn);

    const edited = migration(
      extra.name,
      'CREATE TABLE t_extra (id bigint);\nCREATE INDEX t_extra_id ON t_extra (id);\n',
    );
    const pending = migration('29990102000000_pending', 'CREATE TABLE t_pending (id int);');
    const error = await rejection(applyMigrations(conn, [...committed, edited, pending]));
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).code).toBe('CHECKSUM');
    expect(error.message).toContain('29990101000000_extra');
    // Refused before applying anything.
    expect(await tableExists(conn, 't_pending')).toBe(false);
    expect(await history(conn)).toEqual(rows);

    // The same file checked out with CRLF line endings is accepted as the same migration.
    const crlf = migration(extra.name, extra.sql.replace(/\n/g, '\r\n'));
    expect(crlf.checksum).not.toBe(extra.checksum);
    expect(await applyMigrations(conn, [...committed, crlf])).toEqual([]);
    // And the other way round: a migration applied from a CRLF file matches its LF checkout.
    const crlfFirst = migration(
      '29990103000000_crlf',
      'CREATE TABLE t_crlf (id int);\r\nCREATE INDEX t_crlf_id ON t_crlf (id);\r\n',
    );
    expect(await applyMigrations(conn, [...committed, extra, crlfFirst])).toEqual([crlfFirst.name]);
    expect(
      await applyMigrations(conn, [
        ...committed,
        extra,
        migration(crlfFirst.name, crlfFirst.sql.replace(/\r\n/g, '\n')),
      ]),
    ).toEqual([]);
    // The committed files in CRLF are accepted too.
    const committedCrlf = committed.map((m) => migration(m.name, m.sql.replace(/\r?\n/g, '\r\n')));
    expect(await applyMigrations(conn, [...committedCrlf, extra, crlfFirst])).toEqual([]);
  });

  test('a database with tables but no migration history is refused (P3005), also by openDatabase', async () => {
    const config = await emptyDatabaseConfig();
    const db = await openDatabase(config, { migrate: false });
    const conn = await db.connect();
    try {
      await conn.exec('CREATE TABLE legacy (id int)');
      const error = await rejection(applyMigrations(conn));
      expect(error).toBeInstanceOf(MigrationError);
      expect((error as MigrationError).code).toBe('P3005');
      expect(error.message).toMatch(/not empty/);
      expect(await tableExists(conn, '_prisma_migrations')).toBe(false);
      expect(await tableExists(conn, 'users')).toBe(false);
    } finally {
      await conn.release();
      await db.close();
    }

    // openDatabase refuses it too, and closes what it opened (PGlite: the lock is released).
    const refusal = await rejection(openDatabase(config));
    expect(refusal).toBeInstanceOf(MigrationError);
    expect((refusal as MigrationError).code).toBe('P3005');
    const again = await openDatabase(config, { migrate: false });
    await again.close();
  });
});

describeOnlyOn('pglite', 'drift check', () => {
  test('the committed migrations match prisma/schema.prisma', { timeout: 120_000 }, async () => {
    const sql = await diffMigrationsToSchema();
    expect(isEmptyMigration(sql), `schema.prisma has changes no migration covers:\n${sql}`).toBe(true);
  });
});

// These do not depend on the test database, so they run once, in the pglite project.
describeOnlyOn('pglite', 'the database factory', () => {
  test('DATABASE_URL picks the database; an unsupported one is refused without its password', () => {
    expect(databaseConfigFrom({})).toEqual({ kind: 'pglite', dataDir: path.resolve('.data', 'pglite') });
    expect(databaseConfigFrom({ DATABASE_URL: '  ', DATA_DIR: '/srv/ll' })).toEqual({
      kind: 'pglite',
      dataDir: '/srv/ll/pglite',
    });
    expect(databaseConfigFrom({ DATABASE_URL: 'memory://' })).toEqual({ kind: 'pglite', dataDir: null });
    expect(databaseConfigFrom({ DATABASE_URL: 'postgres://u:p@h/db', DATABASE_POOL_SIZE: '3' })).toEqual({
      kind: 'postgres',
      url: 'postgres://u:p@h/db',
      poolSize: 3,
    });

    for (const url of ['mysql://u:secret@h/db', 'postgress://u:secret@h:5432/db', 'mysql://u:secret@h:badport/db']) {
      const error = (() => {
        try {
          databaseConfigFrom({ DATABASE_URL: url });
        } catch (e) {
          return e as Error;
        }
        throw new Error(`${url} was accepted`);
      })();
      expect(error).toBeInstanceOf(DatabaseConfigError);
      expect(error.message).not.toContain('secret');
      expect(error.message).toContain('postgresql://');
      expect(error.message).toContain('memory://');
      expect(error.message).not.toContain('\n');
    }
  });

  test('an unreachable PostgreSQL is one clear line without the password', async () => {
    const error = await rejection(
      openDatabase({ kind: 'postgres', url: 'postgresql://u:secret@127.0.0.1:1/none', poolSize: 1 }),
    );
    expect(error).toBeInstanceOf(DatabaseConfigError);
    expect(error.message).not.toContain('secret');
    expect(error.message).not.toContain('\n');
    expect(error.message).toContain('DATABASE_URL');
    expect(error.message).toContain('127.0.0.1:1');
  });

  test('a PGlite data directory used by another live process is refused; a stale lock is taken over', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'learnloop-lock-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const dataDir = path.join(dir, 'pglite');
    const lockFile = `${dataDir}.lock`;

    await writeFile(lockFile, String(process.ppid));
    const error = await rejection(openDatabase({ kind: 'pglite', dataDir }, { migrate: false }));
    expect(error).toBeInstanceOf(DatabaseConfigError);
    expect(error.message).toContain(`process ${process.ppid}`);
    expect(error.message).toContain(dataDir);
    expect(error.message).toContain('DATA_DIR');
    expect(error.message).not.toContain('\n');
    expect(await readFile(lockFile, 'utf8')).toBe(String(process.ppid)); // someone else's lock stays

    // A lock left by a process that is gone does not block the next start.
    await writeFile(lockFile, '2147483646');
    const db = await openDatabase({ kind: 'pglite', dataDir }, { migrate: false });
    expect(await readFile(lockFile, 'utf8')).toBe(String(process.pid));
    await db.close();
    await expect(stat(lockFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
