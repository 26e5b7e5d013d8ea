// Runs one job for one slot, exactly once: the scheduler, the runJob mutation and the CLI all come
// through here.
//
//   claim the (job, slot) row (ledger.ts) ─ not ours: return what is there
//   wait until `at` + JOBS_SETTLE_MS has passed (attempts recorded up to `at` have committed)
//   one transaction: lock our row, take the jobs lock, read the previous watermark,
//                    run the steps in order, mark SUCCEEDED with watermark and stats
//   on error: the transaction rolled back, nothing of the run applied; the row is marked FAILED and
//             the slot may be run again (by hand, or by the scheduler's catch-up)

import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { Database } from '../db/client.ts';
import type { Transaction } from '../db/types.ts';
import { isDay, localDate } from '../domain/calendar.ts';
import { databaseFailure } from '../error-masking.ts';
import type { JobName, JobRun } from '../generated/prisma/client.ts';
import { createLogger, type Logger } from '../logger.ts';
import type { PubSub } from '../pubsub.ts';
import { applyPendingReplans } from '../services/pending-replans.ts';
import type { JobsConfig } from './config.ts';
import type { RunContext, StepStats } from './context.ts';
import {
  claimRun,
  liftStatementTimeout,
  lockJobs,
  lockOwnRun,
  markFailed,
  markSucceeded,
  previousWatermark,
  setRunSettings,
} from './ledger.ts';
import { jobSteps } from './steps/index.ts';

export interface JobRequest {
  job: JobName;
  /** The instant the run acts as of (default now). */
  at?: Date;
  /** The day the run closes, YYYY-MM-DD (default: the date of `at` in JOBS_TZ). */
  date?: string;
  /** The slot the run stands for (default `at`); the scheduler passes the instant it fired for. */
  slot?: Date;
}

export interface StepEvent {
  job: JobName;
  step: string;
  index: number;
  total: number;
  ms: number;
}

export interface RunOptions {
  /** Who claims the run (default: this process). */
  owner?: string;
  log?: Logger;
  /** The event bus steps announce their changes on, after commit. */
  pubsub?: PubSub | null;
  /** After each step, inside the transaction: a throw here rolls the whole run back (tests inject crashes). */
  afterStep?(step: string, ctx: RunContext): void | Promise<void>;
  /** Progress, after each step (not yet committed). */
  onStep?(event: StepEvent): void;
  /** Rebuild what the steps derive in full instead of only what changed (RunContext.full). */
  full?: boolean;
}

export type RunOutcome =
  /** This call ran it to success. */
  | 'succeeded'
  /** The slot had succeeded before: nothing was done. */
  | 'already-succeeded'
  /** Another owner is running the slot. */
  | 'busy'
  /** This call ran it and it failed: nothing of it was applied. */
  | 'failed';

export interface RunResult {
  outcome: RunOutcome;
  run: JobRun;
}

/** A request that cannot be run as asked (the message says why). */
export class JobRequestError extends Error {
  override name = 'JobRequestError';
}

/** The owner name of this process in the ledger. */
export const processOwner = `${hostname()}#${process.pid}#${randomUUID().slice(0, 8)}`;

/** How far ahead of the clock `at` may be (client clocks): a run never acts as of the future. */
const maxFutureMs = 5_000;

/** Fills in the defaults of a request: at = now, date = the date of `at` in JOBS_TZ, slot = at. */
export function resolveRequest(request: JobRequest, config: JobsConfig, now = new Date()): Required<JobRequest> {
  const at = request.at ?? now;
  if (Number.isNaN(at.getTime())) throw new JobRequestError('at is not a valid instant');
  if (at.getTime() > now.getTime() + maxFutureMs) {
    throw new JobRequestError(
      `at ${at.toISOString()} is in the future: a run acts as of now or an instant in the past.`,
    );
  }
  const date = request.date ?? localDate(at, config.timezone);
  if (!isDay(date)) throw new JobRequestError(`date ${date} is not a day (YYYY-MM-DD)`);
  return { job: request.job, at, date, slot: request.slot ?? at };
}

export interface JobRunFinished {
  job: JobName;
  outcome: RunOutcome;
  seconds: number;
}

/** Every runJob call that got as far as the ledger, whoever made it (metrics count them). */
export const jobRunEvents = new EventEmitter<{ finished: [JobRunFinished] }>();

export async function runJob(
  db: Database,
  config: JobsConfig,
  request: JobRequest,
  options: RunOptions = {},
): Promise<RunResult> {
  const started = performance.now();
  const result = await runResolvedJob(db, config, resolveRequest(request, config), options);
  const seconds = (performance.now() - started) / 1000;
  jobRunEvents.emit('finished', { job: result.run.job, outcome: result.outcome, seconds });
  return result;
}

async function runResolvedJob(
  db: Database,
  config: JobsConfig,
  { job, at, date, slot }: Required<JobRequest>,
  options: RunOptions,
): Promise<RunResult> {
  const owner = options.owner ?? processOwner;
  const log = options.log;
  const claim = await claimRun(db, { job, slot, runDate: date, owner, leaseMs: config.leaseMs });
  if (claim.outcome === 'succeeded') return { outcome: 'already-succeeded', run: claim.run };
  if (claim.outcome === 'busy') return { outcome: 'busy', run: claim.run };
  const claimed: ClaimedRun = { job, at, date, slot, owner, runId: claim.run.id };
  log?.info({ job, slot, at, date, runId: claimed.runId }, 'job run started');

  const settle = at.getTime() + config.settleMs - Date.now();
  if (settle > 0) await new Promise((resolve) => setTimeout(resolve, settle));

  const started = performance.now();
  const committed: AfterCommit[] = [];
  const progress: Progress = { step: null };
  try {
    const done = await db.prisma.$transaction((tx) => runSteps(tx, config, claimed, options, committed, progress), {
      timeout: config.transactionTimeoutMs,
      maxWait: config.transactionMaxWaitMs,
    });
    const run = await db.prisma.jobRun.findUniqueOrThrow({ where: { id: claimed.runId } });
    if (!done) return { outcome: run.status === 'SUCCEEDED' ? 'already-succeeded' : 'busy', run };
    const ms = Math.round(performance.now() - started);
    log?.info({ job, slot, runId: claimed.runId, ms, stats: run.stats }, 'job run succeeded');
    await runAfterCommit(committed, claimed, log);
    // Sessions that ended while this run held their learners get their adjustments now.
    await applyPendingReplans(db, options.pubsub ?? null).catch((error: unknown) => {
      log?.error({ job, runId: claimed.runId, err: error }, 'pending session-end replans stay pending');
    });
    return { outcome: 'succeeded', run };
  } catch (error) {
    const { step } = progress;
    log?.error({ job, slot, runId: claimed.runId, step, err: error }, 'job run failed; nothing of it was applied');
    await markFailed(db, claimed.runId, owner, failureForPeople(error, step, claimed.runId));
    return { outcome: 'failed', run: await db.prisma.jobRun.findUniqueOrThrow({ where: { id: claimed.runId } }) };
  }
}

/** A run this process has claimed: what it runs, as of when, as whom. */
interface ClaimedRun extends Required<JobRequest> {
  owner: string;
  runId: string;
}

type AfterCommit = () => void | Promise<void>;

/** The step a run is in (null before the first and after the last), for its failure message. */
interface Progress {
  step: string | null;
}

/**
 * The run's transaction: locks its row and the jobs, runs the steps in order and marks it SUCCEEDED.
 * False when the row was taken over meanwhile (it is someone else's now). Work registered with
 * afterCommit lands in `committed`.
 */
async function runSteps(
  tx: Transaction,
  config: JobsConfig,
  claimed: ClaimedRun,
  options: RunOptions,
  committed: AfterCommit[],
  progress: Progress,
): Promise<boolean> {
  const { job, runId, at } = claimed;
  await liftStatementTimeout(tx);
  if (!(await lockOwnRun(tx, runId, claimed.owner))) return false;
  await lockJobs(tx);
  await setRunSettings(tx, config.workMemMb);
  const windowStart = job === 'NIGHTLY' ? await previousWatermark(tx, job) : null;
  const stale = windowStart !== null && at.getTime() < windowStart.getTime();
  const windowEnd = windowStart !== null && stale ? windowStart : at;
  committed.length = 0;
  const ctx: RunContext = {
    ...claimed,
    tx,
    windowStart,
    windowEnd,
    stale,
    full: options.full ?? false,
    config,
    log: options.log ?? silentLog,
    pubsub: options.pubsub ?? null,
    afterCommit: (callback) => void committed.push(callback),
  };
  const steps = jobSteps[job];
  const counts: StepStats = {};
  const stepMs: Record<string, number> = {};
  for (const [index, step] of steps.entries()) {
    progress.step = step.name;
    const t0 = performance.now();
    Object.assign(counts, await step.run(ctx));
    stepMs[step.name] = Math.round(performance.now() - t0);
    options.onStep?.({ job, step: step.name, index, total: steps.length, ms: stepMs[step.name]! });
    await options.afterStep?.(step.name, ctx);
  }
  progress.step = null;
  const window = { after: windowStart?.toISOString() ?? null, upTo: windowEnd.toISOString() };
  const stats = {
    ...(job === 'NIGHTLY' ? { window, stale } : {}),
    ...(ctx.full ? { full: true } : {}),
    ...counts,
    stepMs,
  };
  await markSucceeded(tx, runId, job === 'NIGHTLY' ? windowEnd : null, stats);
  return true;
}

/** Work a committed run registered (e.g. publishing plan changes); a failure there is logged, the run stands. */
async function runAfterCommit(callbacks: readonly AfterCommit[], run: ClaimedRun, log: Logger | undefined) {
  for (const callback of callbacks) {
    try {
      await callback();
    } catch (error) {
      log?.error(
        { job: run.job, slot: run.slot, runId: run.runId, err: error },
        'after-commit work of a job run failed (the run itself succeeded)',
      );
    }
  }
}

const silentLog = createLogger('silent');

/**
 * What JobRun.error says: where the run stopped and what to do, never the database's own text (host,
 * SQL, values); the log has the detail under the run's id.
 */
function failureForPeople(error: unknown, step: string | null, runId: string): string {
  const where = step ? `in step ${step}` : 'before its steps';
  const failure = databaseFailure(error);
  const why =
    failure === 'UNAVAILABLE'
      ? 'the database was unavailable or busy (run it again)'
      : failure === 'TIMEOUT'
        ? 'a statement took too long'
        : 'an unexpected error';
  return `The run failed ${where} and nothing of it was applied: ${why} (details in the server log, run ${runId}).`;
}
