// The CLI beside a running server. The embedded database belongs to one process; while `npm start`
// holds it, `npm run token` and `npm run job` (and the other commands listed below) ask the server to
// run them instead: the server listens for that on a loopback-only port of its own, written with its
// pid to DATA_DIR/server.json, and accepts a short-lived ADMIN token signed with the same secret (the
// development secret in DATA_DIR, or JWT_SECRET). The command runs in the server with the server's
// configuration and database; its output and exit code come back as they would have been printed.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { signToken, verifyToken } from '../auth.ts';
import type { CommandOutput } from '../command-io.ts';
import { isAlive } from '../db/client.ts';
import type { Logger } from '../logger.ts';

/** The commands a running server runs for the CLI. */
export const forwardedCommands = new Set(['token', 'job', 'export', 'erase']);

const commandsPath = '/commands';
const stateFile = (dataDir: string) => path.join(dataDir, 'server.json');

export interface LocalAdmin {
  url: string;
  stop(): Promise<void>;
}

export interface LocalAdminOptions {
  dataDir: string;
  key: Uint8Array;
  log: Logger;
  run(argv: string[]): Promise<CommandOutput>;
}

/** The CLI's token for the holding server lives this long. */
const commandTokenSeconds = 60;

export async function startLocalAdmin(options: LocalAdminOptions): Promise<LocalAdmin> {
  const { dataDir, key, log, run } = options;
  const server = createServer((req, res) => {
    const reply = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method !== 'POST' || req.url !== commandsPath) return reply(404, { error: 'not found' });
    void (async () => {
      const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      const viewer = token
        ? await verifyToken(key, token, commandTokenSeconds).then(
            (v) => v.claims,
            () => null,
          )
        : null;
      if (viewer?.role !== 'ADMIN') return reply(401, { error: 'an ADMIN token signed with the server secret' });
      const argv = (JSON.parse(await body(req)) as { argv?: unknown }).argv;
      if (
        !Array.isArray(argv) ||
        !argv.every((a) => typeof a === 'string') ||
        !forwardedCommands.has(String(argv[0]))
      ) {
        return reply(400, { error: `argv must name one of ${[...forwardedCommands].join(', ')}` });
      }
      log.info({ command: argv[0] }, 'running a CLI command for the command line');
      reply(200, await run(argv));
    })().catch((error: unknown) => {
      log.error({ err: error }, 'CLI command for the command line failed');
      reply(500, { error: 'the command failed in the server; see its log' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await writeFile(stateFile(dataDir), JSON.stringify({ pid: process.pid, url }), { mode: 0o600 });
  return {
    url,
    async stop() {
      await rm(stateFile(dataDir), { force: true });
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Runs a command in the server that holds DATA_DIR, if one does; null when none does (the command
 * then runs here as usual).
 */
export async function runInHoldingServer(
  dataDir: string,
  key: Uint8Array,
  argv: string[],
): Promise<CommandOutput | null> {
  if (!forwardedCommands.has(argv[0] ?? '')) return null;
  const state = await readFile(stateFile(dataDir), 'utf8').then(
    (text) => JSON.parse(text) as { pid?: number; url?: string },
    () => null,
  );
  if (!state?.pid || !state.url || state.pid === process.pid || !isAlive(state.pid)) return null;
  const token = await signToken(
    key,
    { userId: '00000000-0000-0000-0000-000000000000', role: 'ADMIN' },
    `${commandTokenSeconds}s`,
  );
  let response: Response;
  try {
    response = await fetch(`${state.url}${commandsPath}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ argv }),
    });
  } catch {
    return null; // not answering: the command runs here and says who holds the database
  }
  const result = (await response.json()) as CommandOutput & { error?: string };
  if (!response.ok)
    return { stdout: '', stderr: `learnloop: the running server refused: ${result.error}\n`, exitCode: 1 };
  return result;
}
