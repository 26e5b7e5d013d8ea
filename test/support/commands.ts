// The command line as a user runs it (`tsx src/cli.ts …`), against a database of its own: an on-disk
// PGlite directory, or a fresh PostgreSQL database in the 'postgres' project.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type DatabaseConfig, openDatabase } from '../../src/db/client.ts';
import { createTestDatabase, pgliteTemplateArchive, testDatabaseKind } from './database.ts';

const root = path.resolve(import.meta.dirname, '../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');

export interface CommandDatabase {
  /** The environment the commands run with (DATA_DIR or DATABASE_URL set, jobs in UTC, no log noise). */
  env: NodeJS.ProcessEnv;
  /** The same database, for opening it in the test (never while a command holds a PGlite directory). */
  database: DatabaseConfig;
  run(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  destroy(): Promise<void>;
}

export async function commandDatabase(prefix: string): Promise<CommandDatabase> {
  const dataDir = await mkdtemp(path.join(tmpdir(), `learnloop-${prefix}-`));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    DATABASE_URL: '',
    JOBS_TZ: 'UTC',
    NIGHTLY_CRON: '',
    MASTERY_DECAY_CRON: '',
    LOG_LEVEL: 'silent',
  };
  // Migrated already, like the test databases: the commands find every migration applied.
  let database: DatabaseConfig = { kind: 'pglite', dataDir: path.join(dataDir, 'pglite') };
  let drop: (() => Promise<void>) | null = null;
  if (testDatabaseKind === 'postgres') {
    const copy = await createTestDatabase();
    await copy.close();
    env.DATABASE_URL = copy.url ?? '';
    database = { kind: 'postgres', url: env.DATABASE_URL, poolSize: 2 };
    drop = copy.destroy;
  } else {
    await (await openDatabase(database, { pgliteArchive: await pgliteTemplateArchive() })).close();
  }
  return {
    env,
    database,
    run(...args) {
      const child = spawn(tsx, ['src/cli.ts', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
    },
    async destroy() {
      await rm(dataDir, { recursive: true, force: true });
      await drop?.();
    },
  };
}
