// Issue 11 — two more baselines for the evaluation, each fitted on the training learners' attempts
// and replayed over the log in `order` (the live model's answeredAt order). Pure.
//
//  - Attempt EWMA: per (learner, subcategory) an EWMA of credit updated after every attempt (not
//    nightly, as the EWMA row is); it starts at the subcategory's prior, the training learners' mean
//    credit there. α is picked from a grid by the training learners' log-loss.
//  - Elo with offsets (Pelánek 2016, _Applications of the Elo rating system in adaptive educational
//    systems_, its variant with a learner's skill per concept): P = σ(θ + δ − b) for the learner's ability θ, their
//    offset δ in the question's subcategory and the question's difficulty b, each moved by its own
//    uncertainty-scaled step K(n) = a / (1 + k·n). The six constants come from a coordinate search on
//    the training learners' replay.
import { type AttemptLog, countOf } from './evaluation.ts';
import { logLossOf } from './learner-model-fit.ts';
import { attemptCredit } from './mastery.ts';

const credit = (log: AttemptLog, i: number) =>
  attemptCredit({ correct: log.correct[i] === 1, hintUsed: log.hintUsed[i] === 1 });

/** The prior where no training attempt gives one (no training learners at all): even odds. */
const noDataPrior = 0.5;

/**
 * Per subcategory, the mean credit of the attempts `training` marks there; the mean over all of them
 * where a subcategory has none.
 */
export function subcategoryPriors(log: AttemptLog, training: Uint8Array): Float64Array {
  const sums = new Float64Array(countOf(log.subcategory));
  const counts = new Float64Array(sums.length);
  let total = 0;
  let attempts = 0;
  for (let i = 0; i < log.length; i++) {
    if (!training[i]) continue;
    const c = credit(log, i);
    sums[log.subcategory[i]!]! += c;
    counts[log.subcategory[i]!]! += 1;
    total += c;
    attempts += 1;
  }
  const overall = attempts === 0 ? noDataPrior : total / attempts;
  return sums.map((sum, s) => (counts[s]! === 0 ? overall : sum / counts[s]!));
}

/** Attempt-EWMA predictions for every attempt, each the pair's value before the attempt updates it. */
export function replayAttemptEwma(
  log: AttemptLog,
  order: Int32Array,
  priors: Float64Array,
  alpha: number,
): Float64Array {
  const value = new Float64Array(countOf(log.learnerSubcategory)).fill(Number.NaN);
  const predictions = new Float64Array(log.length);
  for (const i of order) {
    const pair = log.learnerSubcategory[i]!;
    const v = Number.isNaN(value[pair]!) ? priors[log.subcategory[i]!]! : value[pair]!;
    predictions[i] = v;
    value[pair] = v + alpha * (credit(log, i) - v);
  }
  return predictions;
}

export const attemptEwmaAlphas: readonly number[] = Object.freeze([0.02, 0.03, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5]);

/**
 * The attempt EWMA with the α of `alphas` whose predictions of the `training` attempts have the lowest
 * log-loss (the first of the grid when there is none to score), and its predictions of every attempt.
 * Each pair's replay is its own, so replaying everyone scores the training learners as their own replay would.
 */
export function fitAttemptEwma(
  log: AttemptLog,
  order: Int32Array,
  training: Uint8Array,
  alphas: readonly number[] = attemptEwmaAlphas,
): { alpha: number; priors: Float64Array; predictions: Float64Array } {
  const priors = subcategoryPriors(log, training);
  let best: { alpha: number; loss: number; predictions: Float64Array } | null = null;
  for (const alpha of alphas) {
    const predictions = replayAttemptEwma(log, order, priors, alpha);
    const loss = logLossOf(predictions, log, training);
    // NaN (nothing to score) is never lower: the first α stays.
    if (best === null || loss < best.loss) best = { alpha, loss, predictions };
  }
  return { alpha: best!.alpha, priors, predictions: best!.predictions };
}

/** K(n) = a / (1 + k·n), n the rating's attempts so far. */
export interface EloStep {
  a: number;
  k: number;
}

export interface EloOffsetsParameters {
  /** The learner's ability θ, over all their attempts. */
  ability: EloStep;
  /** The learner's offset δ in a subcategory, over their attempts there. */
  offset: EloStep;
  /** The question's difficulty b, over its attempts. */
  difficulty: EloStep;
}

export const eloOffsetsStart: Readonly<EloOffsetsParameters> = Object.freeze({
  ability: { a: 0.8, k: 0.05 },
  offset: { a: 0.4, k: 0.05 },
  difficulty: { a: 0.8, k: 0.05 },
});

/**
 * Elo-with-offsets predictions of the attempts `include` marks (all when null; the others are NaN and
 * move nothing), in `order`, each made before its attempt moves the ratings by s = credit − P.
 */
export function replayEloOffsets(
  log: AttemptLog,
  order: Int32Array,
  params: EloOffsetsParameters,
  include: Uint8Array | null = null,
): Float64Array {
  const ability = new Float64Array(countOf(log.learner));
  const learnerAttempts = new Int32Array(ability.length);
  const offset = new Float64Array(countOf(log.learnerSubcategory));
  const pairAttempts = new Int32Array(offset.length);
  const difficulty = new Float64Array(countOf(log.question));
  const questionAttempts = new Int32Array(difficulty.length);
  const { ability: kt, offset: kd, difficulty: kb } = params;
  const predictions = new Float64Array(log.length).fill(Number.NaN);
  for (const i of order) {
    if (include && !include[i]) continue;
    const learner = log.learner[i]!;
    const pair = log.learnerSubcategory[i]!;
    const question = log.question[i]!;
    const p = 1 / (1 + Math.exp(difficulty[question]! - ability[learner]! - offset[pair]!));
    predictions[i] = p;
    const surprise = credit(log, i) - p;
    ability[learner]! += (kt.a / (1 + kt.k * learnerAttempts[learner]!)) * surprise;
    offset[pair]! += (kd.a / (1 + kd.k * pairAttempts[pair]!)) * surprise;
    difficulty[question]! -= (kb.a / (1 + kb.k * questionAttempts[question]!)) * surprise;
    learnerAttempts[learner]! += 1;
    pairAttempts[pair]! += 1;
    questionAttempts[question]! += 1;
  }
  return predictions;
}

/** The coordinate search's moves: each constant times one of these, kept when the log-loss drops. */
const multipliers = [0.5, 0.75, 1.5, 2];
const maxPasses = 4;

/**
 * The six constants from `start` by coordinate search on the log-loss of a replay of the `training`
 * attempts only (the held-out ones move no rating while it tunes): each pass tries every constant
 * times each multiplier in turn, keeping the best; it stops after a pass that kept nothing.
 */
export function fitEloOffsets(
  log: AttemptLog,
  order: Int32Array,
  training: Uint8Array,
  start: EloOffsetsParameters = eloOffsetsStart,
): EloOffsetsParameters {
  const loss = (p: EloOffsetsParameters) => logLossOf(replayEloOffsets(log, order, p, training), log, training);
  let best = start;
  let bestLoss = loss(start);
  for (let pass = 0; pass < maxPasses; pass++) {
    let moved = false;
    for (const rating of ['ability', 'offset', 'difficulty'] as const) {
      for (const constant of ['a', 'k'] as const) {
        const current = best;
        for (const m of multipliers) {
          const candidate = { ...current, [rating]: { ...current[rating], [constant]: current[rating][constant] * m } };
          const candidateLoss = loss(candidate);
          if (candidateLoss < bestLoss) {
            best = candidate;
            bestLoss = candidateLoss;
            moved = true;
          }
        }
      }
    }
    if (!moved) break;
  }
  return best;
}
