// The commands a user runs: `npm start` (development mode, tokens printed, graceful shutdown, data kept
// across restarts), `npm run token`, and one clear line for a bad configuration.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createEmptyPostgresDatabase, testDatabaseKind } from './support/database.ts';

const root = path.resolve(import.meta.dirname, '..');
const tsx = path.join(root, 'node_modules/.bin/tsx');
let dataDir: string;
let env: NodeJS.ProcessEnv;
let dropDatabase: (() => Promise<void>) | null = null;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'learnloop-cli-'));
  env = {
    ...process.env,
    DATA_DIR: dataDir,
    JWT_SECRET: '',
    DATABASE_URL: '',
    REDIS_URL: '',
    SCHEDULER: '0',
    LOG_LEVEL: 'info',
    NODE_ENV: 'production',
  };
  if (testDatabaseKind === 'postgres') {
    const database = await createEmptyPostgresDatabase('ll_cli');
    env.DATABASE_URL = database.url;
    dropDatabase = database.drop;
  }
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
  await dropDatabase?.();
});

interface Started {
  child: ChildProcess;
  output: () => string;
  url: string;
}

function startServer(): Promise<Started> {
  const child = spawn(tsx, ['src/cli.ts', 'serve'], { cwd: root, env: { ...env, PORT: '0', HOST: '127.0.0.1' } });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    // A server that did not start is stopped (SIGTERM: tsx passes it on to the server's process), or it
    // would outlive the test on a data directory removed under it.
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`server did not start:\n${output}`));
    }, 90_000);
    child.stdout!.on('data', () => {
      const match = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (match && output.includes('Paste into GraphiQL')) {
        clearTimeout(timer);
        resolve({ child, output: () => output, url: match[1]! });
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

async function post(
  url: string,
  token: string,
  query: string,
): Promise<{ data?: Record<string, unknown>; errors?: unknown[] }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as never;
}

function run(
  args: string[],
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(tsx, ['src/cli.ts', ...args], { cwd: root, env: { ...env, ...extraEnv } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const tokensIn = (text: string) => [...text.matchAll(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g)].map((m) => m[0]);

test('npm start: demo data, tokens to paste, graceful shutdown, data kept across a restart', {
  timeout: 180_000,
}, async () => {
  const first = await startServer();
  const [adminToken, learnerToken] = tokensIn(first.output());
  expect(adminToken).toBeDefined();
  expect(learnerToken).toBeDefined();
  // Ready links to the dashboard (built by npm install), served by the same server.
  const origin = new URL(first.url).origin;
  expect(first.output()).toContain(`${origin}/dashboard/#token=${adminToken}`);
  expect(first.output()).toContain(`${origin}/dashboard/#token=${learnerToken}`);
  const page = await fetch(`${origin}/dashboard/`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<div id="app">');
  const endpoint = `${first.url}/graphql`;
  const questions = await post(
    endpoint,
    learnerToken!,
    '{ questions(first: 5) { edges { node { id } } } ' +
      'me { email sessions(first: 1) { edges { node { summary { accuracy } } } } } }',
  );
  expect(questions.errors).toBeUndefined();
  expect(JSON.stringify(questions.data)).toContain('learner@learnloop.dev');
  const created = await post(
    endpoint,
    adminToken!,
    'mutation { createUser(input: { name: "Kept", email: "kept@example.com" }) { id } }',
  );
  expect(created.errors).toBeUndefined();
  expect(await stop(first.child)).toBe(0);

  const second = await startServer();
  const users = await post(
    `${second.url}/graphql`,
    tokensIn(second.output())[0]!,
    '{ users(first: 100) { edges { node { email } } } }',
  );
  expect(JSON.stringify(users.data)).toContain('kept@example.com');
  // The same secret (kept in DATA_DIR) signs the second run's tokens: the first run's still work.
  expect((await post(`${second.url}/graphql`, adminToken!, '{ me { id } }')).errors).toBeUndefined();
  // While the server holds the embedded database, a token is signed from an id and a role.
  const keptId = (created.data as { createUser: { id: string } }).createUser.id;
  const byId = await run(['token', keptId, '--role', 'LEARNER']);
  expect(byId.code).toBe(0);
  const me = await post(`${second.url}/graphql`, tokensIn(byId.stdout)[0]!, '{ me { email } }');
  expect(me.data).toEqual({ me: { email: 'kept@example.com' } });
  expect(await stop(second.child)).toBe(0);

  const byEmail = await run(['token', 'kept@example.com']);
  expect(byEmail.code, byEmail.stderr).toBe(0);
  expect(tokensIn(byEmail.stdout)).toHaveLength(1);
});

test('a bad DATABASE_URL stops start-up with one clear line and no password', async () => {
  const result = await run(['serve'], { DATABASE_URL: 'mysql://app:hunter2@db.example/learn' });
  expect(result.code).toBe(1);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(/DATABASE_URL/);
  expect(result.stderr).not.toMatch(/hunter2/);
});

test('an unreachable PostgreSQL stops start-up with one clear line', async () => {
  const result = await run(['serve'], { DATABASE_URL: 'postgresql://app:hunter2@127.0.0.1:1/learn' });
  expect(result.code).toBe(1);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(/cannot reach PostgreSQL/);
  expect(result.stderr).not.toMatch(/hunter2/);
});
