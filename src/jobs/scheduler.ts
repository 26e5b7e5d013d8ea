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

interface QueuedSlot {
  job: JobName;
  slot: Date;
  source: SlotSource;
}

const jobOrder: readonly JobName[] = ['NIGHTLY', 'MASTERY_DECAY'];

export function createScheduler(db: Database, config: JobsConfig, options: SchedulerOptions = {}): Scheduler {
  const owner = options.owner ?? processOwner;
  const log = options.log;
  const now = options.now ?? (() => new Date());
  const retryDelayMs = options.retryDelayMs ?? 5 * 60_000;
  const maxRetries = options.maxRetries ?? 3;
  const crons: Record<string, string> = { NIGHTLY: config.nightlyCron, MASTERY_DECAY: config.decayCron };

  const queue: QueuedSlot[] = [];
  const queued = new Set<string>();
  const failures = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  const scheduled: schedule.Job[] = [];
  let ready = false;
  let stopped = false;
  let draining: Promise<void> | null = null;
  // Catch-up slots not yet run; caughtUp() resolves when none is left.
  const pendingCatchUp = new Set<string>();
  let catchUpResolve: () => void = () => {};
  const catchUpDone = new Promise<void>((resolve) => (catchUpResolve = resolve));
  let startup: Promise<void> = Promise.resolve();
  const settleCatchUp = (key?: string) => {
    if (key) pendingCatchUp.delete(key);
    if (ready && pendingCatchUp.size === 0) catchUpResolve();
  };

  const keyOf = (job: JobName, slot: Date) => `${job}@${slot.getTime()}`;

  function enqueue(item: QueuedSlot): void {
    const key = keyOf(item.job, item.slot);
    if (stopped || queued.has(key)) return;
    queued.add(key);
    queue.push(item);
    queue.sort((a, b) => a.slot.getTime() - b.slot.getTime() || jobOrder.indexOf(a.job) - jobOrder.indexOf(b.job));
    drain();
  }

  function later(ms: number, item: QueuedSlot): void {
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        enqueue(item);
      },
      Math.max(ms, 0),
    );
    timer.unref();
    timers.add(timer);
  }

  function drain(): void {
    if (!ready || draining || stopped) return;
    draining = (async () => {
      while (!stopped && queue.length > 0) {
        const item = queue.shift()!;
        queued.delete(keyOf(item.job, item.slot));
        await runSlot(item);
      }
    })().finally(() => {
      draining = null;
      if (!stopped && queue.length > 0) drain();
    });
  }

  async function runSlot(item: QueuedSlot): Promise<void> {
    const { job, slot } = item;
    const key = keyOf(job, slot);
    const date = job === 'NIGHTLY' ? scheduledRunDate(slot, config.timezone) : undefined;
    let result: RunResult | null = null;
    try {
      result = await runJob(
        db,
        config,
        { job, slot, at: slot, date },
        { owner, log, pubsub: options.pubsub, afterStep: options.afterStep },
      );
      options.onRun?.({ ...result, job, slot, source: item.source });
    } catch (error) {
      log?.error({ job, slot, err: error }, 'scheduled job could not be run (database unreachable?)');
    }
    settleCatchUp(key);
    if (result?.outcome === 'busy') {
      // Someone else holds it: look again when their lease ends (taken over if they died).
      const leaseEnds = result.run.leaseUntil?.getTime() ?? Date.now() + config.leaseMs;
      later(leaseEnds - Date.now() + 1000, { job, slot, source: 'retry' });
    } else if (result === null || result.outcome === 'failed') {
      const count = (failures.get(key) ?? 0) + 1;
      failures.set(key, count);
      if (count <= maxRetries) later(retryDelayMs, { job, slot, source: 'retry' });
    } else {
      failures.delete(key);
    }
  }

  async function missedSlots(): Promise<QueuedSlot[]> {
    const until = now();
    const horizon = new Date(until.getTime() - config.catchupDays * 86_400_000);
    const missed: QueuedSlot[] = [];
    for (const job of jobOrder) {
      const first = await earliestSlot(db, job);
      if (!first) continue; // never ran on this database: nothing was missed
      const from = new Date(Math.max(first.getTime(), horizon.getTime()) - 1);
      const slots = cronSlots(crons[job]!, config.timezone, from, until);
      if (slots.length === 0) continue;
      const done = await succeededSlots(db, job, slots[0]!, slots.at(-1)!);
      for (const slot of slots) if (!done.has(slot.getTime())) missed.push({ job, slot, source: 'catch-up' });
    }
    return missed;
  }

  return {
    start() {
      if (scheduled.length > 0 || stopped) return;
      for (const job of jobOrder) {
        const fired = schedule.scheduleJob({ rule: crons[job]!, tz: config.timezone }, (fireDate: Date) => {
          enqueue({ job, slot: new Date(fireDate.getTime()), source: 'schedule' });
        });
        if (!fired) throw new Error(`cannot schedule ${job} on "${crons[job]}"`);
        scheduled.push(fired);
      }
      startup = (async () => {
        try {
          const missed = await missedSlots();
          if (missed.length > 0)
            log?.info({ slots: missed.length, oldest: missed[0]!.slot }, 'catching up missed job slots');
          for (const item of missed) {
            pendingCatchUp.add(keyOf(item.job, item.slot));
            enqueue(item);
          }
        } catch (error) {
          log?.error({ err: error }, 'could not look for missed job slots');
        }
        ready = true;
        settleCatchUp();
        drain();
      })();
      log?.info(
        { nightly: config.nightlyCron, decay: config.decayCron, timezone: config.timezone },
        'job scheduler started',
      );
    },
    caughtUp: () => catchUpDone,
    async stop() {
      stopped = true;
      for (const job of scheduled) job.cancel();
      scheduled.length = 0;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      queue.length = 0;
      queued.clear();
      catchUpResolve();
      await startup;
      if (draining) await draining;
    },
  };
}
