// Stopping `npm start` with SIGTERM (what a process manager sends): the server stops promptly, an
// open SSE stream ends cleanly and a graphql-ws client is told the server is going away (1001).
// And configuration mistakes are one line each, with a non-zero exit.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WebSocket } from 'ws';

const root = path.resolve(import.meta.dirname, '..');
const tsx = path.join(root, 'node_modules/.bin/tsx');
let dataDir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'learnloop-shutdown-'));
  env = {
    ...process.env,
    DATA_DIR: dataDir,
    DATABASE_URL: '',
    JWT_SECRET: '',
    REDIS_URL: '',
    SCHEDULER: '0',
    DEMO_DATA: '0',
    LOG_LEVEL: 'info',
  };
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

// The process is what is tested, not the database: this file runs on PGlite only (test/vitest.config.ts).
describe('SIGTERM to npm start', () => {
  test('stops promptly, ending an open SSE stream and WebSocket connection cleanly', {
    timeout: 120_000,
  }, async () => {
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: root,
      env: { ...env, PORT: '0', HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    npm.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    npm.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start:\n${output}`)), 90_000);
      npm.stdout!.on('data', () => {
        const match = /"url":"(http:\/\/[^"]+)\/graphql"/.exec(output);
        if (match && output.includes('Paste into GraphiQL')) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
    });
    const admin = /Admin token:\s+(\S+)/.exec(output)![1]!;
    const sse = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${admin}` },
      body: JSON.stringify({ query: 'subscription { sessionEnded { id } }' }),
    });
    expect(sse.status).toBe(200);
    const reader = sse.body!.getReader();
    const ws = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    const wsClosed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await new Promise((resolve) => ws.once('open', resolve));

    const started = Date.now();
    npm.kill('SIGTERM');
    // npm passes the signal on to the server (the start script execs it: no shell in between to swallow it).
    const timeout = setTimeout(() => npm.kill('SIGKILL'), 20_000);
    // The stream ends (done), it is not cut with an error.
    let done = false;
    while (!done) ({ done } = await reader.read());
    expect(await wsClosed).toBe(1001);
    expect(await exited(npm)).toBe(0);
    clearTimeout(timeout);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(output).toMatch(/"signal":"SIGTERM".*shutting down/);
    // Nothing listens any more.
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });
});

describe('configuration mistakes: one line saying what to do, non-zero exit', () => {
  const serve = (extra: NodeJS.ProcessEnv) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      // In memory: a test's server still stopping never holds the data directory of the next.
      const child = spawn(tsx, ['src/cli.ts', 'serve'], {
        cwd: root,
        env: { ...env, DATABASE_URL: 'memory://', ...extra },
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('exit', (code) => resolve({ code, stderr }));
    });

  test.each([
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL=loud is not a log level: use one of fatal, error, warn, info/],
    [{ JWT_SECRET: 'short' }, /JWT_SECRET is 5 bytes; it must be at least 32/],
    [{ CORS_ORIGINS: 'https://ok.example,*' }, /CORS_ORIGINS: \* is not an origin/],
  ])('%o', async (extra, message) => {
    const result = await serve(extra);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n'), result.stderr).toHaveLength(1);
  });

  test('a port in use', { timeout: 60_000 }, async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      const result = await serve({ PORT: String(port), HOST: '127.0.0.1' });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`port ${port} on 127.0.0.1 is in use .*set PORT to a free port`));
      expect(result.stderr.trim().split('\n'), result.stderr).toHaveLength(1);
    } finally {
      holder.close();
    }
  });
});
