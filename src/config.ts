import path from 'node:path';
import { z } from 'zod';
import { type DatabaseConfig, databaseConfigFrom, dataDirFrom } from './db/client.ts';

export interface AppConfig {
  port: number;
  host: string;
  dataDir: string;
  database: DatabaseConfig;
  redisUrl: string | null;
  /** null: development mode (a generated secret kept in DATA_DIR). */
  jwtSecret: string | null;
  jobsTimezone: string;
  nightlyCron: string;
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
  JOBS_TZ: z.string().default('UTC'),
  NIGHTLY_CRON: z.string().default('0 2 * * *'),
  DEMO_DATA: flag,
  SCHEDULER: flag,
  TARGET_SUCCESS: z.coerce
    .number()
    .gt(0, 'must lie strictly between 0 and 1')
    .lt(1, 'must lie strictly between 0 and 1')
    .default(0.75),
});

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  if (!isTimeZone(e.JOBS_TZ))
    throw new ConfigError(`JOBS_TZ=${e.JOBS_TZ} is not an IANA time zone (e.g. UTC, Europe/Berlin).`);
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: dataDirFrom(env),
    database: databaseConfigFrom(env),
    redisUrl: e.REDIS_URL ?? null,
    jwtSecret: e.JWT_SECRET ?? null,
    jobsTimezone: e.JOBS_TZ,
    nightlyCron: e.NIGHTLY_CRON,
    demoData: e.DEMO_DATA,
    scheduler: e.SCHEDULER,
    targetSuccess: e.TARGET_SUCCESS,
  };
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const projectRoot = path.resolve(new URL('..', import.meta.url).pathname);
