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
}

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
});

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
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
  };
}
