// `npm run job`: a backfill runs the days in order through the same ledger (plain lines without a
// terminal); a run held elsewhere or a bad request exits non-zero with a clear message.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { openDatabase, type DatabaseConfig } from '../../src/db/client.ts';
import { createEmptyPostgresDatabase, testDatabaseKind } from '../support/database.ts';

const root = path.resolve(import.meta.dirname, '../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');
let dataDir: string;
let database: DatabaseConfig;
let env: NodeJS.ProcessEnv;
let drop: (() => Promise<void>) | null = null;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'learnloop-job-cli-'));
  env = { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', JOBS_TZ: 'UTC', NIGHTLY_CRON: '', MASTERY_DECAY_CRON: '', LOG_LEVEL: 'silent' };
  database = { kind: 'pglite', dataDir: path.join(dataDir, 'pglite') };
  if (testDatabaseKind === 'postgres') {
    const empty = await createEmptyPostgresDatabase('ll_job_cli');
    env.DATABASE_URL = empty.url;
    database = { kind: 'postgres', url: empty.url, poolSize: 2 };
    drop = empty.drop;
  }
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
  await drop?.();
});

function job(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(tsx, ['src/cli.ts', 'job', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

test('a backfill runs each day as the slot that closes it, once', async () => {
  const backfill = await job('nightly', '--from', '2025-03-01', '--to', '2025-03-02');
  expect(backfill.stderr).toBe('');
  expect(backfill.code).toBe(0);
  expect(backfill.stdout).toContain('NIGHTLY 2025-03-01: masteryEwma done in');
  expect(backfill.stdout).toMatch(/NIGHTLY 2025-03-01 \(as of 2025-03-02T02:00:00.000Z\): SUCCEEDED in [\d.]+ s/);
  expect(backfill.stdout).toMatch(/NIGHTLY 2025-03-02 \(as of 2025-03-03T02:00:00.000Z\): SUCCEEDED/);
  expect(backfill.stdout.indexOf('NIGHTLY 2025-03-01 (as of')).toBeLessThan(backfill.stdout.indexOf('NIGHTLY 2025-03-02 (as of'));

  const again = await job('nightly', '--date', '2025-03-01');
  expect(again.code).toBe(0);
  expect(again.stdout).toMatch(/NIGHTLY 2025-03-01 \(as of 2025-03-02T02:00:00.000Z\): already done by run/);
});

test('a run held by another owner, or a bad request, exits non-zero with a message', async () => {
  const db = await openDatabase(database);
  try {
    // MASTERY_DECAY for 2025-03-01 is the 00:00 slot of the 2nd.
    await db.prisma.jobRun.create({ data: { job: 'MASTERY_DECAY', slot: new Date('2025-03-02T00:00:00Z'), owner: 'elsewhere#1', leaseUntil: new Date(Date.now() + 3_600_000) } });
  } finally {
    await db.close();
  }
  const busy = await job('decay', '--date', '2025-03-01');
  expect(busy.code).toBe(1);
  expect(busy.stderr).toContain('learnloop: MASTERY_DECAY 2025-03-01 is running elsewhere');

  const bad = await job('nightly', '--from', '2025-03-02');
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('learnloop: --from and --to go together');
});
