// The command-line preamble every benchmark shares: options with --help, usage errors (exit 2), the
// PostgreSQL server the bench databases are made on.
import { type ParseArgsConfig, parseArgs } from 'node:util';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

export const benchDatabaseUrl = process.env.BENCH_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/test';

const databaseHelp =
  '  BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test):\n' +
  '                 the PostgreSQL server the bench database is created on';

export type Backend = 'postgres' | 'pglite';

export interface BenchOptions<O extends ParseArgsOptionsConfig> {
  values: ReturnType<typeof parseArgs<{ options: O }>>['values'];
  /** Prints the message and the usage, exits 2. */
  fail(message: string): never;
  /** A number option, at least `min` (default 1), whole unless `integer: false`. */
  number(name: string, text: string, rule?: { min?: number; integer?: boolean }): number;
  /** `--only postgres|pglite`, or both. */
  backends(only: string | undefined): Backend[];
}

/** Parses the options (`usage` without the BENCH_DATABASE_URL line); `--help` prints the usage and exits 0. */
export function parseBenchOptions<const O extends ParseArgsOptionsConfig>(usage: string, options: O): BenchOptions<O> {
  const fullUsage = `${usage}\n${databaseHelp}`;
  const fail = (message: string): never => {
    console.error(`${message}\n${fullUsage}`);
    process.exit(2);
  };
  let values: BenchOptions<O>['values'];
  try {
    values = parseArgs({ options: { ...options, help: { type: 'boolean', short: 'h', default: false } } })
      .values as BenchOptions<O>['values'];
  } catch (error) {
    return fail((error as Error).message);
  }
  if ((values as { help?: boolean }).help) {
    console.log(fullUsage);
    process.exit(0);
  }
  return {
    values,
    fail,
    number(name, text, { min = 1, integer = true } = {}) {
      const value = Number(text);
      if (text.trim() === '' || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
        fail(`--${name} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}, not ${JSON.stringify(text)}`);
      }
      return value;
    },
    backends(only) {
      if (only === undefined) return ['postgres', 'pglite'];
      if (only !== 'postgres' && only !== 'pglite')
        fail(`--only takes postgres or pglite, not ${JSON.stringify(only)}`);
      return [only as Backend];
    },
  };
}
