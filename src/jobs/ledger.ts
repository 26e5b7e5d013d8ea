// The job ledger: one JobRun row per (job, slot), unique in the database. Whoever inserts the row
// owns the run; the run's work and its SUCCEEDED mark commit in one transaction (run.ts), so a slot
// is done exactly once however many instances race for it.
//
//   claim      INSERT … ON CONFLICT (job, slot) DO NOTHING: the row is ours, or someone else's;
//   take over  a FAILED row, or a RUNNING row whose lease expired and whose owner holds no lock on it
//              (a live owner locks its row for the whole work transaction), is re-claimed in one UPDATE;
//   finish     inside the work transaction (markSucceeded), or after its rollback (markFailed).
import type { Database } from '../db/client.ts';
import type { Transaction } from '../db/types.ts';
import type { JobName, JobRun } from '../generated/prisma/client.ts';

export type Claim =
  /** The run is ours to execute. */
  | { outcome: 'claimed'; run: JobRun }
  /** The slot is done already: nothing to do. */
  | { outcome: 'succeeded'; run: JobRun }
  /** Another owner is running it (or holds it within its lease). */
  | { outcome: 'busy'; run: JobRun };

export interface ClaimRequest {
  job: JobName;
  slot: Date;
  /** The day the run closes (YYYY-MM-DD), stored for display and re-runs. */
  runDate: string | null;
  owner: string;
  leaseMs: number;
}

export async function claimRun(db: Database, request: ClaimRequest): Promise<Claim> {
  const { job, slot, runDate, owner, leaseMs } = request;
  for (let tries = 0; tries < 3; tries++) {
    const inserted = await db.prisma.$queryRaw<{ id: string }[]>`
      INSERT INTO job_runs (job, slot, status, started_at, lease_until, owner, run_date)
      VALUES (${job}::"JobName", ${slot}::timestamptz, 'RUNNING', clock_timestamp(),
              clock_timestamp() + ${leaseMs}::float8 * interval '1 millisecond', ${owner}, ${runDate}::date)
      ON CONFLICT (job, slot) DO NOTHING
      RETURNING id`;
    if (inserted[0]) return { outcome: 'claimed', run: await readRun(db, inserted[0].id) };

    // Someone has the row. A failed run, or a dead owner's (lease over, row not locked by a live
    // work transaction), is taken over; SKIP LOCKED never waits for a live owner.
    const taken = await db.prisma.$queryRaw<{ id: string }[]>`
      UPDATE job_runs j
      SET status = 'RUNNING', owner = ${owner}, started_at = clock_timestamp(), finished_at = NULL, error = NULL,
          lease_until = clock_timestamp() + ${leaseMs}::float8 * interval '1 millisecond',
          run_date = COALESCE(${runDate}::date, j.run_date)
      WHERE j.id = (SELECT id FROM job_runs
                    WHERE job = ${job}::"JobName" AND slot = ${slot}::timestamptz
                      AND (status = 'FAILED' OR (status = 'RUNNING' AND lease_until < clock_timestamp()))
                    FOR UPDATE SKIP LOCKED)
      RETURNING j.id`;
    if (taken[0]) return { outcome: 'claimed', run: await readRun(db, taken[0].id) };

    const existing = await db.prisma.jobRun.findUnique({ where: { job_slot: { job, slot } } });
    if (!existing) continue; // deleted in between (cleanup of an ancient slot): claim again
    return { outcome: existing.status === 'SUCCEEDED' ? 'succeeded' : 'busy', run: existing };
  }
  throw new Error(`could not claim ${job} ${slot.toISOString()}`);
}

function readRun(db: Database, id: string): Promise<JobRun> {
  return db.prisma.jobRun.findUniqueOrThrow({ where: { id } });
}

/**
 * First statement of the work transaction: locks our row (a takeover skips locked rows, so no one
 * takes a run over while its owner works) and checks it is still ours.
 */
export async function lockOwnRun(tx: Transaction, runId: string, owner: string): Promise<boolean> {
  const rows = await tx.$queryRaw<{ id: string }[]>`
    SELECT id FROM job_runs WHERE id = ${runId}::uuid AND owner = ${owner} AND status = 'RUNNING' FOR UPDATE`;
  return rows.length === 1;
}

/**
 * Jobs run one at a time per database: NIGHTLY reads the watermark the previous run wrote, and the
 * mastery steps of NIGHTLY and MASTERY_DECAY must not interleave. Held until the transaction ends.
 */
export async function lockJobs(tx: Transaction): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${jobsLockKey}::bigint)`;
}

/** The advisory lock every job run (and a rebuild) holds for its transaction. */
export const jobsLockKey = 7270736950;

/**
 * The settings of a run's transaction (this transaction only). Memory for the sorts and hashes of its
 * statements (window over every attempt of the night, aggregates per learner and subcategory):
 * PostgreSQL's default of 4 MB spills them to disk; one run at a time holds it (lockJobs). And no JIT:
 * a night's statements are many and each short, and compiling the ones the planner costs high took
 * longer than it saved (the bench's steady night 20.9–21.9 s with it, 19.1–21.0 s without).
 */
export async function setRunSettings(tx: Transaction, workMemMegabytes: number): Promise<void> {
  await tx.$executeRawUnsafe(`SET LOCAL work_mem = '${Math.max(1, Math.floor(workMemMegabytes))}MB'`);
  await tx.$executeRawUnsafe('SET LOCAL jit = off');
}

/** A run's statements are bounded by JOBS_TX_TIMEOUT_SECONDS, not by the API's statement timeout. */
export async function liftStatementTimeout(tx: Transaction): Promise<void> {
  await tx.$executeRawUnsafe('SET LOCAL statement_timeout = 0');
}

/** The watermark of the latest successful run of a job: attempts up to it have been processed. */
export async function previousWatermark(tx: Transaction, job: JobName): Promise<Date | null> {
  const [row] = await tx.$queryRaw<{ watermark: Date | null }[]>`
    SELECT max(watermark) AS watermark FROM job_runs WHERE job = ${job}::"JobName" AND status = 'SUCCEEDED'`;
  return row?.watermark ?? null;
}

/** Last statement of the work transaction: the run is done, with what it did. */
export async function markSucceeded(
  tx: Transaction,
  runId: string,
  watermark: Date | null,
  stats: object,
): Promise<void> {
  await tx.$executeRaw`
    UPDATE job_runs
    SET status = 'SUCCEEDED', finished_at = clock_timestamp(), lease_until = NULL, error = NULL,
        watermark = ${watermark}::timestamptz, stats = ${JSON.stringify(stats)}::jsonb
    WHERE id = ${runId}::uuid`;
}

/** After the work transaction rolled back: nothing of it was applied; the slot may be run again. */
export async function markFailed(db: Database, runId: string, owner: string, message: string): Promise<void> {
  await db.prisma.$executeRaw`
    UPDATE job_runs
    SET status = 'FAILED', finished_at = clock_timestamp(), lease_until = NULL, error = ${message.slice(0, 2000)}
    WHERE id = ${runId}::uuid AND owner = ${owner} AND status = 'RUNNING'`;
}

/** Slots of a job that succeeded in [from, to]: catch-up skips them. */
export async function succeededSlots(db: Database, job: JobName, from: Date, to: Date): Promise<Set<number>> {
  const rows = await db.prisma.jobRun.findMany({
    where: { job, status: 'SUCCEEDED', slot: { gte: from, lte: to } },
    select: { slot: true },
  });
  return new Set(rows.map((r) => r.slot.getTime()));
}

/** The oldest slot of a job with a ledger row (any status), or null if it never ran on this database. */
export async function earliestSlot(db: Database, job: JobName): Promise<Date | null> {
  const row = await db.prisma.jobRun.findFirst({ where: { job }, orderBy: { slot: 'asc' }, select: { slot: true } });
  return row?.slot ?? null;
}
