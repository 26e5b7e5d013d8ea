// SPEC 4.4 — model evaluation: replay the attempt log in time order and score how well each model's
// prediction before an attempt foretells its correctness. Pure: the log comes in as columns (a
// million attempts fit in a few tens of MB), the models replay it, the metrics score them.
//
// Models:
//  - EWMA: the mastery score the system itself would hold before the attempt, replayed with the
//    nightly semantics — the attempts of MASTERY_CONTEXTS recorded up to a NIGHTLY run update
//    (user, subcategory) at that run with their mean credit (ewmaStep), and a learner back after
//    inactiveAfterHours or more finds their scores decayed (decayedScore) for the time since their
//    last update. (The decay job runs every 6 hours; the replay decays to the attempt's instant,
//    which differs by at most 6 hours of decay.) The prediction is the score, or the prior.
//  - Elo: a learner ability and a question difficulty, P(correct) = σ(ability − difficulty), both
//    updated after every attempt with the uncertainty-scaled step K(n) = a / (1 + b·n) of Pelánek's
//    Elo for adaptive practice, n being how many attempts the learner (or question) has had.
//  - stored: Attempt.masteryAtAttempt as the learner app recorded it (attempts without one skipped).
import { attemptCredit, decayedScore, ewmaStep, type MasteryParameters } from './mastery.ts';

/** The attempt log as columns, in replay order (recordedAt, then id). */
export interface AttemptLog {
  length: number;
  /** Dense indices (0..) of the learner, the (learner, subcategory) pair and the question. */
  learner: Int32Array;
  learnerSubcategory: Int32Array;
  question: Int32Array;
  /** Dense index (0..) of the question's subcategory. */
  subcategory: Int32Array;
  /** The question's difficultyBand: 0 EASY, 1 MEDIUM, 2 HARD. */
  band: Uint8Array;
  correct: Uint8Array;
  hintUsed: Uint8Array;
  /** 1 when the attempt's context is one the EWMA learns from (MASTERY_CONTEXTS). */
  teachesMastery: Uint8Array;
  /** Epoch milliseconds. */
  recordedAt: Float64Array;
  /** When the learner answered (answeredAt, else recordedAt), epoch milliseconds: the live model's clock. */
  answeredAt: Float64Array;
  /** Attempt.masteryAtAttempt; NaN where none was recorded. */
  storedMastery: Float64Array;
  /** Attempt.predictedCorrect, the live model's prediction as recordAttempt stored it; NaN where none. */
  storedPrediction: Float64Array;
  /** 1 for the attempts to score (the evaluation range); the others only warm the models up. */
  scored: Uint8Array;
}

export type EwmaParameters = Pick<
  MasteryParameters,
  'alpha' | 'prior' | 'decayFloor' | 'halfLifeHours' | 'inactiveAfterHours'
>;

const hourMs = 3_600_000;

/**
 * EWMA predictions for every attempt of the log. `nightlyRuns`: the instants of the NIGHTLY runs,
 * ascending; an attempt recorded at or before a run is learnt from by that run (after it, by the next).
 */
export function replayEwma(log: AttemptLog, nightlyRuns: readonly number[], params: EwmaParameters): Float64Array {
  const pairs = countOf(log.learnerSubcategory);
  const score = new Float64Array(pairs).fill(Number.NaN);
  const updatedAt = new Float64Array(pairs);
  const creditSum = new Float64Array(pairs);
  const creditCount = new Int32Array(pairs);
  const pending: number[] = [];
  const lastAttempt = new Float64Array(countOf(log.learner)).fill(Number.NaN);
  const pairsOf = pairsByLearner(log);
  const inactiveMs = params.inactiveAfterHours * hourMs;
  const predictions = new Float64Array(log.length);

  const applyRun = (at: number) => {
    for (const pair of pending) {
      const previous = Number.isNaN(score[pair]!) ? null : score[pair]!;
      score[pair] = ewmaStep(previous, creditSum[pair]! / creditCount[pair]!, params.alpha, params.prior);
      updatedAt[pair] = at;
      creditSum[pair] = 0;
      creditCount[pair] = 0;
    }
    pending.length = 0;
  };

  let run = 0;
  for (let i = 0; i < log.length; i++) {
    const t = log.recordedAt[i]!;
    while (run < nightlyRuns.length && nightlyRuns[run]! < t) applyRun(nightlyRuns[run++]!);
    const learner = log.learner[i]!;
    // Back after a break: every score of the learner has decayed meanwhile.
    const last = lastAttempt[learner]!;
    if (!Number.isNaN(last) && t - last >= inactiveMs) {
      for (const pair of pairsOf[learner]!) {
        if (Number.isNaN(score[pair]!)) continue;
        score[pair] = decayedScore(score[pair]!, (t - updatedAt[pair]!) / hourMs, params);
        updatedAt[pair] = t;
      }
    }
    lastAttempt[learner] = t;
    const pair = log.learnerSubcategory[i]!;
    predictions[i] = Number.isNaN(score[pair]!) ? params.prior : score[pair]!;
    if (log.teachesMastery[i]) {
      if (creditCount[pair] === 0) pending.push(pair);
      creditSum[pair]! += attemptCredit({ correct: log.correct[i] === 1, hintUsed: log.hintUsed[i] === 1 });
      creditCount[pair]! += 1;
    }
  }
  return predictions;
}

export interface EloParameters {
  /** K(n) = a / (1 + b·n). */
  a: number;
  b: number;
}

export const eloDefaults: Readonly<EloParameters> = Object.freeze({ a: 0.8, b: 0.05 });

/** Elo predictions for every attempt of the log, each made before the attempt updates the ratings. */
export function replayElo(log: AttemptLog, { a, b }: EloParameters = eloDefaults): Float64Array {
  const ability = new Float64Array(countOf(log.learner));
  const learnerAttempts = new Int32Array(ability.length);
  const difficulty = new Float64Array(countOf(log.question));
  const questionAttempts = new Int32Array(difficulty.length);
  const predictions = new Float64Array(log.length);
  for (let i = 0; i < log.length; i++) {
    const learner = log.learner[i]!;
    const question = log.question[i]!;
    const p = 1 / (1 + Math.exp(difficulty[question]! - ability[learner]!));
    predictions[i] = p;
    const surprise = log.correct[i]! - p;
    ability[learner]! += (a / (1 + b * learnerAttempts[learner]!)) * surprise;
    difficulty[question]! -= (a / (1 + b * questionAttempts[question]!)) * surprise;
    learnerAttempts[learner]! += 1;
    questionAttempts[question]! += 1;
  }
  return predictions;
}

export interface CalibrationBin {
  /** Predictions in [from, to) (the last bin includes 1). */
  from: number;
  to: number;
  attempts: number;
  meanPredicted: number | null;
  observedAccuracy: number | null;
}

export interface PredictionScore {
  attempts: number;
  /** Area under the ROC curve (ties count half); null without both outcomes. */
  auc: number | null;
  /** Mean negative log-likelihood, predictions clipped to [1e-6, 1 − 1e-6]. */
  logLoss: number | null;
  rmse: number | null;
  /** The largest |mean predicted − observed accuracy| over the bins holding ≥ 1% of the attempts. */
  worstCalibrationGap: number | null;
  calibration: CalibrationBin[];
}

const clip = 1e-6;

/**
 * Scores predictions against outcomes (1 correct, 0 wrong) over the attempts where `include` is 1 and the prediction is
 * a number.
 */
export function scorePredictions(
  predictions: Float64Array,
  outcomes: Uint8Array,
  include: Uint8Array,
  bins = 10,
): PredictionScore {
  const index: number[] = [];
  for (let i = 0; i < predictions.length; i++) if (include[i] && !Number.isNaN(predictions[i]!)) index.push(i);
  const n = index.length;
  const calibration = calibrationTable(index, predictions, outcomes, bins);
  if (n === 0) return { attempts: 0, auc: null, logLoss: null, rmse: null, worstCalibrationGap: null, calibration };
  let logLoss = 0;
  let squared = 0;
  for (const i of index) {
    const p = Math.min(1 - clip, Math.max(clip, predictions[i]!));
    const y = outcomes[i]!;
    logLoss -= y === 1 ? Math.log(p) : Math.log(1 - p);
    squared += (predictions[i]! - y) ** 2;
  }
  return {
    attempts: n,
    auc: areaUnderCurve(index, predictions, outcomes),
    logLoss: logLoss / n,
    rmse: Math.sqrt(squared / n),
    worstCalibrationGap: worstGap(calibration, n),
    calibration,
  };
}

/** Mann–Whitney: the chance a random correct attempt was predicted higher than a random wrong one. */
function areaUnderCurve(index: number[], predictions: Float64Array, outcomes: Uint8Array): number | null {
  const sorted = [...index].sort((x, y) => predictions[x]! - predictions[y]!);
  let positives = 0;
  let positiveRankSum = 0;
  for (let start = 0; start < sorted.length; ) {
    let end = start;
    while (end < sorted.length && predictions[sorted[end]!] === predictions[sorted[start]!]) end++;
    const averageRank = (start + 1 + end) / 2; // ranks start..end-1, 1-based
    for (let k = start; k < end; k++) {
      if (outcomes[sorted[k]!] === 1) {
        positives++;
        positiveRankSum += averageRank;
      }
    }
    start = end;
  }
  const negatives = sorted.length - positives;
  if (positives === 0 || negatives === 0) return null;
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

function worstGap(calibration: CalibrationBin[], attempts: number): number | null {
  let worst: number | null = null;
  for (const bin of calibration) {
    if (bin.attempts < attempts / 100 || bin.meanPredicted === null || bin.observedAccuracy === null) continue;
    worst = Math.max(worst ?? 0, Math.abs(bin.meanPredicted - bin.observedAccuracy));
  }
  return worst;
}

/**
 * A learner's deterministic place in [0, 1): FNV-1a of the id (after a salt, for a second split),
 * mixed by MurmurHash3's finaliser so that ids differing in one character land far apart.
 */
export function learnerShare(id: string, salt = ''): number {
  let hash = 0x811c9dc5;
  for (const ch of `${salt}${id}`) {
    hash ^= ch.codePointAt(0)!;
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) / 2 ** 32;
}

function calibrationTable(
  index: number[],
  predictions: Float64Array,
  outcomes: Uint8Array,
  bins: number,
): CalibrationBin[] {
  const count = new Array<number>(bins).fill(0);
  const predicted = new Array<number>(bins).fill(0);
  const correct = new Array<number>(bins).fill(0);
  for (const i of index) {
    const p = Math.min(1, Math.max(0, predictions[i]!));
    const bin = Math.min(bins - 1, Math.floor(p * bins));
    count[bin]! += 1;
    predicted[bin]! += p;
    correct[bin]! += outcomes[i]!;
  }
  return count.map((n, bin) => ({
    from: bin / bins,
    to: (bin + 1) / bins,
    attempts: n,
    meanPredicted: n === 0 ? null : predicted[bin]! / n,
    observedAccuracy: n === 0 ? null : correct[bin]! / n,
  }));
}

/** How many distinct dense indices a column holds (its largest plus one). */
export function countOf(indices: Int32Array): number {
  let max = -1;
  for (const i of indices) if (i > max) max = i;
  return max + 1;
}

function pairsByLearner(log: AttemptLog): number[][] {
  const pairs: number[][] = Array.from({ length: countOf(log.learner) }, () => []);
  const seen = new Uint8Array(countOf(log.learnerSubcategory));
  for (let i = 0; i < log.length; i++) {
    const pair = log.learnerSubcategory[i]!;
    if (seen[pair]) continue;
    seen[pair] = 1;
    pairs[log.learner[i]!]!.push(pair);
  }
  return pairs;
}
