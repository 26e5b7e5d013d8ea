// Configuration of the scheduled jobs, from the environment (README: "Jobs").
import { z } from 'zod';
import { isTimeZone } from '../domain/calendar.ts';
import { defaultLearnerModelParameters, type LearnerModelParameters } from '../domain/learner-model.ts';
import { type MasteryParameters, masteryDefaults } from '../domain/mastery.ts';
import { ConfigError } from '../errors.ts';
import { AttemptContext } from '../generated/prisma/enums.ts';
import { parseCron } from './slots.ts';

export interface JobsConfig {
  /** IANA time zone of the schedule and of the days a run closes (JOBS_TZ). */
  timezone: string;
  /** When NIGHTLY runs (NIGHTLY_CRON, 5 or 6 fields). */
  nightlyCron: string;
  /** When MASTERY_DECAY runs (MASTERY_DECAY_CRON, default every 6 hours). */
  decayCron: string;
  /** Missed slots younger than this are caught up at start-up (JOBS_CATCHUP_DAYS). */
  catchupDays: number;
  /** A RUNNING run whose owner has not started its work within this long may be taken over (JOBS_LEASE_SECONDS). */
  leaseMs: number;
  /**
   * A run acting as of `at` starts reading no earlier than `at` + this (JOBS_SETTLE_MS), so attempts
   * whose recordedAt is ≤ `at` but whose insert was still committing are not missed.
   */
  settleMs: number;
  /** Upper bound of one run's transaction (JOBS_TX_TIMEOUT_SECONDS). */
  transactionTimeoutMs: number;
  /** work_mem of a run's transaction, in MB (JOBS_WORK_MEM_MB). */
  workMemMb: number;
  /** How long a run may wait for a database connection to start its transaction. */
  transactionMaxWaitMs: number;
  /** An open session with no attempt for this long is closed by NIGHTLY (SESSION_IDLE_MINUTES). */
  sessionIdleMinutes: number;
  /** Attempt contexts the mastery EWMA learns from (MASTERY_CONTEXTS, default SESSION). */
  masteryContexts: AttemptContext[];
  /** EWMA and decay parameters (MASTERY_ALPHA; the others are SPEC 3's constants). */
  mastery: MasteryParameters;
  /** Retention of derived rows, in days. */
  retention: { planDays: number; learningPatternDays: number; jobRunDays: number };
  /** MasteryHistory is written for learners who practised in this many days before the run. */
  historyActiveDays: number;
  /** The live learner model's parameters (the --fit file, read at start; src/learner-model-config.ts). */
  learnerModel: LearnerModelParameters;
}

const contexts = Object.values(AttemptContext) as [AttemptContext, ...AttemptContext[]];

const envSchema = z.object({
  JOBS_TZ: z.string().default('UTC'),
  NIGHTLY_CRON: z.string().default('0 2 * * *'),
  MASTERY_DECAY_CRON: z.string().default('0 */6 * * *'),
  JOBS_CATCHUP_DAYS: z.coerce.number().min(0).max(366).default(7),
  JOBS_LEASE_SECONDS: z.coerce.number().positive().default(300),
  JOBS_SETTLE_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  JOBS_TX_TIMEOUT_SECONDS: z.coerce.number().positive().default(3600),
  JOBS_WORK_MEM_MB: z.coerce.number().int().min(1).max(4096).default(64),
  SESSION_IDLE_MINUTES: z.coerce.number().positive().default(120),
  MASTERY_CONTEXTS: z
    .string()
    .default('SESSION')
    .transform((v) => [
      ...new Set(
        v
          .split(',')
          .map((s) => s.trim().toUpperCase())
          .filter(Boolean),
      ),
    ])
    .pipe(z.array(z.enum(contexts)).min(1, 'name at least one of SESSION, PRACTICE, DAILY')),
  MASTERY_ALPHA: z.coerce.number().gt(0).max(1).default(masteryDefaults.alpha),
});

/** A bad JOBS_*, cron or mastery setting: a ConfigError, so the CLI prints just its message. */
export class JobsConfigError extends ConfigError {
  override name = 'JobsConfigError';
}

/** Reads the jobs' settings (loadConfig does, once); `overrides` win (tests and benchmarks pass theirs). */
export function loadJobsConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<JobsConfig> = {}): JobsConfig {
  const parsed = envSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new JobsConfigError(`${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  const config: JobsConfig = {
    timezone: e.JOBS_TZ,
    nightlyCron: e.NIGHTLY_CRON,
    decayCron: e.MASTERY_DECAY_CRON,
    catchupDays: e.JOBS_CATCHUP_DAYS,
    leaseMs: e.JOBS_LEASE_SECONDS * 1000,
    settleMs: e.JOBS_SETTLE_MS,
    transactionTimeoutMs: e.JOBS_TX_TIMEOUT_SECONDS * 1000,
    workMemMb: e.JOBS_WORK_MEM_MB,
    transactionMaxWaitMs: 10 * 60_000,
    sessionIdleMinutes: e.SESSION_IDLE_MINUTES,
    masteryContexts: e.MASTERY_CONTEXTS,
    mastery: { ...masteryDefaults, alpha: e.MASTERY_ALPHA },
    retention: { planDays: 90, learningPatternDays: 90, jobRunDays: 180 },
    historyActiveDays: 30,
    learnerModel: defaultLearnerModelParameters,
    ...overrides,
  };
  if (!isTimeZone(config.timezone))
    throw new JobsConfigError(`JOBS_TZ=${config.timezone} is not an IANA time zone (e.g. UTC, Europe/Berlin).`);
  for (const [name, cron] of [
    ['NIGHTLY_CRON', config.nightlyCron],
    ['MASTERY_DECAY_CRON', config.decayCron],
  ] as const) {
    try {
      parseCron(cron, config.timezone);
    } catch (error) {
      throw new JobsConfigError(
        `${name}="${cron}" is not a cron expression (${(error as Error).message}); ` +
          'e.g. "0 2 * * *", or with seconds "*/5 * * * * *".',
      );
    }
  }
  return config;
}
