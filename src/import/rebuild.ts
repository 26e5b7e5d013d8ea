// Every derived state rebuilt from the attempt log in history order, as live recording plus the
// scheduled jobs would have left it (`npm run rebuild`, and after an import). In passes:
//
//   1. mastery    per learner, streaming the log in chunks of learners: replayLearner (src/domain/
//                 mastery-replay.ts) runs NIGHTLY at each past slot and MASTERY_DECAY at each of
//                 its slots; it writes the Mastery rows, a MasteryHistory point per day (imported
//                 points stay the record and are compared), and each attempt's masteryAtAttempt
//   2. questions  the NIGHTLY question-statistics step over one window holding the whole log (its
//                 running sums start from zero; the sums over one window equal those over many), and
//                 each attempt recorded without it gets the difficulty its question had then
//   3. sessions   abandoned sessions closed, summaries and analytics stored where missing (the
//                 NIGHTLY step and analytics:recompute)
//   4. learners   the live learner model (its NIGHTLY step: question refits, state replays), the
//                 cohort overview's daily rollup, learning patterns and tomorrow's plan as the last
//                 NIGHTLY computes them
//
// It acts as of the last NIGHTLY slot up to now (or the latest watermark, if a run went further)
// and records a NIGHTLY run for that slot, so the next scheduled run goes on from there. Run it
// with the scheduler stopped (SCHEDULER=0 on every instance): jobs must not interleave with it.
import type { Database } from '../db/client.ts';
import type { Transaction } from '../db/types.ts';
import { localDate } from '../domain/calendar.ts';
import type { StoredHistoryPoint } from '../domain/mastery-history.ts';
import {
  firstSlotFrom,
  type NightlySlot,
  type ReplayAttempt,
  type ReplayedMastery,
  type ReplaySchedule,
  replayLearner,
} from '../domain/mastery-replay.ts';
import type { JobsConfig } from '../jobs/config.ts';
import type { RunContext } from '../jobs/context.ts';
import { jobsLockKey, lockJobs, setRunSettings } from '../jobs/ledger.ts';
import { cronSlots, scheduledRunDate } from '../jobs/slots.ts';
import { resetActivityRollup, rollUpActivity } from '../jobs/steps/activity-rollup.ts';
import { closeAbandonedSessions } from '../jobs/steps/close-sessions.ts';
import { updateLearnerModel } from '../jobs/steps/learner-model.ts';
import { storeLearningPatterns } from '../jobs/steps/learning-patterns.ts';
import { planTomorrow } from '../jobs/steps/plans.ts';
import { updateQuestionStatistics } from '../jobs/steps/question-stats.ts';
import { createLogger } from '../logger.ts';
import type { SqlRunner } from '../services/attempt-batches.ts';
import { recomputeMissingSessionAnalytics } from '../services/recompute-analytics.ts';
import { restoreAttemptIndexes } from './bulk.ts';
import { type ImportConnection, importConnection, withImportConnection } from './connection.ts';
import { copyRowsText } from './stage.ts';

export interface RebuildOptions {
  config: JobsConfig;
  /** The instant the rebuild acts up to (default now). */
  now?: Date;
  /** Learners per chunk of the mastery pass (default 2,000). */
  chunkSize?: number;
  onPhase?(phase: string): void;
  onLearners?(done: number, total: number): void;
}

export interface RebuildReport {
  /** The NIGHTLY slot the rebuild stands for: attempts recorded up to it are in mastery and statistics. */
  asOf: string;
  nightlySlots: number;
  learners: number;
  masteries: number;
  historyPoints: number;
  /** Imported MasteryHistory points the replay also computed, and how far apart they are. */
  historyCompared: { points: number; meanAbsoluteDifference: number | null; maxAbsoluteDifference: number | null };
  masteryAtAttemptUpdated: number;
  questionsRescored: number;
  sessionsClosed: number;
  sessionSummaries: number;
  patterns: number;
  plans: number;
  /** Learners whose live-model state was replayed from their attempts. */
  learnerModelReplayed: number;
  ms: Record<string, number>;
}

const transactionTimeout = 3_600_000;

export async function rebuildDerivedState(db: Database, options: RebuildOptions): Promise<RebuildReport> {
  const { config } = options;
  const now = options.now ?? new Date();
  const ms: Record<string, number> = {};
  const timedStep = async <T>(step: string, work: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const result = await work();
    ms[step] = Math.round(performance.now() - t0);
    return result;
  };
  const timed = <T>(phase: string, work: () => Promise<T>): Promise<T> => {
    options.onPhase?.(phase);
    return timedStep(phase, work);
  };

  // A first import killed while its attempts had no secondary indexes left them out (src/import/bulk.ts).
  await timed('indexes', () => withImportConnection(db, restoreAttemptIndexes));
  const schedule = await timed('schedule', () => replaySchedule(db, config, now));
  const asOf = schedule.nightly.at(-1);
  const mastery = await timed('mastery', () => rebuildMastery(db, config, schedule, options));
  const run = asOf ?? { at: now.getTime(), date: localDate(now, config.timezone) };
  const ctx = (tx: Transaction): RunContext => ({
    tx,
    job: 'NIGHTLY',
    runId: '',
    slot: new Date(run.at),
    at: new Date(run.at),
    date: run.date,
    windowStart: null,
    windowEnd: new Date(run.at),
    stale: false,
    full: true,
    config,
    log: createLogger('silent'),
    pubsub: null,
    afterCommit: () => {},
  });
  const inJobsLock = <T>(work: (tx: Transaction) => Promise<T>) =>
    db.prisma.$transaction(
      async (tx) => {
        await lockJobs(tx);
        await setRunSettings(tx, config.workMemMb);
        return work(tx);
      },
      { timeout: transactionTimeout, maxWait: config.transactionMaxWaitMs },
    );

  const questions = await timed('questionStatistics', () =>
    inJobsLock(async (tx) => {
      await tx.$executeRaw`
        UPDATE questions SET difficulty = 0.5, discrimination = NULL, learning_impact = NULL, importance_index = 0.5,
          stats_updated_at = NULL`;
      // A full run starts the running sums from zero.
      return updateQuestionStatistics(ctx(tx));
    }),
  );
  await timed('attemptDifficulties', () =>
    inJobsLock((tx) =>
      fillAttemptDifficulties(
        tx,
        schedule.nightly.map((slot) => new Date(slot.at)),
      ),
    ),
  );
  const closed = await timed('closeSessions', () => inJobsLock((tx) => closeAbandonedSessions(ctx(tx))));
  const summaries = await timed('sessionAnalytics', () => recomputeMissingSessionAnalytics(db, { chunkSize: 2_000 }));
  const learners = await timed('modelPatternsAndPlans', () =>
    inJobsLock(async (tx) => {
      // The live learner model's nightly half over what the last run has not seen: its refit reads
      // the window, its replay every learner whose state is not a replay of their attempts.
      // Each step timed on its own too: the phase is one transaction.
      const model = await timedStep('learnerModel', () =>
        updateLearnerModel({ ...ctx(tx), windowStart: schedule.previousWatermark }),
      );
      // The cohort overview's rollup, from the beginning: imported attempts lie before its mark.
      await timedStep('activityRollup', async () => {
        await resetActivityRollup(tx);
        await rollUpActivity(ctx(tx));
      });
      const patterns = await timedStep('patterns', () => storeLearningPatterns(ctx(tx)));
      const plans = await timedStep('plans', () => planTomorrow(ctx(tx)));
      if (asOf) await recordNightlyRun(tx, asOf);
      return { ...model, ...patterns, ...plans };
    }),
  );
  return {
    asOf: new Date(run.at).toISOString(),
    nightlySlots: schedule.nightly.length,
    ...mastery,
    questionsRescored: questions.questionsRescored ?? 0,
    sessionsClosed: closed.sessionsClosed ?? 0,
    sessionSummaries: summaries.summaries,
    patterns: learners.patterns ?? 0,
    plans: learners.learnersPlanned ?? 0,
    learnerModelReplayed: learners.learnersReplayed ?? 0,
    ms,
  };
}

/**
 * Each attempt without a difficulty of its own (imported) gets the one recordAttempt would have stored:
 * its question's difficulty after the last NIGHTLY slot before it was recorded, (wrong + 1) / (n + 2)
 * over the question's attempts recorded up to that slot (0.5 before the first). One statement: the
 * attempts counted per question and slot interval, summed over the earlier intervals.
 */
async function fillAttemptDifficulties(tx: Transaction, slots: Date[]): Promise<void> {
  await tx.$executeRaw`
    WITH slotted AS (
      -- The number of slots before recorded_at (a slot's window ends at and includes its instant).
      SELECT a.id, a.question_id, a.correct, a.difficulty_at_attempt IS NULL AS missing,
             width_bucket(a.recorded_at - interval '1 microsecond', ${slots}::timestamptz[]) AS interval_no
      FROM attempts a
    ), per_interval AS (
      SELECT question_id, interval_no, count(*) AS n, count(*) FILTER (WHERE NOT correct) AS wrong
      FROM slotted GROUP BY question_id, interval_no
    ), before AS (
      SELECT question_id, interval_no,
             sum(n) OVER earlier - n AS n, sum(wrong) OVER earlier - wrong AS wrong
      FROM per_interval
      WINDOW earlier AS (PARTITION BY question_id ORDER BY interval_no)
    )
    UPDATE attempts a
    SET difficulty_at_attempt = (b.wrong + 1)::float8 / (b.n + 2)
    FROM slotted s JOIN before b ON b.question_id = s.question_id AND b.interval_no = s.interval_no
    WHERE s.missing AND a.id = s.id`;
}

/** NIGHTLY slots from the first attempt to the last slot up to now; MASTERY_DECAY slots up to now. */
interface RebuildSchedule extends ReplaySchedule {
  /** Where the last NIGHTLY run before the rebuild stopped (null: none ran). */
  previousWatermark: Date | null;
}

async function replaySchedule(db: Database, config: JobsConfig, now: Date): Promise<RebuildSchedule> {
  const [bounds] = await db.prisma.$queryRaw<{ first: Date | null; watermark: Date | null }[]>`
    SELECT (SELECT min(recorded_at) FROM attempts) AS first,
           (SELECT max(watermark) FROM job_runs WHERE job = 'NIGHTLY' AND status = 'SUCCEEDED') AS watermark`;
  const parameters = { ...config.mastery };
  const previousWatermark = bounds?.watermark ?? null;
  if (!bounds?.first)
    return { nightly: [], decay: [], parameters, historyActiveDays: config.historyActiveDays, previousWatermark };
  const after = new Date(bounds.first.getTime() - 1);
  const nightly: NightlySlot[] = cronSlots(config.nightlyCron, config.timezone, after, now, 100_000).map((slot) => ({
    at: slot.getTime(),
    date: scheduledRunDate(slot, config.timezone),
  }));
  // A run by hand went past the last slot: the rebuild goes as far, as that run did.
  const watermark = bounds.watermark?.getTime() ?? Number.NEGATIVE_INFINITY;
  if (watermark > (nightly.at(-1)?.at ?? Number.NEGATIVE_INFINITY) && watermark <= now.getTime())
    nightly.push({ at: watermark, date: localDate(new Date(watermark), config.timezone) });
  const decay = cronSlots(config.decayCron, config.timezone, after, now, 1_000_000).map((slot) => ({
    at: slot.getTime(),
  }));
  return { nightly, decay, parameters, historyActiveDays: config.historyActiveDays, previousWatermark };
}

interface LogRow {
  id: string;
  user_id: string;
  subcategory: string;
  correct: boolean;
  hint_used: boolean;
  context: string;
  recorded_at: Date;
  mastery_at_attempt: number | null;
}

async function rebuildMastery(
  db: Database,
  config: JobsConfig,
  schedule: ReplaySchedule,
  options: RebuildOptions,
): Promise<
  Pick<RebuildReport, 'learners' | 'masteries' | 'historyPoints' | 'historyCompared' | 'masteryAtAttemptUpdated'>
> {
  const chunkSize = options.chunkSize ?? 2_000;
  const counting = new Set<string>(config.masteryContexts);
  const conn = await importConnection(db);
  // A second connection only where the pool has one to give (DATABASE_POOL_SIZE=1 would wait forever).
  const reader = db.kind === 'postgres' && (db.pool?.().max ?? 1) >= 2 ? await importConnection(db) : conn;
  const locked = () => conn.run('SELECT pg_advisory_xact_lock($1)', [jobsLockKey]);
  try {
    const learners = (
      await conn.run<{ id: string }>('SELECT DISTINCT user_id::text AS id FROM attempts ORDER BY 1', [])
    ).map((r) => r.id);
    await conn.transaction(async () => {
      await locked();
      await conn.run('DELETE FROM masteries', []);
      await conn.run('DELETE FROM mastery_history WHERE NOT imported', []);
      await conn.run(
        `UPDATE mastery_history SET base_at = NULL, base_score = NULL, hold_to = NULL, last_practiced_at = NULL
         WHERE base_at IS NOT NULL`,
        [],
      );
      await writeNights(conn.run, schedule);
    });
    const totals = { learners: learners.length, masteries: 0, historyPoints: 0, masteryAtAttemptUpdated: 0 };
    const compared = { points: 0, sum: 0, max: 0 };
    const chunks: string[][] = [];
    for (let i = 0; i < learners.length; i += chunkSize) chunks.push(learners.slice(i, i + chunkSize));
    // On PostgreSQL three things at once: the database writes a chunk (this connection, the jobs' lock
    // held) and reads the next one's log (the reader), while this process replays that one. PGlite is
    // one session in this process (and a pool of one, one connection): one thing at a time.
    let writing: Promise<void> = Promise.resolve();
    let done = 0;
    try {
      for (const chunk of chunks) {
        if (reader === conn) await writing;
        const replayed = await replayChunk(await readChunk(reader.run, chunk), schedule, counting, compared);
        await writing;
        writing = conn.transaction(async () => {
          await locked();
          const written = await writeReplay(conn, replayed);
          totals.masteries += written.masteries;
          totals.historyPoints += written.history;
          totals.masteryAtAttemptUpdated += written.masteryAtAttempt;
        });
        writing.then(
          () => {
            done += chunk.length;
            options.onLearners?.(done, learners.length);
          },
          () => {},
        );
      }
      await writing;
    } finally {
      // A failure while a chunk is being written: its end before the connection goes back.
      await writing.catch(() => {});
    }
    return {
      ...totals,
      historyCompared: {
        points: compared.points,
        meanAbsoluteDifference: compared.points > 0 ? compared.sum / compared.points : null,
        maxAbsoluteDifference: compared.points > 0 ? compared.max : null,
      },
    };
  } finally {
    if (reader !== conn) await reader.release();
    await conn.release();
  }
}

/** A chunk of learners' attempt log in history order, and their imported history points. */
async function readChunk(run: SqlRunner, learners: string[]) {
  const log = await run<LogRow>(
    `SELECT a.id::text AS id, a.user_id::text AS user_id, q.subcategory, a.correct, a.hint_used,
            a.context::text AS context, a.recorded_at, a.mastery_at_attempt
     FROM attempts a JOIN questions q ON q.id = a.question_id
     WHERE a.user_id = ANY($1::uuid[])
     ORDER BY a.user_id, a.recorded_at, a.id`,
    [learners],
  );
  const imported = await run<{ key: string; score: number }>(
    `SELECT user_id::text || '/' || subcategory || '/' || to_char(date, 'YYYY-MM-DD') AS key, score
     FROM mastery_history WHERE imported AND user_id = ANY($1::uuid[])`,
    [learners],
  );
  return { log, importedScore: new Map(imported.map((r) => [r.key, r.score])) };
}

interface ReplayedChunk {
  masteries: ReplayedMastery[];
  masteryUsers: string[];
  history: (StoredHistoryPoint & { userId: string })[];
  changed: { id: string; value: number | null }[];
}

/**
 * Replays the learners of one chunk of the log, comparing with the imported points. It gives way to
 * I/O every few learners, so that the previous chunk's statements go on meanwhile.
 */
async function replayChunk(
  { log, importedScore }: Awaited<ReturnType<typeof readChunk>>,
  schedule: ReplaySchedule,
  counting: ReadonlySet<string>,
  compared: { points: number; sum: number; max: number },
): Promise<ReplayedChunk> {
  const replayedChunk: ReplayedChunk = { masteries: [], masteryUsers: [], history: [], changed: [] };
  const { masteries, masteryUsers, history, changed } = replayedChunk;
  const withImported = new Set([...importedScore.keys()].map((key) => key.slice(0, key.indexOf('/'))));
  let learners = 0;
  for (let start = 0; start < log.length; ) {
    let end = start;
    while (end < log.length && log[end]!.user_id === log[start]!.user_id) end++;
    const rows = log.slice(start, end);
    const userId = rows[0]!.user_id;
    const attempts: ReplayAttempt[] = rows.map((r) => ({
      subcategory: r.subcategory,
      correct: r.correct,
      hintUsed: r.hint_used,
      counts: counting.has(r.context),
      recordedAt: r.recorded_at.getTime(),
    }));
    const replayed = replayLearner(attempts, schedule, withImported.has(userId));
    for (const m of replayed.masteries) {
      masteries.push(m);
      masteryUsers.push(userId);
    }
    for (const point of replayed.history) {
      const recorded = importedScore.get(`${userId}/${point.subcategory}/${point.date}`);
      if (recorded === undefined) continue;
      const difference = Math.abs(recorded - point.score);
      compared.points++;
      compared.sum += difference;
      compared.max = Math.max(compared.max, difference);
    }
    for (const point of replayed.points) history.push({ userId, ...point });
    for (const [k, value] of replayed.masteryAtAttempt.entries())
      if (rows[k]!.mastery_at_attempt !== value) changed.push({ id: rows[k]!.id, value });
    start = end;
    if (++learners % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return replayedChunk;
}

/**
 * Writes what a chunk's learners came to: their Mastery rows (deleted before the pass) by COPY, history
 * points and masteryAtAttempt values by COPY into a staging table and one statement each.
 */
async function writeReplay(conn: ImportConnection, { masteries, masteryUsers, history, changed }: ReplayedChunk) {
  const instant = (ms: number | null) => (ms === null ? null : new Date(ms));
  const count = async (sql: string) => (await conn.run<{ n: number }>(sql, []))[0]?.n ?? 0;
  const written = { masteries: masteries.length, history: 0, masteryAtAttempt: 0 };
  if (masteries.length > 0)
    await conn.copyFrom(
      `masteries (user_id, subcategory, score, attempts_count, last_practiced_at, updated_at, decayed_at, history_date,
                  history_score, history_base_at, history_hold_to)`,
      copyRowsText(
        masteries.map((m, k) => [
          masteryUsers[k]!,
          m.subcategory,
          m.score,
          m.attemptsCount,
          instant(m.lastPracticedAt),
          instant(m.updatedAt),
          instant(m.decayedAt),
          m.history?.date ?? null,
          m.history?.score ?? null,
          instant(m.history?.baseAt ?? null),
          instant(m.history?.holdTo ?? null),
        ]),
      ),
    );
  if (history.length > 0) {
    await conn.run(
      `CREATE TEMP TABLE rebuild_history (user_id uuid, subcategory text, date date, score float8, base_at timestamptz,
                                          hold_to timestamptz, last_practiced_at timestamptz) ON COMMIT DROP`,
      [],
    );
    await conn.copyFrom(
      'rebuild_history',
      copyRowsText(
        history.map((h) => [
          h.userId,
          h.subcategory,
          h.date,
          h.score,
          instant(h.baseAt),
          instant(h.holdTo),
          instant(h.lastPracticedAt),
        ]),
      ),
    );
    // An imported point of the same day stays the record: it takes the replay's point as its base.
    written.history = await count(
      `WITH w AS (INSERT INTO mastery_history (user_id, subcategory, date, score, base_at, base_score, hold_to,
                                           last_practiced_at)
                  SELECT user_id, subcategory, date, score, base_at, score, hold_to, last_practiced_at
                  FROM rebuild_history
                  ON CONFLICT (user_id, subcategory, date) DO UPDATE
                  SET base_at = EXCLUDED.base_at, base_score = EXCLUDED.base_score, hold_to = EXCLUDED.hold_to,
                      last_practiced_at = EXCLUDED.last_practiced_at
                  RETURNING 1)
       SELECT count(*)::int AS n FROM w`,
    );
  }
  if (changed.length > 0) {
    await conn.run('CREATE TEMP TABLE rebuild_mastery_at_attempt (id uuid, value float8) ON COMMIT DROP', []);
    await conn.copyFrom('rebuild_mastery_at_attempt', copyRowsText(changed.map((c) => [c.id, c.value])));
    written.masteryAtAttempt = await count(
      `WITH w AS (UPDATE attempts a SET mastery_at_attempt = t.value
                  FROM rebuild_mastery_at_attempt t WHERE a.id = t.id RETURNING 1)
       SELECT count(*)::int AS n FROM w`,
    );
  }
  return written;
}

/** Every NIGHTLY slot as a night the history is read at, with the last MASTERY_DECAY slot before it. */
async function writeNights(run: SqlRunner, schedule: ReplaySchedule): Promise<void> {
  await run('DELETE FROM mastery_history_nights', []);
  const decayAt = (at: number) => {
    const before = firstSlotFrom(schedule.decay, at) - 1;
    return before >= 0 ? new Date(schedule.decay[before]!.at) : null;
  };
  // A later slot of the same date (a run by hand past the last one) stands for that date.
  await run(
    `INSERT INTO mastery_history_nights (date, at, decay_at)
     SELECT DISTINCT ON (date) date, at, decay_at
     FROM unnest($1::date[], $2::timestamptz[], $3::timestamptz[]) AS n(date, at, decay_at)
     ORDER BY date, at DESC`,
    [
      schedule.nightly.map((n) => n.date),
      schedule.nightly.map((n) => new Date(n.at)),
      schedule.nightly.map((n) => decayAt(n.at)),
    ],
  );
}

/** The rebuild stands for the NIGHTLY run of its last slot: the next run's window starts there. */
async function recordNightlyRun(tx: Transaction, slot: NightlySlot): Promise<void> {
  await tx.$executeRaw`
    INSERT INTO job_runs (job, slot, status, started_at, finished_at, owner, run_date, watermark, stats)
    VALUES ('NIGHTLY', ${new Date(slot.at)}::timestamptz, 'SUCCEEDED', clock_timestamp(), clock_timestamp(), 'rebuild',
            ${slot.date}::date, ${new Date(slot.at)}::timestamptz, '{"rebuild": true}'::jsonb)
    ON CONFLICT (job, slot) DO UPDATE SET status = 'SUCCEEDED', watermark = EXCLUDED.watermark,
      finished_at = EXCLUDED.finished_at, lease_until = NULL, error = NULL`;
}
