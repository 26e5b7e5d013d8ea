// SPEC 4.4 — model evaluation over the stored attempt log: read it in time order (pages of
// attempts, each page one JSON document), replay the models of src/domain/evaluation.ts and score
// them. The EWMA is replayed once per (α, half-life) asked for, so an operator can tune both on
// their own data; Elo and the stored masteryAtAttempt are the baselines.
import { addDays } from '../domain/calendar.ts';
import {
  type AttemptLog,
  type EloParameters,
  eloDefaults,
  type PredictionScore,
  replayElo,
  replayEwma,
  scorePredictions,
} from '../domain/evaluation.ts';
import type { MasteryParameters } from '../domain/mastery.ts';
import type { AttemptContext } from '../generated/prisma/client.ts';
import { cronSlots, startOfDay } from '../jobs/slots.ts';
import type { SqlClient } from './learning-patterns.ts';

export interface EvaluationOptions {
  /** EWMA weights to try (each with every half-life). */
  alphas: readonly number[];
  halfLivesHours: readonly number[];
  /** The EWMA's other parameters (prior, decay floor, inactivity) and the contexts it learns from. */
  mastery: MasteryParameters;
  masteryContexts: readonly AttemptContext[];
  /** Where the NIGHTLY runs fall: NIGHTLY_CRON in JOBS_TZ. */
  nightlyCron: string;
  timezone: string;
  /** Score the attempts recorded on these days (JOBS_TZ, inclusive); earlier ones warm the models up. */
  from?: string;
  to?: string;
  elo?: EloParameters;
  /** Attempts read per page. */
  pageSize?: number;
  onProgress?: (attemptsRead: number) => void;
}

export interface ModelScore {
  model: 'EWMA' | 'ELO' | 'STORED';
  parameters: Record<string, number>;
  score: PredictionScore;
}

export interface EvaluationReport {
  attemptsReplayed: number;
  attemptsScored: number;
  learners: number;
  /** EWMA rows first (best log-loss first), then Elo, then the stored scores. */
  models: ModelScore[];
}

export async function evaluateModels(db: SqlClient, options: EvaluationOptions): Promise<EvaluationReport> {
  const scoreFrom = options.from ? startOfDay(options.from, options.timezone).getTime() : -Infinity;
  const until = options.to ? startOfDay(addDays(options.to, 1), options.timezone) : null;
  const log = await readAttemptLog(
    db,
    options.masteryContexts,
    scoreFrom,
    until,
    options.pageSize ?? 50_000,
    options.onProgress,
  );
  const outcomes = log.correct;
  const models: ModelScore[] = [];
  if (log.length > 0) {
    const first = new Date(log.recordedAt[0]! - 1);
    const last = new Date(log.recordedAt[log.length - 1]! + 2 * 86_400_000);
    const runs = cronSlots(options.nightlyCron, options.timezone, first, last, Number.MAX_SAFE_INTEGER).map((d) =>
      d.getTime(),
    );
    for (const alpha of options.alphas) {
      for (const halfLifeHours of options.halfLivesHours) {
        const predictions = replayEwma(log, runs, { ...options.mastery, alpha, halfLifeHours });
        models.push({
          model: 'EWMA',
          parameters: { alpha, halfLifeHours },
          score: scorePredictions(predictions, outcomes, log.scored),
        });
      }
    }
    models.sort((a, b) => (a.score.logLoss ?? Infinity) - (b.score.logLoss ?? Infinity));
  }
  const elo = options.elo ?? eloDefaults;
  models.push({
    model: 'ELO',
    parameters: { ...elo },
    score: scorePredictions(replayElo(log, elo), outcomes, log.scored),
  });
  models.push({ model: 'STORED', parameters: {}, score: scorePredictions(log.storedMastery, outcomes, log.scored) });
  return {
    attemptsReplayed: log.length,
    attemptsScored: log.scored.reduce((n, s) => n + s, 0),
    learners: new Set(log.learner).size,
    models,
  };
}

interface AttemptPage {
  rows: AttemptRow[] | null;
  last_at: string | null;
  last_id: string | null;
}

type AttemptRow = [
  userId: string,
  subcategory: string,
  questionId: string,
  correct: boolean,
  hintUsed: boolean,
  context: AttemptContext,
  recordedAtMs: number,
  mastery: number | null,
];

/** The attempts recorded up to `until` (all when null), in (recordedAt, id) order, as columns. */
async function readAttemptLog(
  db: SqlClient,
  masteryContexts: readonly AttemptContext[],
  scoreFrom: number,
  until: Date | null,
  pageSize: number,
  onProgress?: (attemptsRead: number) => void,
): Promise<AttemptLog> {
  const log = new AttemptLogBuilder(new Set(masteryContexts), scoreFrom);
  // The key of the last attempt read (null before the first page).
  let afterAt: string | null = null;
  let afterId: string | null = null;
  for (;;) {
    // recorded_at travels as text for the next page's key: exact to the microsecond.
    const pages: AttemptPage[] = await db.$queryRaw<AttemptPage[]>`
      WITH page AS (
        SELECT a.id, a.user_id, q.subcategory, a.question_id, a.correct, a.hint_used, a.context, a.recorded_at,
               a.mastery_at_attempt
        FROM attempts a JOIN questions q ON q.id = a.question_id
        WHERE a.recorded_at >= COALESCE(${afterAt}::timestamptz, '-infinity')
          AND (${afterAt}::timestamptz IS NULL
               OR a.recorded_at > ${afterAt}::timestamptz
               OR a.id > ${afterId}::uuid)
          AND a.recorded_at < COALESCE(${until}::timestamptz, 'infinity')
        ORDER BY a.recorded_at, a.id
        LIMIT ${pageSize}
      )
      SELECT json_agg(json_build_array(user_id, subcategory, question_id, correct, hint_used, context,
                                       extract(epoch FROM recorded_at) * 1000, mastery_at_attempt)
                      ORDER BY recorded_at, id) AS rows,
             (SELECT recorded_at::text FROM page ORDER BY recorded_at DESC, id DESC LIMIT 1) AS last_at,
             (SELECT id::text FROM page ORDER BY recorded_at DESC, id DESC LIMIT 1) AS last_id
      FROM page`;
    const page = pages[0];
    if (!page?.rows) break;
    for (const row of page.rows) log.push(row);
    onProgress?.(log.length);
    if (page.rows.length < pageSize) break;
    afterAt = page.last_at;
    afterId = page.last_id;
  }
  return log.build();
}

/** Gathers rows into columns, ids into dense indices. */
class AttemptLogBuilder {
  private readonly learners = new Map<string, number>();
  private readonly pairs = new Map<string, number>();
  private readonly questions = new Map<string, number>();
  private readonly columns = {
    learner: [] as number[],
    learnerSubcategory: [] as number[],
    question: [] as number[],
    correct: [] as number[],
    hintUsed: [] as number[],
    teachesMastery: [] as number[],
    recordedAt: [] as number[],
    storedMastery: [] as number[],
    scored: [] as number[],
  };

  constructor(
    private readonly teaches: ReadonlySet<AttemptContext>,
    private readonly scoreFrom: number,
  ) {}

  get length(): number {
    return this.columns.learner.length;
  }

  push([userId, subcategory, questionId, correct, hintUsed, context, recordedAt, mastery]: AttemptRow): void {
    const c = this.columns;
    c.learner.push(indexOf(this.learners, userId));
    c.learnerSubcategory.push(indexOf(this.pairs, `${userId}|${subcategory}`));
    c.question.push(indexOf(this.questions, questionId));
    c.correct.push(correct ? 1 : 0);
    c.hintUsed.push(hintUsed ? 1 : 0);
    c.teachesMastery.push(this.teaches.has(context) ? 1 : 0);
    c.recordedAt.push(recordedAt);
    c.storedMastery.push(mastery ?? Number.NaN);
    c.scored.push(recordedAt >= this.scoreFrom ? 1 : 0);
  }

  build(): AttemptLog {
    const c = this.columns;
    return {
      length: this.length,
      learner: Int32Array.from(c.learner),
      learnerSubcategory: Int32Array.from(c.learnerSubcategory),
      question: Int32Array.from(c.question),
      correct: Uint8Array.from(c.correct),
      hintUsed: Uint8Array.from(c.hintUsed),
      teachesMastery: Uint8Array.from(c.teachesMastery),
      recordedAt: Float64Array.from(c.recordedAt),
      storedMastery: Float64Array.from(c.storedMastery),
      scored: Uint8Array.from(c.scored),
    };
  }
}

function indexOf(map: Map<string, number>, key: string): number {
  const known = map.get(key);
  if (known !== undefined) return known;
  map.set(key, map.size);
  return map.size - 1;
}
