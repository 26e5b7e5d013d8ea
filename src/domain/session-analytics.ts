// SPEC 4.2 — the analytics stored when a session ends. Pure: callers pass the session's attempts
// in recordedAt order (attempt i of the SPEC is attempts[i - 1] here).
import type { SessionAttempt } from './session-summary.ts';
import { type DifficultyBand, difficultyBands } from './types.ts';

export interface SessionAnalyticsResult {
  /** Slope of running accuracy per 10 attempts; null when n < 3. */
  learningVelocity: number | null;
  conceptSwitches: number;
  /** Minutes until the first fatigue window (or the whole session); null when n < 5. */
  attentionSpanMinutes: number | null;
  /** Bands in EASY, MEDIUM, HARD order; empty with no attempts. */
  optimalDifficultyRange: DifficultyBand[];
}

export function analyzeSession(attempts: readonly SessionAttempt[]): SessionAnalyticsResult {
  return {
    learningVelocity: learningVelocity(attempts),
    conceptSwitches: conceptSwitches(attempts),
    attentionSpanMinutes: attentionSpanMinutes(attempts),
    optimalDifficultyRange: optimalDifficultyRange(attempts),
  };
}

const MIN_ATTEMPTS_FOR_VELOCITY = 3;

/**
 * Least-squares slope of r_i = (c_1 + … + c_i) / i against i = 1..n, times 10.
 * Both series are centred before multiplying so that a constant r gives exactly 0.
 */
export function learningVelocity(attempts: readonly SessionAttempt[]): number | null {
  const n = attempts.length;
  if (n < MIN_ATTEMPTS_FOR_VELOCITY) return null;
  const running = runningAccuracy(attempts);
  const meanIndex = (n + 1) / 2;
  const meanRunning = running.reduce((sum, r) => sum + r, 0) / n;
  let covariance = 0;
  let indexVariance = 0;
  running.forEach((r, zeroBased) => {
    const dx = zeroBased + 1 - meanIndex;
    covariance += dx * (r - meanRunning);
    indexVariance += dx * dx;
  });
  return (covariance / indexVariance) * 10;
}

function runningAccuracy(attempts: readonly SessionAttempt[]): number[] {
  let correctSoFar = 0;
  return attempts.map((a, zeroBased) => {
    if (a.correct) correctSoFar += 1;
    return correctSoFar / (zeroBased + 1);
  });
}

/** Number of i > 1 whose subcategory differs from attempt i − 1's. */
export function conceptSwitches(attempts: readonly SessionAttempt[]): number {
  let switches = 0;
  for (let i = 1; i < attempts.length; i += 1) {
    if (attempts[i]!.subcategory !== attempts[i - 1]!.subcategory) switches += 1;
  }
  return switches;
}

const ATTENTION_WINDOW = 5;

/**
 * Sum of timeSec (in minutes) up to the end k of the first 5-attempt window, k > 5, that shows
 * fatigue against the baseline window 1–5; the whole session if none does.
 */
export function attentionSpanMinutes(attempts: readonly SessionAttempt[]): number | null {
  if (attempts.length < ATTENTION_WINDOW) return null;
  const baseline = windowStats(attempts, ATTENTION_WINDOW);
  let elapsedSec = sumTime(attempts.slice(0, ATTENTION_WINDOW));
  for (let k = ATTENTION_WINDOW + 1; k <= attempts.length; k += 1) {
    elapsedSec += attempts[k - 1]!.timeSec;
    if (showsFatigue(windowStats(attempts, k), baseline)) return elapsedSec / 60;
  }
  return elapsedSec / 60;
}

interface WindowStats {
  correct: number;
  totalTimeSec: number;
}

/** Stats of the window of ATTENTION_WINDOW attempts ending at attempt k (1-based). */
function windowStats(attempts: readonly SessionAttempt[], k: number): WindowStats {
  const window = attempts.slice(k - ATTENTION_WINDOW, k);
  return { correct: window.filter((a) => a.correct).length, totalTimeSec: sumTime(window) };
}

// Both windows hold the same number of attempts, so the SPEC's comparisons of means reduce to
// comparisons of totals: accuracy < 0.7·a_0 ⇔ 10·correct < 7·correct_0 (exact integers, no
// rounding), and mean time > 1.5·t_0 ⇔ total > 1.5·total_0 (1.5 is exact in binary).
function showsFatigue(window: WindowStats, baseline: WindowStats): boolean {
  const accuracyDropped = 10 * window.correct < 7 * baseline.correct;
  const slowedDown = window.totalTimeSec > 1.5 * baseline.totalTimeSec;
  return accuracyDropped || slowedDown;
}

function sumTime(attempts: readonly SessionAttempt[]): number {
  return attempts.reduce((sum, a) => sum + a.timeSec, 0);
}

/**
 * The bands whose accuracy lies in [0.6, 0.85]; if none, the single band nearest to it
 * (ties: the easier band). Only bands attempted in the session are considered.
 */
export function optimalDifficultyRange(attempts: readonly SessionAttempt[]): DifficultyBand[] {
  const tallies = bandTallies(attempts);
  const inside = tallies.filter((t) => isInOptimalRange(t)).map((t) => t.band);
  if (inside.length > 0) return inside;
  let nearest: BandTally | undefined;
  // Strict "<" keeps the earlier (easier) band on a tie, since tallies are in canonical order.
  for (const tally of tallies) {
    if (nearest === undefined || compareDistance(tally, nearest) < 0) nearest = tally;
  }
  return nearest === undefined ? [] : [nearest.band];
}

interface BandTally {
  band: DifficultyBand;
  attempts: number;
  correct: number;
}

/** Tallies of the attempted bands, in canonical (easiest first) order. */
function bandTallies(attempts: readonly SessionAttempt[]): BandTally[] {
  return difficultyBands
    .map((band) => {
      const ofBand = attempts.filter((a) => a.difficultyBand === band);
      return { band, attempts: ofBand.length, correct: ofBand.filter((a) => a.correct).length };
    })
    .filter((t) => t.attempts > 0);
}

// Accuracy c/n is rational and the bounds are 12/20 and 17/20, so everything below is done in
// integers scaled by 20n: exact, so 0.6 and 0.85 count as inside and equal distances really tie
// (in floating point 0.6 − 0.45 < 1 − 0.85, which would break the easier-band rule).
function isInOptimalRange({ attempts: n, correct: c }: BandTally): boolean {
  return 20 * c >= 12 * n && 20 * c <= 17 * n;
}

/** Distance of c/n to [0.6, 0.85], as the exact fraction numerator / (20n). */
function scaledDistance({ attempts: n, correct: c }: BandTally): number {
  return Math.max(12 * n - 20 * c, 20 * c - 17 * n, 0);
}

/** Negative when a is strictly nearer to the interval than b (cross-multiplied fractions). */
function compareDistance(a: BandTally, b: BandTally): number {
  return scaledDistance(a) * (20 * b.attempts) - scaledDistance(b) * (20 * a.attempts);
}
