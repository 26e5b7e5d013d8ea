// The scheduler: node-schedule fires NIGHTLY (NIGHTLY_CRON) and MASTERY_DECAY (MASTERY_DECAY_CRON) in
// JOBS_TZ; every instance of the API runs one, and the ledger makes each slot run once in all.
//
// - One queue per scheduler, one run at a time, oldest slot first.
// - Catch-up at start: the slots of each job's schedule since the job first ran on this database
//   (its oldest JobRun), at most JOBS_CATCHUP_DAYS back, that have no SUCCEEDED run, go first in
//   the queue; a schedule fire that comes meanwhile waits behind them. A database where a job
//   never ran has nothing to catch up.
// - A slot someone else is running is looked at again when their lease ends: if they died, it is
//   taken over. A failed slot is retried a few times, 5 minutes apart.
import schedule from 'node-schedule';
import type { Database } from '../db/client.ts';
import type { JobName } from '../generated/prisma/client.ts';
import type { Logger } from '../logger.ts';
import type { PubSub } from '../pubsub.ts';
import type { JobsConfig } from './config.ts';
import { earliestSlot, succeededSlots } from './ledger.ts';
import { processOwner, type RunOptions, type RunResult, runJob } from './run.ts';
import { cronSlots, scheduledRunDate } from './slots.ts';

export type SlotSource = 'catch-up' | 'schedule' | 'retry';

export interface ScheduledRun extends RunResult {
  job: JobName;
  slot: Date;
  source: SlotSource;
}

export interface SchedulerOptions {
  owner?: string;
  log?: Logger;
  /** The clock catch-up measures from (tests move it). */
  now?: () => Date;
  /** After every run the scheduler attempted, whatever its outcome. */
  onRun?(run: ScheduledRun): void;
  /** The event bus runs announce their changes on. */
  pubsub?: PubSub | null;
  /** Passed to every run (tests count and break steps). */
  afterStep?: RunOptions['afterStep'];
  /** Delay before a failed slot is tried again (default 5 minutes), and how many times. */
  retryDelayMs?: number;
  maxRetries?: number;
}

export interface Scheduler {
  /** Schedules the jobs and starts catching up in the background; returns at once. */
  start(): void;
  /** Resolves once the slots caught up at start have been run. */
  caughtUp(): Promise<void>;
  /** Cancels the schedule and waits for the run in progress, if any. */
  stop(): Promise<void>;
}

/** The jobs on a schedule (PATTERNS runs by hand). */
type ScheduledJob = 'NIGHTLY' | 'MASTERY_DECAY';

interface QueuedSlot {
  job: ScheduledJob;
  slot: Date;
  source: SlotSource;
}

const jobOrder: readonly ScheduledJob[] = ['NIGHTLY', 'MASTERY_DECAY'];

const keyOf = (item: { job: JobName; slot: Date }) => `${item.job}@${item.slot.getTime()}`;

export function createScheduler(db: Database, config: JobsConfig, options: SchedulerOptions = {}): Scheduler {
  const log = options.log;
  const crons: Record<ScheduledJob, string> = { NIGHTLY: config.nightlyCron, MASTERY_DECAY: config.decayCron };
  const catchUp = new CatchUp();
  const retries = new Retries(options.maxRetries ?? 3);
  const retryDelayMs = options.retryDelayMs ?? 5 * 60_000;
  const queue: SlotQueue = new SlotQueue(async (item) => {
    const result = await runSlot(db, config, options, item);
    catchUp.settle(keyOf(item));
    if (result?.outcome === 'busy') {
      // Someone else holds it: look again when their lease ends (taken over if they died).
      const leaseEnds = result.run.leaseUntil?.getTime() ?? Date.now() + config.leaseMs;
      queue.addLater(leaseEnds - Date.now() + 1000, { ...item, source: 'retry' });
    } else if (result === null || result.outcome === 'failed') {
      if (retries.another(keyOf(item))) queue.addLater(retryDelayMs, { ...item, source: 'retry' });
    } else {
      retries.forget(keyOf(item));
    }
  });
  const scheduled: schedule.Job[] = [];
  let stopped = false;
  let startup: Promise<void> = Promise.resolve();

  async function queueCatchUp(): Promise<void> {
    try {
      const missed = await missedSlots(db, config, crons, (options.now ?? (() => new Date()))());
      if (missed.length > 0)
        log?.info({ slots: missed.length, oldest: missed[0]!.slot }, 'catching up missed job slots');
      for (const item of missed) {
        catchUp.add(keyOf(item));
        queue.add(item);
      }
    } catch (error) {
      log?.error({ err: error }, 'could not look for missed job slots');
    }
    catchUp.listed();
    queue.open();
  }

  return {
    start() {
      if (scheduled.length > 0 || stopped) return;
      for (const job of jobOrder) {
        const fired = schedule.scheduleJob({ rule: crons[job], tz: config.timezone }, (fireDate: Date) => {
          queue.add({ job, slot: new Date(fireDate.getTime()), source: 'schedule' });
        });
        if (!fired) throw new Error(`cannot schedule ${job} on "${crons[job]}"`);
        scheduled.push(fired);
      }
      startup = queueCatchUp();
      log?.info(
        { nightly: config.nightlyCron, decay: config.decayCron, timezone: config.timezone },
        'job scheduler started',
      );
    },
    caughtUp: () => catchUp.done,
    async stop() {
      stopped = true;
      for (const job of scheduled) job.cancel();
      scheduled.length = 0;
      queue.close();
      catchUp.abandon();
      await startup;
      await queue.idle();
    },
  };
}

/** Runs one slot as of its instant; null when it could not be run at all. */
async function runSlot(
  db: Database,
  config: JobsConfig,
  options: SchedulerOptions,
  item: QueuedSlot,
): Promise<RunResult | null> {
  const { job, slot } = item;
  const date = job === 'NIGHTLY' ? scheduledRunDate(slot, config.timezone) : undefined;
  try {
    const result = await runJob(
      db,
      config,
      { job, slot, at: slot, date },
      { owner: options.owner ?? processOwner, log: options.log, pubsub: options.pubsub, afterStep: options.afterStep },
    );
    options.onRun?.({ ...result, job, slot, source: item.source });
    return result;
  } catch (error) {
    options.log?.error({ job, slot, err: error }, 'scheduled job could not be run (database unreachable?)');
    return null;
  }
}

/**
 * The catch-up: the slots of each job's schedule since it first ran on this database (at most
 * JOBS_CATCHUP_DAYS back) that have no SUCCEEDED run, oldest first.
 */
async function missedSlots(
  db: Database,
  config: JobsConfig,
  crons: Record<ScheduledJob, string>,
  until: Date,
): Promise<QueuedSlot[]> {
  const horizon = new Date(until.getTime() - config.catchupDays * 86_400_000);
  const missed: QueuedSlot[] = [];
  for (const job of jobOrder) {
    const first = await earliestSlot(db, job);
    if (!first) continue; // never ran on this database: nothing was missed
    const from = new Date(Math.max(first.getTime(), horizon.getTime()) - 1);
    const slots = cronSlots(crons[job], config.timezone, from, until);
    if (slots.length === 0) continue;
    const done = await succeededSlots(db, job, slots[0]!, slots.at(-1)!);
    for (const slot of slots) if (!done.has(slot.getTime())) missed.push({ job, slot, source: 'catch-up' });
  }
  return missed;
}

/** Slots waiting to run, oldest first (NIGHTLY before MASTERY_DECAY at one instant), one at a time. */
class SlotQueue {
  private readonly items: QueuedSlot[] = [];
  private readonly keys = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private opened = false;
  private closed = false;
  private draining: Promise<void> | null = null;

  constructor(private readonly run: (item: QueuedSlot) => Promise<void>) {}

  /** Queues a slot unless it is queued already; it runs once the queue is open. */
  add(item: QueuedSlot): void {
    const key = keyOf(item);
    if (this.closed || this.keys.has(key)) return;
    this.keys.add(key);
    this.items.push(item);
    this.items.sort((a, b) => a.slot.getTime() - b.slot.getTime() || jobOrder.indexOf(a.job) - jobOrder.indexOf(b.job));
    this.drain();
  }

  addLater(ms: number, item: QueuedSlot): void {
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        this.add(item);
      },
      Math.max(ms, 0),
    );
    timer.unref();
    this.timers.add(timer);
  }

  /** Starts running what is queued (the scheduler opens it once the catch-up is queued). */
  open(): void {
    this.opened = true;
    this.drain();
  }

  /** Drops what is queued and waiting; the run in progress goes on (see idle). */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.items.length = 0;
    this.keys.clear();
  }

  /** Resolves when no run is in progress. */
  async idle(): Promise<void> {
    if (this.draining) await this.draining;
  }

  private drain(): void {
    if (!this.opened || this.draining || this.closed) return;
    this.draining = (async () => {
      while (!this.closed && this.items.length > 0) {
        const item = this.items.shift()!;
        this.keys.delete(keyOf(item));
        await this.run(item);
      }
    })().finally(() => {
      this.draining = null;
      if (!this.closed && this.items.length > 0) this.drain();
    });
  }
}

/** The catch-up slots not yet run: `done` resolves once all were listed and none is left. */
class CatchUp {
  private readonly pending = new Set<string>();
  private allListed = false;
  private resolve: () => void = () => {};
  readonly done = new Promise<void>((resolve) => (this.resolve = resolve));

  add(key: string): void {
    this.pending.add(key);
  }

  settle(key?: string): void {
    if (key) this.pending.delete(key);
    if (this.allListed && this.pending.size === 0) this.resolve();
  }

  listed(): void {
    this.allListed = true;
    this.settle();
  }

  abandon(): void {
    this.resolve();
  }
}

/** How many times each failed slot has been tried again, up to a limit. */
class Retries {
  private readonly failures = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Counts a failure; true while the slot may be tried again. */
  another(key: string): boolean {
    const count = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, count);
    return count <= this.max;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }
}
