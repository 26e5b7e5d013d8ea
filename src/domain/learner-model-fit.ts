// Replaying and fitting the live learner model (src/domain/learner-model.ts) on an attempt log:
// question difficulties and subcategory priors learnt from training learners, the hyperparameters
// tuned by coordinate search on log-loss, and the final Platt calibration. Pure; the evaluation
// (src/services/model-evaluation.ts) and `npm run evaluate -- --fit` stand on it.
import { type AttemptLog, countOf } from './evaluation.ts';
import {
  type AttemptAggregate,
  addPracticeEvidence,
  answerAfter,
  calibratedLogit,
  calibrationKnots,
  emptyPracticeAggregate,
  type LearnerAbility,
  type LearnerModelParameters,
  newLearnerAbility,
  newSubcategoryPrior,
  type PracticeAggregate,
  type PreviousAnswer,
  practicePrior,
  type QuestionParameters,
  questionPrior,
  refitPracticeOffsets,
  refitQuestionParameters,
  refitSubcategoryPrior,
  type SkillState,
  type SubcategoryPrior,
  updateAfterAttempt,
} from './learner-model.ts';
import { attemptCredit } from './mastery.ts';
import { type DifficultyBand, difficultyBands } from './types.ts';

/** What the model knows of questions and subcategories (NIGHTLY's refits, in production). */
export interface LiveModelTables {
  questions: QuestionParameters[];
  subcategories: SubcategoryPrior[];
}

/** The log's indices in the order learners answered (answeredAt, then log order). */
export function answeredOrder(log: AttemptLog): Int32Array {
  const order = Int32Array.from({ length: log.length }, (_, i) => i);
  return order.sort((a, b) => log.answeredAt[a]! - log.answeredAt[b]! || a - b);
}

/** The attempts of the learners `learnerMask` marks (1), as a per-attempt mask. */
export function attemptsOf(log: AttemptLog, learnerMask: Uint8Array): Uint8Array {
  const mask = new Uint8Array(log.length);
  for (let i = 0; i < log.length; i++) mask[i] = learnerMask[log.learner[i]!]!;
  return mask;
}

/** Per question: Σ attempts, Σ credit, Σ predicted, Σ predicted·(1 − predicted) (NIGHTLY's GROUP BY). */
interface QuestionSums {
  attempts: Float64Array;
  credit: Float64Array;
  predicted: Float64Array;
  variance: Float64Array;
  /** Per subcategory: the PFA offsets' gradient and curvature. */
  practice: PracticeAggregate[];
}

const creditOf = (log: AttemptLog, i: number) =>
  attemptCredit({ correct: log.correct[i] === 1, hintUsed: log.hintUsed[i] === 1 });

/** What a replay tells around each attempt it applies. */
interface ReplayObserver {
  /** Before attempt i is predicted: the tables may change here (the nightly refits), never after. */
  before?(i: number): void;
  /** After it: its prediction, credit, and the learner's skill state before it (undefined: the first there). */
  after(i: number, predicted: number, credit: number, skillBefore: SkillState | undefined): void;
}

/**
 * The model's prediction before each attempt of the included ones (NaN for the others), each learner
 * replayed online in answeredAt order with the given question and subcategory tables (held fixed,
 * unless the observer changes them before an attempt).
 */
export function replayLearnerModel(
  log: AttemptLog,
  order: Int32Array,
  include: Uint8Array,
  params: LearnerModelParameters,
  tables: LiveModelTables,
  observer?: ReplayObserver,
): Float64Array {
  const learners: (LearnerAbility | undefined)[] = new Array(countOf(log.learner));
  const skills: (SkillState | undefined)[] = new Array(countOf(log.learnerSubcategory));
  const predictions = new Float64Array(log.length).fill(Number.NaN);
  const questionCount = countOf(log.question);
  const previous = new Map<number, PreviousAnswer>();
  for (const i of order) {
    if (!include[i]) continue;
    observer?.before?.(i);
    const learner = log.learner[i]!;
    const pair = log.learnerSubcategory[i]!;
    const question = log.question[i]!;
    const credit = creditOf(log, i);
    const answered = learner * questionCount + question;
    const before = skills[pair];
    const update = updateAfterAttempt(
      params,
      learners[learner] ?? newLearnerAbility(),
      skills[pair] ?? null,
      tables.questions[question]!,
      tables.subcategories[log.subcategory[i]!]!,
      credit,
      log.answeredAt[i]!,
      previous.get(answered) ?? null,
    );
    previous.set(answered, answerAfter(previous.get(answered) ?? null, credit, log.answeredAt[i]!));
    learners[learner] = update.learner;
    skills[pair] = update.skill;
    predictions[i] = update.predicted;
    observer?.after(i, update.predicted, credit, before);
  }
  return predictions;
}

/** An observer adding each attempt to per-question and per-subcategory sums (the batch fit's passes). */
function summing(log: AttemptLog, params: LearnerModelParameters, sums: QuestionSums): ReplayObserver {
  return {
    after(i, predicted, credit, before) {
      const question = log.question[i]!;
      sums.attempts[question]! += 1;
      sums.credit[question]! += credit;
      sums.predicted[question]! += predicted;
      sums.variance[question]! += predicted * (1 - predicted);
      if (before) addPracticeEvidence(sums.practice[log.subcategory[i]!]!, params, before, predicted, credit);
    },
  };
}

/** One NIGHTLY run's input: its window's aggregates per question and per subcategory. */
interface NightEvidence {
  questions: Map<number, AttemptAggregate>;
  practice: Map<number, PracticeAggregate>;
}

/**
 * What the server predicts: every included attempt (all learners') replayed online in answeredAt
 * order while the question and subcategory tables start at their priors and move only at NIGHTLY's
 * slots (`slots`, ascending epoch ms), each run refitting them as the NIGHTLY step does
 * (jobs/steps/learner-model.ts: refitQuestionParameters, refitPracticeOffsets, then
 * refitSubcategoryPrior over the questions with data) from the predictions of the attempts recorded
 * in its window (previous slot, slot]. An attempt counts in the first slot at or after both its
 * recordedAt and answeredAt, and a run applies before the first attempt answered after its slot: no
 * prediction sees the tables its own attempt, or a later one, moved.
 */
export function replayWithNightlyRefits(
  log: AttemptLog,
  order: Int32Array,
  include: Uint8Array,
  params: LearnerModelParameters,
  slots: readonly number[],
): Float64Array {
  const facts = questionFacts(log);
  const tables = priorTables(log, params);

  const subcategoryCount = tables.subcategories.length;
  const hasData = new Uint8Array(facts.subcategory.length);
  const questionsOf: number[][] = Array.from({ length: subcategoryCount }, () => []);
  facts.subcategory.forEach((s, q) => {
    questionsOf[s]!.push(q);
  });
  const practice = tables.subcategories.map(() => practicePrior(params));
  // Σ attempts and Σ attempts · difficulty over each subcategory's questions with data (refitPriors' GROUP BY).
  const sumAttempts = new Float64Array(subcategoryCount);
  const sumWeighted = new Float64Array(subcategoryCount);
  const nights = new Map<number, NightEvidence>();
  const runNight = (night: NightEvidence) => {
    const touched = new Set<number>(night.practice.keys());
    for (const [q, aggregate] of night.questions) {
      const current = tables.questions[q]!;
      const refitted = refitQuestionParameters(params, current, aggregate);
      const s = facts.subcategory[q]!;
      if (hasData[q]) {
        sumAttempts[s]! -= current.attempts;
        sumWeighted[s]! -= current.attempts * current.difficulty;
      }
      sumAttempts[s]! += refitted.attempts;
      sumWeighted[s]! += refitted.attempts * refitted.difficulty;
      hasData[q] = 1;
      tables.questions[q] = refitted;
      touched.add(s);
    }
    for (const [s, aggregate] of night.practice) practice[s] = refitPracticeOffsets(practice[s]!, aggregate);
    for (const s of touched) {
      const prior = {
        ...refitSubcategoryPrior(params, { attempts: sumAttempts[s]!, weightedDifficultySum: sumWeighted[s]! }),
        successOffset: practice[s]!.successOffset,
        failureOffset: practice[s]!.failureOffset,
      };
      tables.subcategories[s] = prior;
      // A question without data reads its subcategory's prior as it stands (questionParameters).
      for (const q of questionsOf[s]!)
        if (!hasData[q]) tables.questions[q] = questionPrior(params, bandOf(facts, q), prior);
    }
  };
  let next = 0;
  return replayLearnerModel(log, order, include, params, tables, {
    before(i) {
      for (; next < slots.length && slots[next]! < log.answeredAt[i]!; next++) {
        const night = nights.get(next);
        nights.delete(next);
        if (night) runNight(night);
      }
    },
    after(i, predicted, credit, before) {
      const slot = firstAtOrAfter(slots, Math.max(log.recordedAt[i]!, log.answeredAt[i]!));
      if (slot === slots.length) return; // no run after it: it moves nothing the replay uses
      const night = entry(nights, slot, () => ({ questions: new Map(), practice: new Map() }));
      const sums = entry(night.questions, log.question[i]!, emptyAttemptAggregate);
      sums.attempts += 1;
      sums.creditSum += credit;
      sums.predictedSum += predicted;
      sums.predictedVarianceSum += predicted * (1 - predicted);
      if (!before) return;
      addPracticeEvidence(
        entry(night.practice, log.subcategory[i]!, emptyPracticeAggregate),
        params,
        before,
        predicted,
        credit,
      );
    },
  });
}

const emptyAttemptAggregate = (): AttemptAggregate => ({
  attempts: 0,
  creditSum: 0,
  predictedSum: 0,
  predictedVarianceSum: 0,
});

/** The map's value at `key`, made and stored first when it has none. */
function entry<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

/** The index of the first of the ascending `values` at or after `x` (values.length when none). */
function firstAtOrAfter(values: readonly number[], x: number): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (values[mid]! < x) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Each question's subcategory and band, as the log has them. */
function questionFacts(log: AttemptLog): { subcategory: Int32Array; band: Uint8Array } {
  const questions = countOf(log.question);
  const subcategory = new Int32Array(questions);
  const band = new Uint8Array(questions);
  for (let i = 0; i < log.length; i++) {
    subcategory[log.question[i]!] = log.subcategory[i]!;
    band[log.question[i]!] = log.band[i]!;
  }
  return { subcategory, band };
}

/** Tables without data: every subcategory at 0, every question at its band's prior. */
export function priorTables(log: AttemptLog, params: LearnerModelParameters): LiveModelTables {
  const facts = questionFacts(log);
  const subcategories = Array.from({ length: countOf(log.subcategory) }, newSubcategoryPrior);
  const questions = Array.from(facts.subcategory, (s, q) =>
    questionPrior(params, difficultyBands[facts.band[q]!]!, subcategories[s]!),
  );
  return { questions, subcategories };
}

/**
 * Question difficulties, subcategory priors and band offsets learnt from the included attempts:
 * `passes` rounds of replaying them and taking a Newton step of the penalised likelihood in each
 * difficulty (the prior being the question's band prior with questionPriorInformation). Questions
 * without included attempts keep their prior. Returns the band offsets too (for --fit).
 */
export function fitTables(
  log: AttemptLog,
  order: Int32Array,
  include: Uint8Array,
  params: LearnerModelParameters,
  passes = 4,
): { tables: LiveModelTables; bandOffset: Record<DifficultyBand, number> } {
  const facts = questionFacts(log);
  const questionCount = facts.subcategory.length;
  let current = { ...params, bandOffset: { ...params.bandOffset } };
  let tables = priorTables(log, current);
  const s = params.calibrationSlope;
  for (let pass = 0; pass < passes; pass++) {
    const sums: QuestionSums = {
      attempts: new Float64Array(questionCount),
      credit: new Float64Array(questionCount),
      predicted: new Float64Array(questionCount),
      variance: new Float64Array(questionCount),
      practice: tables.subcategories.map(emptyPracticeAggregate),
    };
    replayLearnerModel(log, order, include, current, tables, summing(log, current, sums));
    const offsets = tables.subcategories.map((prior, j) => practiceStep(current, prior, sums.practice[j]!));
    const information = params.questionPriorInformation;
    const questions = tables.questions.map((q, k) => {
      if (sums.attempts[k] === 0) return q;
      const prior = tables.subcategories[facts.subcategory[k]!]!.difficulty + current.bandOffset[bandOf(facts, k)];
      const gradient = s * (sums.predicted[k]! - sums.credit[k]!) - information * (q.difficulty - prior);
      const curvature = information + s * s * sums.variance[k]!;
      return { difficulty: q.difficulty + gradient / curvature, attempts: sums.attempts[k]!, information: curvature };
    });
    // Subcategories: attempt-weighted mean difficulty of their questions, band offsets removed.
    const weight = new Float64Array(tables.subcategories.length);
    const weighted = new Float64Array(tables.subcategories.length);
    questions.forEach((q, k) => {
      weight[facts.subcategory[k]!]! += q.attempts;
      weighted[facts.subcategory[k]!]! += q.attempts * (q.difficulty - current.bandOffset[bandOf(facts, k)]);
    });
    const subcategories = tables.subcategories.map((_, j) => ({
      ...refitSubcategoryPrior(current, { attempts: weight[j]!, weightedDifficultySum: weighted[j]! }),
      ...offsets[j]!,
    }));
    current = { ...current, bandOffset: fitBandOffsets(facts, questions, subcategories, current) };
    tables = {
      subcategories,
      questions: questions.map((q, k) =>
        q.attempts > 0 ? q : questionPrior(current, bandOf(facts, k), subcategories[facts.subcategory[k]!]!),
      ),
    };
  }
  return { tables, bandOffset: current.bandOffset };
}

/**
 * One Newton step of the penalised likelihood in a subcategory's PFA offsets (the prior: 0 with
 * practicePriorInformation), from the current offsets: the nightly refit's step with the prior's
 * pull added to the gradient.
 */
function practiceStep(
  params: LearnerModelParameters,
  prior: SubcategoryPrior,
  evidence: PracticeAggregate,
): Pick<SubcategoryPrior, 'successOffset' | 'failureOffset'> {
  const lambda = params.practicePriorInformation;
  const { successOffset, failureOffset } = refitPracticeOffsets(
    { successOffset: prior.successOffset, failureOffset: prior.failureOffset, information: [lambda, 0, lambda] },
    {
      ...evidence,
      successGradient: evidence.successGradient + lambda * prior.successOffset,
      failureGradient: evidence.failureGradient + lambda * prior.failureOffset,
    },
  );
  return { successOffset, failureOffset };
}

const bandOf = (facts: { band: Uint8Array }, question: number) => difficultyBands[facts.band[question]!]!;

/** Each band's attempt-weighted mean of (difficulty − subcategory difficulty), shrunk toward the current offset. */
function fitBandOffsets(
  facts: { subcategory: Int32Array; band: Uint8Array },
  questions: QuestionParameters[],
  subcategories: SubcategoryPrior[],
  params: LearnerModelParameters,
): Record<DifficultyBand, number> {
  const pseudo = params.subcategoryPriorAttempts;
  const offsets = { ...params.bandOffset };
  for (const [b, band] of difficultyBands.entries()) {
    let n = 0;
    let sum = 0;
    questions.forEach((q, k) => {
      if (facts.band[k] !== b || q.attempts === 0) return;
      n += q.attempts;
      sum += q.attempts * (q.difficulty - subcategories[facts.subcategory[k]!]!.difficulty);
    });
    offsets[band] = (sum + pseudo * params.bandOffset[band]) / (n + pseudo);
  }
  return offsets;
}

const clip = 1e-6;

/** Mean log-loss of the included predictions against correctness. */
export function logLossOf(predictions: Float64Array, log: AttemptLog, include: Uint8Array): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < log.length; i++) {
    if (!include[i]) continue;
    const p = Math.min(1 - clip, Math.max(clip, predictions[i]!));
    sum -= log.correct[i] === 1 ? Math.log(p) : Math.log(1 - p);
    n++;
  }
  return n === 0 ? Number.NaN : sum / n;
}

type Calibration = Pick<
  LearnerModelParameters,
  'calibrationSlope' | 'calibrationIntercept' | 'calibrationLowSlope' | 'calibrationBends'
>;

/**
 * The calibration of the logit (an increasing piecewise-linear map: a slope, an intercept, a bend at
 * 0 and one at each of calibrationKnots) that minimises log-loss over the included predictions, z
 * being each prediction's uncalibrated logit: Newton's method on the seven, slightly ridged so that
 * it always has a step, every piece kept increasing.
 */
export function fitCalibration(
  predictions: Float64Array,
  log: AttemptLog,
  include: Uint8Array,
  params: LearnerModelParameters,
): Calibration {
  const z: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < log.length; i++) {
    if (!include[i]) continue;
    const p = Math.min(1 - 1e-9, Math.max(1e-9, predictions[i]!));
    z.push(uncalibrated(params, Math.log(p / (1 - p))));
    y.push(log.correct[i]!);
  }
  const features = (x: number) => [x, Math.min(x, 0), 1, ...calibrationKnots.map((k) => Math.min(x - k, 0))];
  let w = [
    params.calibrationSlope,
    params.calibrationLowSlope,
    params.calibrationIntercept,
    ...params.calibrationBends,
  ];
  const size = w.length;
  for (let step = 0; step < 30 && z.length > 0; step++) {
    const gradient = new Array<number>(size).fill(0);
    // The bends are ridged toward 0 (bendRidge): a knot with little data around it must not bend
    // the map wildly where a later learner may land.
    const hessian = Array.from({ length: size }, (_, r) =>
      Array.from({ length: size }, (_, c) => (r !== c ? 0 : r >= 3 ? bendRidge : 1e-6)),
    );
    for (let k = 0; k < z.length; k++) {
      const x = features(z[k]!);
      let logit = 0;
      for (let r = 0; r < size; r++) logit += w[r]! * x[r]!;
      const p = 1 / (1 + Math.exp(-logit));
      const weight = p * (1 - p);
      for (let r = 0; r < size; r++) {
        gradient[r]! += (p - y[k]!) * x[r]!;
        for (let c = 0; c < size; c++) hessian[r]![c]! += weight * x[r]! * x[c]!;
      }
    }
    for (let r = 3; r < size; r++) gradient[r]! += bendRidge * w[r]!;
    const delta = solve(hessian, gradient);
    w = increasing(w.map((v, r) => v - delta[r]!));
    if (delta.reduce((sum, d) => sum + Math.abs(d), 0) < 1e-9) break;
  }
  return {
    calibrationSlope: w[0]!,
    calibrationLowSlope: w[1]!,
    calibrationIntercept: w[2]!,
    calibrationBends: w.slice(3),
  };
}

/** The calibration's ridge on each bend, in units of Σ p(1 − p)·x² (a few hundred attempts' worth). */
const bendRidge = 50;

/** The weights with every piece's slope at least 0.05, bends clamped from the top knot down. */
function increasing(w: number[]): number[] {
  const out = [...w];
  out[0] = Math.max(0.05, out[0]!);
  // The knots from the highest down, with the index of their weight (0 is the low slope, 1).
  const knots = [...calibrationKnots.map((at, k) => ({ at, index: 3 + k })), { at: 0, index: 1 }].sort(
    (a, b) => b.at - a.at,
  );
  let slope = out[0]!;
  for (const { index } of knots) {
    out[index] = Math.max(0.05 - slope, out[index]!);
    slope += out[index]!;
  }
  return out;
}

/** The logit z before calibration, from a calibrated one (the calibration is increasing: bisection). */
function uncalibrated(params: LearnerModelParameters, calibrated: number): number {
  let low = -64;
  let high = 64;
  for (let k = 0; k < 60; k++) {
    const mid = (low + high) / 2;
    if (calibratedLogit(params, mid) < calibrated) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

/** Solves A·x = b for a positive-definite A (Gaussian elimination with partial pivoting). */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const m = A.map((row, r) => [...row, b[r]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    const lead = m[col]![col]!;
    if (!(Math.abs(lead) > 0)) return new Array<number>(n).fill(0);
    for (let r = col + 1; r < n; r++) {
      const factor = m[r]![col]! / lead;
      for (let c = col; c <= n; c++) m[r]![c]! -= factor * m[col]![c]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let sum = m[r]![n]!;
    for (let c = r + 1; c < n; c++) sum -= m[r]![c]! * x[c]!;
    x[r] = sum / m[r]![r]!;
  }
  return x;
}

/**
 * A prediction for every training attempt made without its learner's data: the training learners in
 * four folds (by learner index), each replayed with the tables the other three learn. The calibration
 * is fitted on these, so on four times the learners the tuning part alone would give (a calibration
 * fitted on few learners carries their group's luck into every bin).
 */
function outOfFoldPredictions(
  log: AttemptLog,
  order: Int32Array,
  training: Uint8Array,
  params: LearnerModelParameters,
): Float64Array {
  const predictions = new Float64Array(log.length).fill(Number.NaN);
  for (let fold = 0; fold < 4; fold++) {
    const inFold = new Uint8Array(log.length);
    const rest = new Uint8Array(log.length);
    for (let i = 0; i < log.length; i++) {
      if (!training[i]) continue;
      if (log.learner[i]! % 4 === fold) inFold[i] = 1;
      else rest[i] = 1;
    }
    const tables = fitTables(log, order, rest, params).tables;
    const p = replayLearnerModel(log, order, inFold, params, tables);
    for (let i = 0; i < log.length; i++) if (inFold[i]) predictions[i] = p[i]!;
  }
  return predictions;
}

/** The hyperparameters coordinate search moves, each by these factors (0 tried for the rates). */
const tuned = [
  'abilityK',
  'abilityKDecay',
  'skillK',
  'skillKDecay',
  'successWeight',
  'failureWeight',
  // The minutes' scale before the days': tuned after it, the long term has taken the moments-old
  // repeats' weight and the short one never wins (ASSISTments 2009 with repeats kept).
  'shortRepeatWeight',
  'shortRepeatHalfLifeHours',
  'repeatWeight',
  'repeatHalfLifeHours',
  'forgettingRate',
  'forgettingScaleHours',
  'itemSuccessWeight',
  'itemFailureWeight',
  'recentWeight',
  'recentRate',
  'learnerRecentWeight',
  'learnerRecentRate',
  'recentWeightK',
  'questionUncertainty',
] as const;
const factors = [0.5, 0.75, 1.33, 2];
/** Factors tried on questionPriorInformation. */
const priorFactors = [0.125, 0.25, 0.5, 2];
/** Factors tried on practicePriorInformation. */
const practicePriorFactors = [0.25, 4, 32, 1e6];
/** These may be 0 (or, failureWeight, of either sign). */
const canVanish = new Set([
  'abilityKDecay',
  'skillKDecay',
  'successWeight',
  'failureWeight',
  'repeatWeight',
  'shortRepeatWeight',
  'forgettingRate',
  'itemSuccessWeight',
  'itemFailureWeight',
  'recentWeight',
  'learnerRecentWeight',
  'recentWeightK',
  'questionUncertainty',
]);
/** From 0 these are tried at 1 and 4 (their useful values are logits, not small corrections). */
const startsLarge = new Set(['questionUncertainty', 'shortRepeatWeight']);
const eitherSign = new Set(['failureWeight', 'itemFailureWeight']);
/** Rates of the recency-weighted success rates: at most 1. */
const isRate = new Set(['recentRate', 'learnerRecentRate']);

/**
 * Coordinate search goes round the parameters until a round takes less than roundGain off the tuning
 * log-loss, at most maxRounds times (on ASSISTments 2009's raw skill-builder rows three rounds left
 * the K steps still moving: docs/learner-model.md).
 */
const maxRounds = 8;
const roundGain = 1e-4;

export interface LearnerModelFit {
  params: LearnerModelParameters;
  /** Tables learnt from all the training attempts with the fitted parameters. */
  tables: LiveModelTables;
  /** Log-loss on the tuning learners, before and after. */
  tuningLogLoss: { start: number; fitted: number };
}

/**
 * Fits the live model on the training learners: their first part learns the question tables, the
 * rest scores hyperparameter candidates (coordinate search on log-loss) and fits the calibration;
 * the final tables are learnt from all of them. `tuneMask` ⊂ training attempts.
 */
export function fitLearnerModel(
  log: AttemptLog,
  order: Int32Array,
  fitMask: Uint8Array,
  tuneMask: Uint8Array,
  start: LearnerModelParameters,
  { rounds = maxRounds, onStep }: { rounds?: number; onStep?: (what: string) => void } = {},
): LearnerModelFit {
  const score = (candidate: LearnerModelParameters, tables: LiveModelTables) =>
    logLossOf(replayLearnerModel(log, order, tuneMask, candidate, tables), log, tuneMask);
  // The prior's weight on question difficulties first.
  let learnt = fitTables(log, order, fitMask, start);
  let params = { ...start, bandOffset: learnt.bandOffset };
  const startLoss = score(params, learnt.tables);
  let best = startLoss;
  // Tries a prior's weight at each factor of its value in `base`; each choice relearns the tables.
  const choosePrior = (
    name: 'questionPriorInformation' | 'practicePriorInformation',
    base: LearnerModelParameters,
    priorWeightFactors: readonly number[],
  ) => {
    for (const f of priorWeightFactors) {
      const candidate = { ...base, [name]: base[name] * f };
      const tables = fitTables(log, order, fitMask, candidate);
      const loss = score({ ...candidate, bandOffset: tables.bandOffset }, tables.tables);
      if (loss < best - 1e-6) {
        best = loss;
        learnt = tables;
        params = { ...candidate, bandOffset: tables.bandOffset };
      }
    }
    onStep?.(`${name}=${params[name].toPrecision(3)} log-loss ${best.toFixed(4)}`);
  };
  choosePrior('questionPriorInformation', start, priorFactors);
  // Then the prior's weight on the subcategories' PFA offsets (a very large one: no offsets at all).
  choosePrior('practicePriorInformation', params, practicePriorFactors);
  for (let round = 0; round < rounds; round++) {
    const roundStart = best;
    for (const name of tuned) {
      const original = params[name];
      const candidates = factors.map((f) => original * f);
      if (canVanish.has(name)) candidates.push(0);
      if (original === 0) candidates.push(...(startsLarge.has(name) ? [1, 4] : [0.01, 0.1]));
      if (eitherSign.has(name)) candidates.push(-original || -0.1, original === 0 ? -0.01 : 0);
      const tryValue = (value: number) => {
        if (isRate.has(name) && value > 1) return false;
        const candidate = { ...params, [name]: value };
        const loss = score(candidate, learnt.tables);
        if (!(loss < best - 1e-6)) return false;
        best = loss;
        params = candidate;
        return true;
      };
      for (const value of candidates) tryValue(value);
      // The best at an end of the range: go on that way while it helps.
      const end = original !== 0 && params[name] !== original ? params[name] / original : 0;
      if (end === factors[0] || end === factors[factors.length - 1])
        for (let k = 0; k < 5 && tryValue(params[name] * end); k++);
      onStep?.(`${name}=${params[name].toPrecision(3)} log-loss ${best.toFixed(4)}`);
    }
    if (roundStart - best < roundGain) break;
  }
  // Calibrate, then let the tables follow the calibrated slope; twice, as each moves the other.
  let tables = learnt.tables;
  const training = new Uint8Array(log.length);
  for (let i = 0; i < log.length; i++) training[i] = fitMask[i]! | tuneMask[i]!;
  for (let k = 0; k < 2; k++) {
    const calibration = fitCalibration(outOfFoldPredictions(log, order, training, params), log, training, params);
    params = { ...params, ...calibration };
    tables = fitTables(log, order, fitMask, params).tables;
  }
  const fitted = score(params, tables);
  const final = fitTables(log, order, training, params);
  return {
    params: { ...params, bandOffset: final.bandOffset },
    tables: final.tables,
    tuningLogLoss: { start: startLoss, fitted },
  };
}
