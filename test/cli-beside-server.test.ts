// The CLI beside a running `npm start` that holds the embedded database: `token` and `job` are run by
// the server for the CLI (src/server/local-admin.ts) and print what they print without a server.
// And a bad option value is one line and exit code 2.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadJobsConfig } from '../src/jobs/config.ts';
import { cronSlots, scheduledRunDate } from '../src/jobs/slots.ts';
import { describeOnlyOn } from './support/database.ts';

const root = path.resolve(import.meta.dirname, '..');
const tsx = path.join(root, 'node_modules/.bin/tsx');

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(tsx, ['src/cli.ts', ...args], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

// The embedded database is what a running server holds: PGlite only.
describeOnlyOn('pglite', 'the CLI beside a running server', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let server: ChildProcess;
  let url: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'learnloop-beside-'));
    env = { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', JWT_SECRET: '', REDIS_URL: '', SCHEDULER: '0' };
    env.LOG_LEVEL = 'info';
    server = spawn(tsx, ['src/cli.ts', 'serve'], { cwd: root, env: { ...env, PORT: '0', HOST: '127.0.0.1' } });
    let output = '';
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 90_000);
      server.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /"url":"(http:\/\/[^"]+)\/graphql"/.exec(output);
        if (match && output.includes('Paste into GraphiQL')) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      server.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
    });
  }, 120_000);

  afterAll(async () => {
    if (server?.exitCode === null) {
      await new Promise((resolve) => {
        server.once('exit', resolve);
        server.kill('SIGTERM');
      });
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  test('token <email> and job work while the server holds the data directory, with the same output', async () => {
    // tsx runs the server in a child process of its own: the pid written is that child's.
    const state = JSON.parse(await readFile(path.join(dataDir, 'server.json'), 'utf8')) as { pid: number };
    expect(state.pid).toBeGreaterThan(server.pid!);
    const token = await run(['token', 'learner@learnloop.dev'], env);
    expect(token, token.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(token.stdout).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const me = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token.stdout.trim()}` },
      body: JSON.stringify({ query: '{ me { email } }' }),
    });
    expect(await me.json()).toEqual({ data: { me: { email: 'learner@learnloop.dev' } } });

    // The demo's history ran every NIGHTLY whose slot has passed; the latest is reported and skipped, as
    // without a server. (Before 02:00 that is the day before yesterday's.)
    const jobs = loadJobsConfig(env);
    const now = new Date();
    const lastSlot = cronSlots(jobs.nightlyCron, jobs.timezone, new Date(now.getTime() - 3 * 86_400_000), now).at(-1)!;
    const lastNight = scheduledRunDate(lastSlot, jobs.timezone);
    const done = await run(['job', 'nightly', '--date', lastNight], env);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(new RegExp(`^NIGHTLY ${lastNight} \\(as of [^)]+\\): already done by run `));
    const patterns = await run(['job', 'patterns'], env);
    expect(patterns.code, patterns.stderr).toBe(0);
    expect(patterns.stdout).toMatch(/^PATTERNS: learningPatterns done in \d+ ms\n/);
    expect(patterns.stdout).toMatch(/\nPATTERNS \(as of [^)]+\): SUCCEEDED in [\d.]+ s — patterns=6\b[^\n]*\n$/);
    const bad = await run(['job', 'nightly', '--date', '2025-13-45'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^learnloop: --date 2025-13-45 is not a day/);
    // The server is still serving, and its data directory is still its own.
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });

  test('the local endpoint takes only an ADMIN token signed with the server secret, on loopback', async () => {
    const { url: adminUrl } = JSON.parse(await readFile(path.join(dataDir, 'server.json'), 'utf8')) as { url: string };
    expect(new URL(adminUrl).hostname).toBe('127.0.0.1');
    const refused = await fetch(`${adminUrl}/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer not-a-token' },
      body: JSON.stringify({ argv: ['token', 'learner@learnloop.dev'] }),
    });
    expect(refused.status).toBe(401);
  });
});

test('a bad option value is one clear line and exit code 2', async () => {
  const env = { ...process.env, DATA_DIR: await mkdtemp(path.join(tmpdir(), 'learnloop-usage-')), DATABASE_URL: '' };
  for (const args of [
    ['token', '00000000-0000-4000-8000-000000000001', '--role', 'ADMIN', '--expires', 'forever'],
    ['evaluate', '--half-life-hours', '-3'],
  ]) {
    const result = await run(args, env);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n'), result.stderr).toHaveLength(1);
  }
  const expires = await run(
    ['token', '00000000-0000-4000-8000-000000000001', '--role', 'ADMIN', '--expires', 'forever'],
    env,
  );
  expect(expires.stderr).toMatch(/--expires forever is not a duration/);
  const halfLife = await run(['evaluate', '--half-life-hours', '-3'], env);
  expect(halfLife.stderr).toMatch(/--half-life-hours takes .* positive hours, not "-3"/);
  await rm(env.DATA_DIR, { recursive: true, force: true });
});
