// Where a command writes and which database it uses. Run from a shell, a command writes to the
// process's stdout/stderr and opens the database itself; run inside the server on the CLI's behalf
// (the embedded database is the server's, see src/server/local-admin.ts), it writes into buffers sent
// back to the CLI, uses the server's open database and sets its own exit code, not the server's.
import { AsyncLocalStorage } from 'node:async_hooks';
import { type Database, type DatabaseConfig, type OpenOptions, openDatabase } from './db/client.ts';

export interface CommandOutput {
  stdout: string;
  stderr: string;
  exitCode: number;
}

interface Capture {
  stdout: string[];
  stderr: string[];
  exitCode: number;
  db: Database;
}

const capture = new AsyncLocalStorage<Capture>();

function stream(name: 'stdout' | 'stderr') {
  return {
    write(text: string): void {
      const captured = capture.getStore();
      if (captured) captured[name].push(text);
      else process[name].write(text);
    },
    /** A terminal (progress bars): never when captured. */
    get isTTY(): boolean {
      return !capture.getStore() && process[name].isTTY === true;
    },
  };
}

export const stdout = stream('stdout');
export const stderr = stream('stderr');

export function setExitCode(code: number): void {
  const captured = capture.getStore();
  if (captured) captured.exitCode = code;
  else process.exitCode = code;
}

/** The database of a command: its own, or the server's when run inside it (closing that is a no-op). */
export function openCommandDatabase(config: DatabaseConfig, options?: OpenOptions): Promise<Database> {
  const captured = capture.getStore();
  if (captured) return Promise.resolve({ ...captured.db, close: async () => {} });
  return openDatabase(config, options);
}

/** Runs a command inside this process with the given database, capturing what it writes. */
export async function captureCommand(db: Database, run: () => Promise<void>): Promise<CommandOutput> {
  const captured: Capture = { stdout: [], stderr: [], exitCode: 0, db };
  await capture.run(captured, run);
  return { stdout: captured.stdout.join(''), stderr: captured.stderr.join(''), exitCode: captured.exitCode };
}
