// The one database factory: server, jobs, CLI, tests and benchmarks all open the database here.
//   DATABASE_URL unset/empty → PGlite in DATA_DIR; memory:// → PGlite in memory; postgres(ql):// → PostgreSQL.
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { from as copyStreamFrom } from 'pg-copy-streams';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../generated/prisma/client.ts';
import { applyMigrations, type MigrationConnection, refreshTimeZoneNames } from './migrate.ts';
import { pgliteExtensions } from './pglite-extensions.ts';

export type DatabaseConfig =
  | { kind: 'pglite'; dataDir: string | null }
  | { kind: 'postgres'; url: string; poolSize: number };

export interface Database {
  prisma: PrismaClient;
  kind: DatabaseConfig['kind'];
  /** Where the data lives, safe to print (no password). */
  label: string;
  /** A dedicated connection for migrations and scripts that need the simple query protocol. */
  connect(): Promise<DedicatedConnection>;
  /**
   * One parameterised statement straight through the driver, past Prisma's query pipeline (which
   * costs the server's thread more than the driver itself): for the hottest write path only
   * (recordAttempt). PostgreSQL prepares it once per pooled connection under `name`; rows come as
   * the driver parses them (timestamptz as Date, jsonb parsed). Reported to onQuery like Prisma's.
   */
  run<T>(name: string, sql: string, params: unknown[]): Promise<T[]>;
  /** The connection pool's use (PostgreSQL; PGlite is one in-process connection). */
  pool?(): PoolUse;
  close(): Promise<void>;
}

export interface DedicatedConnection extends MigrationConnection {
  /**
   * `COPY <target> FROM` the given text (COPY's text format: tab-separated, \\N for null): the bulk
   * path of the import, several times cheaper per row than parameters.
   */
  copyFrom(target: string, text: string): Promise<void>;
}

export interface PoolUse {
  total: number;
  idle: number;
  /** Queries waiting for a connection. */
  waiting: number;
  max: number;
}

/** A configuration problem that stops start-up: its message is the one line a user sees. */
export class DatabaseConfigError extends Error {
  override name = 'DatabaseConfigError';
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/:\/\/([^:/@]+):[^@]*@/, '://$1:***@');
  }
}

export function dataDirFrom(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.DATA_DIR || './.data');
}

export function databaseConfigFrom(env: NodeJS.ProcessEnv = process.env): DatabaseConfig {
  const url = (env.DATABASE_URL ?? '').trim();
  if (url === '') return { kind: 'pglite', dataDir: path.join(dataDirFrom(env), 'pglite') };
  if (url === 'memory://') return { kind: 'pglite', dataDir: null };
  if (/^postgres(ql)?:\/\//.test(url)) {
    return { kind: 'postgres', url, poolSize: Number(env.DATABASE_POOL_SIZE) || 10 };
  }
  throw new DatabaseConfigError(
    `DATABASE_URL=${redactUrl(url)} is not supported: use postgresql://user:password@host:5432/db for PostgreSQL, ` +
      'memory:// for an in-memory database, or leave it unset to keep data in DATA_DIR.',
  );
}

export interface OpenOptions {
  /** Apply pending migrations (default true). */
  migrate?: boolean;
  /** Called with each SQL statement Prisma sends (tests count them). */
  onQuery?: (sql: string) => void;
  /**
   * PostgreSQL statement_timeout of every pooled connection (the API's API_STATEMENT_TIMEOUT_MS); job
   * runs and dedicated connections (migrations) lift it. PGlite runs one statement at a time: none.
   */
  statementTimeoutMs?: number;
  /**
   * PGlite: start a new database from this archive of a data directory (`PGlite.dumpDataDir`)
   * instead of an empty cluster. The test suite starts every database from one migrated archive.
   */
  pgliteArchive?: Blob;
}

export async function openDatabase(config: DatabaseConfig, options: OpenOptions = {}): Promise<Database> {
  const opened =
    config.kind === 'pglite' ? await openPglite(config.dataDir, options) : await openPostgres(config, options);
  // Closing twice (a shutdown path and a test's cleanup, say) is harmless.
  let closing: Promise<void> | undefined;
  const db: Database = { ...opened, close: () => (closing ??= opened.close()) };
  if (options.migrate !== false) {
    const conn = await db.connect();
    try {
      await applyMigrations(conn);
      await refreshTimeZoneNames(conn);
    } catch (error) {
      // Release before closing: pg's pool.end() waits for every checked-out client, so closing
      // first would hang forever.
      await conn.release();
      await db.close();
      throw error;
    }
    await conn.release();
  }
  return db;
}

function prismaClient(adapter: PrismaPg | PrismaPGlite, onQuery?: (sql: string) => void): PrismaClient {
  if (!onQuery) return new PrismaClient({ adapter });
  const client = new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] });
  client.$on('query' as never, (event: { query: string }) => onQuery(event.query));
  return client;
}

async function openPglite(dataDir: string | null, options: OpenOptions): Promise<Database> {
  const releaseLock = dataDir ? await lockDataDir(dataDir) : async () => {};
  let pglite: PGlite;
  try {
    pglite = await PGlite.create({
      ...(dataDir ? { dataDir } : {}),
      loadDataDir: options.pgliteArchive,
      extensions: pgliteExtensions,
    });
  } catch (error) {
    await releaseLock();
    throw new DatabaseConfigError(
      `cannot open the embedded database in ${dataDir}: ${(error as Error).message}. ` +
        'Remove the directory to start afresh, or set DATA_DIR.',
    );
  }
  const prisma = prismaClient(new PrismaPGlite(pglite), options.onQuery);
  const { onQuery } = options;
  return {
    prisma,
    kind: 'pglite',
    label: dataDir ? `PGlite in ${dataDir}` : 'PGlite in memory',
    // PGlite's query() waits for a transaction in progress on the instance: never runs inside one.
    run: async <T>(_name: string, sql: string, params: unknown[]) => {
      onQuery?.(sql);
      return (await pglite.query<T>(sql, params)).rows;
    },
    async connect() {
      return {
        query: async <T>(sql: string, params?: unknown[]) => (await pglite.query<T>(sql, params)).rows,
        exec: async (sql: string) => {
          await pglite.exec(sql);
        },
        // PGlite reads COPY input from the blob it is given under /dev/blob.
        copyFrom: async (target: string, text: string) => {
          await pglite.query(`COPY ${target} FROM '/dev/blob'`, [], { blob: new Blob([text]) });
        },
        release: async () => {},
      };
    },
    async close() {
      await prisma.$disconnect();
      // Closing PGlite flushes its data directory: what was written survives a restart.
      await pglite.close();
      await releaseLock();
    },
  };
}

/** PGlite is single-process: a second process on the same directory would corrupt it. */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  const lockPath = path.join(path.dirname(dataDir), `${path.basename(dataDir)}.lock`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number(await readFile(lockPath, 'utf8').catch(() => ''));
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new DatabaseConfigError(
          `the embedded database in ${dataDir} is in use by process ${pid}: stop it first, ` +
            'or give this process its own DATA_DIR (or use DATABASE_URL=postgresql://…).',
        );
      }
      await rm(lockPath, { force: true }); // left by a process that is gone
    }
  }
  throw new DatabaseConfigError(`cannot lock the embedded database in ${dataDir}`);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Names statements so that pg prepares each once per connection instead of parsing and planning it
 * on every call (half of PostgreSQL's work for recordAttempt). Statements with many parameters (long
 * IN lists, bulk unnest) stay unnamed so the cache stays bounded.
 */
function preparedStatementName(query: { sql: string; args: unknown[] }): string {
  if (query.args.length > 24) return undefined as unknown as string;
  return `ll_${createHash('sha1').update(query.sql).digest('base64url')}`;
}

async function openPostgres(
  config: Extract<DatabaseConfig, { kind: 'postgres' }>,
  options: OpenOptions,
): Promise<Database> {
  const label = `PostgreSQL at ${redactUrl(config.url)}`;
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolSize,
    connectionTimeoutMillis: 10_000,
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
  });
  // An idle client that loses its server must not crash the process; the next query reports it.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => {});
    throw new DatabaseConfigError(
      `cannot reach ${label}: ${(error as Error).message}. ` +
        'Start PostgreSQL or fix DATABASE_URL (unset it to use the embedded database).',
    );
  }
  const prisma = prismaClient(new PrismaPg(pool, { statementNameGenerator: preparedStatementName }), options.onQuery);
  const { onQuery } = options;
  return {
    prisma,
    kind: 'postgres',
    label,
    run: async <T>(name: string, sql: string, params: unknown[]) => {
      onQuery?.(sql);
      return (await pool.query({ name, text: sql, values: params })).rows as T[];
    },
    pool: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: config.poolSize }),
    async connect() {
      const client = await pool.connect();
      if (options.statementTimeoutMs) await client.query('SET statement_timeout = 0');
      return {
        query: async <T>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as T[],
        exec: async (sql: string) => {
          await client.query(sql);
        },
        copyFrom: (target: string, text: string) =>
          pipeline(Readable.from([text]), client.query(copyStreamFrom(`COPY ${target} FROM STDIN`))),
        release: async () => {
          if (options.statementTimeoutMs) await client.query('RESET statement_timeout').catch(() => {});
          client.release();
        },
      };
    },
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}
