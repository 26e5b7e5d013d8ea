// SPEC 4.4 and issue 11 — model evaluation over the stored attempt log: read it in time order
// (pages of attempts, each page one JSON document), split the learners into training and held-out
// ones (by a hash of their id), fit the live learner model on the training learners, replay every
// model and score them on the held-out learners only. The EWMA is replayed once per (α, half-life)
// asked for; the attempt EWMA, Elo, Elo with offsets, BKT, the stored masteryAtAttempt and the stored
// predictedCorrect are the others.

import type { SqlClient } from '../db/types.ts';
import { fitAttemptEwma, fitEloOffsets, replayEloOffsets } from '../domain/baselines.ts';
import { replayBkt } from '../domain/bkt.ts';
import { addDays, startOfDay } from '../domain/calendar.ts';
import {
  type AttemptLog,
  type EloParameters,
  eloDefaults,
  learnerShare,
  type PredictionScore,
  replayElo,
  replayEwma,
  scorePredictions,
} from '../domain/evaluation.ts';
import type { LearnerModelParameters } from '../domain/learner-model.ts';
import {
  answeredOrder,
  attemptsOf,
  fitLearnerModel,
  replayLearnerModel,
  replayWithNightlyRefits,
} from '../domain/learner-model-fit.ts';
import type { MasteryParameters } from '../domain/mastery.ts';
import type { AttemptContext, DifficultyBand } from '../generated/prisma/client.ts';

export interface EvaluationOptions {
  /** EWMA weights to try (each with every half-life). */
  alphas: readonly number[];
  halfLivesHours: readonly number[];
  /** The EWMA's other parameters (prior, decay floor, inactivity) and the contexts it learns from. */
  mastery: MasteryParameters;
  masteryContexts: readonly AttemptContext[];
  /** Where the NIGHTLY runs fall in (after, until]: NIGHTLY_CRON's slots in JOBS_TZ (jobs/slots.ts). */
  nightlySlots(after: Date, until: Date): Date[];
  /** JOBS_TZ: the days of `from` and `to`. */
  timezone: string;
  /** Score the attempts recorded on these days (JOBS_TZ, inclusive); earlier ones warm the models up. */
  from?: string;
  to?: string;
  elo?: EloParameters;
  /** The live model's parameters to start the fit from (the server's parameters file). */
  learnerModel: LearnerModelParameters;
  /** Share of learners (by a hash of their id) the models are fitted on; the others are scored. */
  trainFraction: number;
  /** Attempts read per page. */
  pageSize?: number;
  onProgress?: (progress: EvaluationProgress) => void;
}

export type EvaluationProgress =
  | { phase: 'read'; attemptsRead: number; attemptsTotal: number }
  | { phase: 'fit' | 'replay'; step: string };

export type ModelName =
  | 'LIVE'
  | 'LIVE_NIGHTLY'
  | 'PREDICTED'
  | 'EWMA'
  | 'ATTEMPT_EWMA'
  | 'ELO'
  | 'ELO_OFFSETS'
  | 'BKT'
  | 'STORED';

export interface ModelScore {
  /**
   * LIVE: the live learner model replayed from the log (hyperparameters and question tables fitted on
   * the training learners, the tables held fixed); LIVE_NIGHTLY: the same hyperparameters replayed as
   * the server runs them, the question tables starting at their priors and refitted at every NIGHTLY
   * slot from the attempts recorded before it (what an operator can expect from a new server); PREDICTED:
   * Attempt.predictedCorrect as recordAttempt stored it (the truly online record); STORED:
   * Attempt.masteryAtAttempt.
   */
  model: ModelName;
  parameters: Record<string, number>;
  score: PredictionScore;
}

export interface EvaluationReport {
  attemptsReplayed: number;
  /** Attempts of held-out learners in the evaluation range: every model is scored on these only. */
  attemptsScored: number;
  learners: number;
  trainingLearners: number;
  heldOutLearners: number;
  trainFraction: number;
  /**
   * LIVE first, then LIVE_NIGHTLY, PREDICTED, the EWMA rows (best log-loss first), ATTEMPT_EWMA, ELO,
   * ELO_OFFSETS, BKT and STORED.
   */
  models: ModelScore[];
  /** The live model's parameters fitted on the training learners (what --fit writes). */
  learnerModel: LearnerModelParameters;
}

export async function evaluateModels(db: SqlClient, options: EvaluationOptions): Promise<EvaluationReport> {
  const scoreFrom = options.from ? startOfDay(options.from, options.timezone).getTime() : -Infinity;
  const until = options.to ? startOfDay(addDays(options.to, 1), options.timezone) : null;
  const { log, learnerIds } = await readAttemptLog(db, options, scoreFrom, until);
  return evaluateLog(log, learnerIds, options);
}

/** Share of the training learners whose attempts tune the hyperparameters (the others learn the question tables). */
const tuningShare = 0.25;

/** Fits and scores every model on a log in memory; `learnerIds[k]` is the id of learner index k. */
export function evaluateLog(
  log: AttemptLog,
  learnerIds: readonly string[],
  options: Omit<EvaluationOptions, 'from' | 'to' | 'pageSize'>,
): EvaluationReport {
  const step = (phase: 'fit' | 'replay', what: string) => options.onProgress?.({ phase, step: what });
  const training = Uint8Array.from(learnerIds, (id) => (learnerShare(id) < options.trainFraction ? 1 : 0));
  const tuning = Uint8Array.from(learnerIds, (id, k) =>
    training[k] && learnerShare(id, 'tune') < tuningShare ? 1 : 0,
  );
  const fitting = training.map((t, k) => t & (1 - tuning[k]!));
  const heldOut = training.map((t) => 1 - t);
  const scored = attemptsOf(log, heldOut).map((h, i) => h & log.scored[i]!);
  const outcomes = log.correct;
  const order = answeredOrder(log);
  const models: ModelScore[] = [];
  const learnerModel = options.learnerModel;
  let fittedParameters = learnerModel;
  if (log.length > 0) {
    step('fit', 'live model');
    const fit = fitLearnerModel(log, order, attemptsOf(log, fitting), attemptsOf(log, tuning), learnerModel, {
      onStep: (what) => step('fit', what),
    });
    fittedParameters = fit.params;
    const first = new Date(log.recordedAt[0]! - 1);
    const last = new Date(log.recordedAt[log.length - 1]! + 2 * 86_400_000);
    const runs = options.nightlySlots(first, last).map((d) => d.getTime());
    step('replay', 'live model');
    const live = replayLearnerModel(log, order, attemptsOf(log, heldOut), fit.params, fit.tables);
    models.push({
      model: 'LIVE',
      parameters: flatParameters(fit.params),
      score: scorePredictions(live, outcomes, scored),
    });
    step('replay', 'live model, tables refitted nightly');
    // Every learner's attempts feed the nightly refits, as on the server; the held-out ones are scored.
    const everyone = new Uint8Array(log.length).fill(1);
    const nightly = replayWithNightlyRefits(log, order, everyone, fit.params, runs);
    models.push({ model: 'LIVE_NIGHTLY', parameters: {}, score: scorePredictions(nightly, outcomes, scored) });
    models.push({
      model: 'PREDICTED',
      parameters: {},
      score: scorePredictions(log.storedPrediction, outcomes, scored),
    });
    step('replay', 'EWMA');
    const ewma: ModelScore[] = [];
    for (const alpha of options.alphas) {
      for (const halfLifeHours of options.halfLivesHours) {
        const predictions = replayEwma(log, runs, { ...options.mastery, alpha, halfLifeHours });
        ewma.push({
          model: 'EWMA',
          parameters: { alpha, halfLifeHours },
          score: scorePredictions(predictions, outcomes, scored),
        });
      }
    }
    ewma.sort((a, b) => (a.score.logLoss ?? Infinity) - (b.score.logLoss ?? Infinity));
    models.push(...ewma);
    const trainingAttempts = attemptsOf(log, training);
    step('fit', 'attempt EWMA');
    const attemptEwma = fitAttemptEwma(log, order, trainingAttempts);
    models.push({
      model: 'ATTEMPT_EWMA',
      parameters: { alpha: attemptEwma.alpha },
      score: scorePredictions(attemptEwma.predictions, outcomes, scored),
    });
    step('replay', 'Elo');
    const elo = options.elo ?? eloDefaults;
    models.push({
      model: 'ELO',
      parameters: { ...elo },
      score: scorePredictions(replayElo(log, elo), outcomes, scored),
    });
    step('fit', 'Elo with offsets');
    const offsets = fitEloOffsets(log, order, trainingAttempts);
    // Tuned on the training learners' replay; scored, as ELO, on a replay of everyone's attempts.
    models.push({
      model: 'ELO_OFFSETS',
      parameters: Object.fromEntries(
        Object.entries(offsets).flatMap(([rating, k]) => [
          [`${rating}.a`, k.a],
          [`${rating}.k`, k.k],
        ]),
      ),
      score: scorePredictions(replayEloOffsets(log, order, offsets), outcomes, scored),
    });
    step('fit', 'BKT (EM)');
    const bkt = replayBkt(log, order, trainingAttempts);
    models.push({
      model: 'BKT',
      parameters: { subcategories: bkt.parameters.length },
      score: scorePredictions(bkt.predictions, outcomes, scored),
    });
    models.push({ model: 'STORED', parameters: {}, score: scorePredictions(log.storedMastery, outcomes, scored) });
  }
  return {
    attemptsReplayed: log.length,
    attemptsScored: scored.reduce((n, s) => n + s, 0),
    learners: learnerIds.length,
    trainingLearners: training.reduce((n, t) => n + t, 0),
    heldOutLearners: heldOut.reduce((n, h) => n + h, 0),
    trainFraction: options.trainFraction,
    models,
    learnerModel: fittedParameters,
  };
}

/** The parameters as one flat record of numbers (band offsets as bandOffset.EASY …, bends as calibrationBends.0 …). */
function flatParameters(params: LearnerModelParameters): Record<string, number> {
  const { bandOffset, calibrationBends, ...rest } = params;
  return {
    ...rest,
    ...Object.fromEntries(Object.entries(bandOffset).map(([band, offset]) => [`bandOffset.${band}`, offset])),
    ...Object.fromEntries(calibrationBends.map((bend, k) => [`calibrationBends.${k}`, bend])),
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
  band: DifficultyBand,
  correct: boolean,
  hintUsed: boolean,
  context: AttemptContext,
  recordedAtMs: number,
  answeredAtMs: number,
  mastery: number | null,
  predicted: number | null,
];

/**
 * The attempts recorded up to `until` (all when null), in (recordedAt, id) order, as columns, read in
 * pages keyed on the last row read (memory holds the columns, never more than a page of rows).
 */
async function readAttemptLog(
  db: SqlClient,
  options: EvaluationOptions,
  scoreFrom: number,
  until: Date | null,
): Promise<{ log: AttemptLog; learnerIds: string[] }> {
  const pageSize = options.pageSize ?? 50_000;
  const log = new AttemptLogBuilder(new Set(options.masteryContexts), scoreFrom);
  const counted = await db.$queryRaw<{ total: number }[]>`
    SELECT count(*)::int AS total FROM attempts WHERE recorded_at < COALESCE(${until}::timestamptz, 'infinity')`;
  const total = counted[0]?.total ?? 0;
  // The key of the last attempt read (null before the first page).
  let afterAt: string | null = null;
  let afterId: string | null = null;
  for (;;) {
    // recorded_at travels as text for the next page's key: exact to the microsecond.
    // predicted_correct through to_jsonb: null where the column does not exist (a log from before it).
    const pages: AttemptPage[] = await db.$queryRaw<AttemptPage[]>`
      WITH page AS (
        SELECT a.id, a.user_id, q.subcategory, a.question_id, q.difficulty_band, a.correct, a.hint_used,
               a.context, a.recorded_at, COALESCE(a.answered_at, a.recorded_at) AS answered_at,
               a.mastery_at_attempt, (to_jsonb(a) ->> 'predicted_correct')::float8 AS predicted_correct
        FROM attempts a JOIN questions q ON q.id = a.question_id
        WHERE a.recorded_at >= COALESCE(${afterAt}::timestamptz, '-infinity')
          AND (${afterAt}::timestamptz IS NULL
               OR a.recorded_at > ${afterAt}::timestamptz
               OR a.id > ${afterId}::uuid)
          AND a.recorded_at < COALESCE(${until}::timestamptz, 'infinity')
        ORDER BY a.recorded_at, a.id
        LIMIT ${pageSize}
      )
      SELECT json_agg(json_build_array(user_id, subcategory, question_id, difficulty_band, correct, hint_used,
                                       context, extract(epoch FROM recorded_at) * 1000,
                                       extract(epoch FROM answered_at) * 1000, mastery_at_attempt,
                                       predicted_correct) ORDER BY recorded_at, id) AS rows,
             (SELECT recorded_at::text FROM page ORDER BY recorded_at DESC, id DESC LIMIT 1) AS last_at,
             (SELECT id::text FROM page ORDER BY recorded_at DESC, id DESC LIMIT 1) AS last_id
      FROM page`;
    const page = pages[0];
    if (!page?.rows) break;
    for (const row of page.rows) log.push(row);
    options.onProgress?.({ phase: 'read', attemptsRead: log.length, attemptsTotal: total });
    if (page.rows.length < pageSize) break;
    afterAt = page.last_at;
    afterId = page.last_id;
  }
  return { log: log.build(), learnerIds: log.learnerIds() };
}

const bandIndex: Record<DifficultyBand, number> = { EASY: 0, MEDIUM: 1, HARD: 2 };

/** Gathers rows into columns, ids into dense indices. */
export class AttemptLogBuilder {
  private readonly learners = new Map<string, number>();
  private readonly pairs = new Map<string, number>();
  private readonly questions = new Map<string, number>();
  private readonly subcategories = new Map<string, number>();
  private readonly columns = {
    learner: [] as number[],
    learnerSubcategory: [] as number[],
    question: [] as number[],
    subcategory: [] as number[],
    band: [] as number[],
    correct: [] as number[],
    hintUsed: [] as number[],
    teachesMastery: [] as number[],
    recordedAt: [] as number[],
    answeredAt: [] as number[],
    storedMastery: [] as number[],
    storedPrediction: [] as number[],
    scored: [] as number[],
  };

  constructor(
    private readonly teaches: ReadonlySet<AttemptContext>,
    private readonly scoreFrom: number,
  ) {}

  get length(): number {
    return this.columns.learner.length;
  }

  push(row: AttemptRow): void {
    const [userId, subcategory, questionId, band, correct, hintUsed, context, recordedAt, answeredAt] = row;
    const [mastery, predicted] = [row[9], row[10]];
    const c = this.columns;
    c.learner.push(indexOf(this.learners, userId));
    c.learnerSubcategory.push(indexOf(this.pairs, `${userId}|${subcategory}`));
    c.question.push(indexOf(this.questions, questionId));
    c.subcategory.push(indexOf(this.subcategories, subcategory));
    c.band.push(bandIndex[band]);
    c.correct.push(correct ? 1 : 0);
    c.hintUsed.push(hintUsed ? 1 : 0);
    c.teachesMastery.push(this.teaches.has(context) ? 1 : 0);
    c.recordedAt.push(recordedAt);
    c.answeredAt.push(answeredAt);
    c.storedMastery.push(mastery ?? Number.NaN);
    c.storedPrediction.push(predicted ?? Number.NaN);
    c.scored.push(recordedAt >= this.scoreFrom ? 1 : 0);
  }

  /** The learners' ids in index order. */
  learnerIds(): string[] {
    return [...this.learners.keys()];
  }

  build(): AttemptLog {
    const c = this.columns;
    return {
      length: this.length,
      learner: Int32Array.from(c.learner),
      learnerSubcategory: Int32Array.from(c.learnerSubcategory),
      question: Int32Array.from(c.question),
      subcategory: Int32Array.from(c.subcategory),
      band: Uint8Array.from(c.band),
      correct: Uint8Array.from(c.correct),
      hintUsed: Uint8Array.from(c.hintUsed),
      teachesMastery: Uint8Array.from(c.teachesMastery),
      recordedAt: Float64Array.from(c.recordedAt),
      answeredAt: Float64Array.from(c.answeredAt),
      storedMastery: Float64Array.from(c.storedMastery),
      storedPrediction: Float64Array.from(c.storedPrediction),
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
