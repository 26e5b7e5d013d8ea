// The configuration, read from the environment once at start (src/cli.ts) and passed down: the
// server's context and the services get it from there, nothing reads the environment later.
import { z } from 'zod';
import { type DatabaseConfig, databaseConfigFrom, dataDirFrom } from './db/client.ts';
import { ConfigError } from './errors.ts';
import { type JobsConfig, loadJobsConfig } from './jobs/config.ts';

export interface AppConfig {
  port: number;
  host: string;
  dataDir: string;
  database: DatabaseConfig;
  redisUrl: string | null;
  /** null: development mode (a generated secret kept in DATA_DIR). */
  jwtSecret: string | null;
  /** The jobs' settings (JOBS_*, the crons, the mastery model's): the scheduler, runJob and the CLI use them. */
  jobs: JobsConfig;
  demoData: boolean;
  scheduler: boolean;
  /** TARGET_SUCCESS: the success rate nextQuestions aims at. */
  targetSuccess: number;
  /** Origins a browser may call the API from (with credentials); null: the server's own origin only. */
  corsOrigins: string[] | null;
}

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** HS256 wants a key at least as long as its hash: 32 bytes. */
export const minimumSecretBytes = 32;

const flag = z
  .string()
  .optional()
  .transform((v) => !(v === '0' || v?.toLowerCase() === 'false'));

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().default('0.0.0.0'),
  REDIS_URL: z.string().optional(),
  JWT_SECRET: z.string().optional(),
  DEMO_DATA: flag,
  SCHEDULER: flag,
  TARGET_SUCCESS: z.coerce
    .number()
    .gt(0, 'must lie strictly between 0 and 1')
    .lt(1, 'must lie strictly between 0 and 1')
    .default(0.75),
  CORS_ORIGINS: z.string().optional(),
  LOG_LEVEL: z.string().optional(),
});

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  // The logger reads LOG_LEVEL itself (src/logger.ts); a bad one is refused here, before it is made.
  if (e.LOG_LEVEL !== undefined && !(logLevels as readonly string[]).includes(e.LOG_LEVEL))
    throw new ConfigError(`LOG_LEVEL=${e.LOG_LEVEL} is not a log level: use one of ${logLevels.join(', ')}.`);
  if (e.JWT_SECRET !== undefined && Buffer.byteLength(e.JWT_SECRET) < minimumSecretBytes)
    throw new ConfigError(
      `JWT_SECRET is ${Buffer.byteLength(e.JWT_SECRET)} bytes; it must be at least ${minimumSecretBytes}: ` +
        "use the identity service's HS256 secret (e.g. openssl rand -base64 32), or unset it for development mode.",
    );
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: dataDirFrom(env),
    database: databaseConfigFrom(env),
    redisUrl: e.REDIS_URL ?? null,
    jwtSecret: e.JWT_SECRET ?? null,
    jobs: loadJobsConfig(env),
    demoData: e.DEMO_DATA,
    scheduler: e.SCHEDULER,
    targetSuccess: e.TARGET_SUCCESS,
    corsOrigins: e.CORS_ORIGINS === undefined ? null : corsOriginsFrom(e.CORS_ORIGINS),
  };
}

/** CORS_ORIGINS: a comma-separated list of origins (scheme://host[:port]). */
function corsOriginsFrom(value: string): string[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((origin) => {
      let parsed: URL | null = null;
      try {
        parsed = new URL(origin);
      } catch {}
      if (!parsed || parsed.origin !== origin.replace(/\/$/, '')) {
        throw new ConfigError(
          `CORS_ORIGINS: ${origin} is not an origin: list them as scheme://host[:port], comma-separated ` +
            '(e.g. https://app.example.com,http://localhost:5173); * is not allowed with credentials.',
        );
      }
      return parsed.origin;
    });
}
