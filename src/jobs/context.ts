// What every job step receives: the run's transaction and the instants and day it acts for.

import type { Transaction } from '../db/types.ts';
import type { JobName } from '../generated/prisma/client.ts';
import type { Logger } from '../logger.ts';
import type { PubSub } from '../pubsub.ts';
import type { JobsConfig } from './config.ts';

export interface RunContext {
  /** Every write of the run goes through this transaction; it commits with the SUCCEEDED mark. */
  tx: Transaction;
  job: JobName;
  runId: string;
  /** The scheduled instant the run stands for. */
  slot: Date;
  /** The instant the run acts as of: inactivity, decay and retention are measured to it. */
  at: Date;
  /** The day the run closes, YYYY-MM-DD in JOBS_TZ (its MasteryHistory and UsageStat date). */
  date: string;
  /**
   * Attempts with recordedAt in (windowStart, windowEnd] are this run's (NIGHTLY): windowStart is the
   * previous successful run's watermark (null: from the beginning), windowEnd = max(windowStart, at).
   */
  windowStart: Date | null;
  windowEnd: Date;
  /**
   * The run acts as of an instant before attempts already processed (a backfill of a day a later run
   * has closed): it must not write the current scores into that day's history.
   */
  stale: boolean;
  /**
   * Rebuild everything a step derives as if nothing had been stored (the reference the incremental
   * work is tested against, docs/nightly-incremental.md); otherwise a step touches only what changed.
   */
  full: boolean;
  config: JobsConfig;
  log: Logger;
  /** The event bus, to announce what the run changed (null for a run from the CLI). */
  pubsub: PubSub | null;
  /** Runs `callback` once the run has committed (e.g. publishing plan changes); never if it rolls back. */
  afterCommit(callback: () => void | Promise<void>): void;
}

/** Counts a step reports; they are stored in JobRun.stats. */
export type StepStats = Record<string, number>;

export interface Step {
  name: string;
  run(ctx: RunContext): Promise<StepStats>;
}
