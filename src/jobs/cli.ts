// `npm run job -- nightly|decay|patterns [--date D | --from D --to D] [--at T] [--full]`: runs a job by
// hand, or backfills a range of days in order, through the same code as the scheduler (run.ts).
// --full rebuilds what the steps derive instead of only what changed (docs/nightly-incremental.md).
//
// Without --at, the run for a day D acts as of the slot that closes D (the schedule's first instant
// on D+1: 02:00 for NIGHTLY, 00:00 for MASTERY_DECAY), so a backfill is the run the scheduler would
// have made for that slot, and running it twice, or by hand and by the scheduler, runs it once.
// A day not yet closed (that slot still ahead) is run as of now. Without any date, a run acts as of
// now (or --at) and closes that day, like the runJob mutation.
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { openCommandDatabase, setExitCode, stderr, stdout } from '../command-io.ts';
import { loadConfig } from '../config.ts';
import { addDays, daysBetween, isDay } from '../domain/calendar.ts';
import type { JobName } from '../generated/prisma/client.ts';
import { loadLearnerModelParameters } from '../learner-model-config.ts';
import { type JobsConfig, JobsConfigError } from './config.ts';
import { type JobRequest, JobRequestError, resolveRequest, runJob, type StepEvent } from './run.ts';
import { slotClosingDay } from './slots.ts';
import { jobSteps } from './steps/index.ts';

export const jobUsage = `  job nightly|decay|patterns [--date YYYY-MM-DD | --from YYYY-MM-DD --to YYYY-MM-DD]
                             [--at ISO-instant] [--full]
                                 run a job by hand, or backfill a range of days in order
                                 (--full: rebuild what the steps derive, not only what changed)`;

const jobNames: Record<string, JobName> = { nightly: 'NIGHTLY', decay: 'MASTERY_DECAY', patterns: 'PATTERNS' };
const maxBackfillDays = 3660;

class JobCommandError extends Error {}

/** Runs the `job` command; sets the exit code (0 done, 1 a run failed, 2 bad usage). */
export async function jobCommand(args: string[]): Promise<void> {
  try {
    await run(args);
  } catch (error) {
    if (error instanceof JobCommandError || error instanceof JobRequestError || error instanceof JobsConfigError) {
      stderr.write(`learnloop: ${error.message}\nusage: learnloop\n${jobUsage}\n`);
      setExitCode(2);
      return;
    }
    throw error;
  }
}

function parseJobArgs(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      options: {
        date: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        at: { type: 'string' },
        full: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new JobCommandError((error as Error).message);
  }
}

function parse(args: string[]) {
  const { positionals, values } = parseJobArgs(args);
  const job = jobNames[positionals[0]?.toLowerCase() ?? ''];
  if (!job || positionals.length > 1) throw new JobCommandError(`name one job: ${Object.keys(jobNames).join(', ')}`);
  for (const name of ['date', 'from', 'to'] as const) {
    const value = values[name];
    if (value !== undefined && !isDay(value)) {
      throw new JobCommandError(`--${name} ${value} is not a day (YYYY-MM-DD)`);
    }
  }
  if (values.date && (values.from || values.to)) throw new JobCommandError('give --date, or --from and --to, not both');
  if (!!values.from !== !!values.to) throw new JobCommandError('--from and --to go together');
  if (values.from && values.to && values.from > values.to)
    throw new JobCommandError(`--from ${values.from} is after --to ${values.to}`);
  if (values.from && values.to && daysBetween(values.from, values.to) >= maxBackfillDays)
    throw new JobCommandError(`backfill at most ${maxBackfillDays} days at a time`);
  let at: Date | undefined;
  if (values.at !== undefined) {
    at = new Date(values.at);
    if (Number.isNaN(at.getTime()))
      throw new JobCommandError(`--at ${values.at} is not an instant (e.g. 2025-03-01T02:00:00Z)`);
    if (values.from) throw new JobCommandError('--at names one run: use it with --date, not with a range');
  }
  return { job, date: values.date, from: values.from, to: values.to, at, full: values.full ?? false };
}

/** The runs asked for, oldest first. */
export function plannedRuns(
  request: { job: JobName; date?: string; from?: string; to?: string; at?: Date },
  config: JobsConfig,
  now = new Date(),
): JobRequest[] {
  const { job, at } = request;
  const cron = job === 'MASTERY_DECAY' ? config.decayCron : config.nightlyCron;
  const closing = (date: string): JobRequest => {
    const slot = slotClosingDay(date, cron, config.timezone);
    return { job, date, at: slot.getTime() <= now.getTime() ? slot : now };
  };
  if (request.date) return [at ? { job, date: request.date, at } : closing(request.date)];
  if (request.from && request.to) {
    const runs: JobRequest[] = [];
    for (let date = request.from; date <= request.to; date = addDays(date, 1)) runs.push(closing(date));
    return runs;
  }
  return [{ job, at: at ?? now }];
}

async function run(args: string[]): Promise<void> {
  const request = parse(args);
  const appConfig = loadConfig();
  const config = appConfig.jobs;
  const runs = plannedRuns(request, config);
  for (const planned of runs) resolveRequest(planned, config); // refuse a bad request before opening the database
  const steps = jobSteps[request.job].length;
  config.learnerModel = await loadLearnerModelParameters();
  const db = await openCommandDatabase(appConfig.database);
  const tty = stderr.isTTY;
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format: '{job} {date} |{bar}| {value}/{total} steps | {step}',
          hideCursor: true,
          clearOnComplete: false,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const line = (text: string) => {
    if (bar) bar.stop();
    stdout.write(`${text}\n`);
  };
  try {
    bar?.start(runs.length * steps, 0, { job: request.job, date: runs[0]?.date ?? '', step: 'starting' });
    for (const [index, planned] of runs.entries()) {
      const label = `${planned.job}${planned.date ? ` ${planned.date}` : ''}`;
      const onStep = (event: StepEvent) => {
        if (bar)
          bar.update(index * steps + event.index + 1, { job: planned.job, date: planned.date ?? '', step: event.step });
        else stdout.write(`${label}: ${event.step} done in ${event.ms} ms\n`);
      };
      if (bar && index > 0)
        bar.start(runs.length * steps, index * steps, { job: planned.job, date: planned.date ?? '', step: 'starting' });
      const started = Date.now();
      const result = await runJob(db, config, planned, { onStep, full: request.full });
      const asOf = result.run.slot.toISOString();
      switch (result.outcome) {
        case 'succeeded':
          bar?.update((index + 1) * steps, { step: 'done' });
          line(
            `${label} (as of ${asOf}): SUCCEEDED in ${((Date.now() - started) / 1000).toFixed(1)} s — ` +
              summary(result.run.stats),
          );
          break;
        case 'already-succeeded':
          bar?.update((index + 1) * steps, { step: 'already done' });
          line(
            `${label} (as of ${asOf}): already done by run ${result.run.id} ` +
              `at ${result.run.finishedAt?.toISOString()}; nothing to do`,
          );
          break;
        case 'busy':
          line(
            `${label} (as of ${asOf}): being run by ${result.run.owner} since ${result.run.startedAt.toISOString()}`,
          );
          stderr.write(
            `learnloop: ${label} is running elsewhere; try again when it has finished${laterDaysNote(runs)}\n`,
          );
          setExitCode(1);
          return;
        case 'failed':
          line(`${label} (as of ${asOf}): FAILED`);
          stderr.write(
            `learnloop: ${label} failed, nothing of it was applied: ${result.run.error}${laterDaysNote(runs)}\n`,
          );
          setExitCode(1);
          return;
      }
    }
  } finally {
    bar?.stop();
    await db.close();
  }
}

/** Said when a run of a backfill stops it: the days after it were not run. */
function laterDaysNote(runs: readonly unknown[]): string {
  return runs.length > 1 ? ' (later days were not run)' : '';
}

function summary(stats: unknown): string {
  if (!stats || typeof stats !== 'object') return 'no stats';
  const counts = Object.entries(stats as Record<string, unknown>).filter(([, v]) => typeof v === 'number' && v !== 0);
  return counts.map(([k, v]) => `${k}=${v}`).join(' ') || 'nothing new to process';
}
