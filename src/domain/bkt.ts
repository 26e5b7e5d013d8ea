// Bayesian knowledge tracing (Corbett & Anderson 1995), one model per subcategory fitted by EM
// (Baum–Welch) on training learners: an evaluation baseline for the live learner model. Pure.
//
// A learner either knows the subcategory or not; P(known) starts at `prior`, and after every
// attempt an unknown skill becomes known with probability `learn` (never forgotten). P(correct) is
// 1 − slip when known, guess when not.
import { type AttemptLog, countOf } from './evaluation.ts';

export interface BktParameters {
  prior: number;
  learn: number;
  guess: number;
  slip: number;
}

export const bktStart: Readonly<BktParameters> = Object.freeze({ prior: 0.4, learn: 0.15, guess: 0.2, slip: 0.1 });

/** Guess and slip stay below this, so "known" stays the state that answers better (the usual bound). */
const maxGuessSlip = 0.45;
const tiny = 1e-9;
const clamp = (p: number, low: number, high: number) => Math.min(high, Math.max(low, p));

/** P(correct) before each attempt of one learner's sequence in one subcategory (1 correct, 0 wrong). */
export function bktPredictions(outcomes: ArrayLike<number>, params: BktParameters): Float64Array {
  const predictions = new Float64Array(outcomes.length);
  let known = params.prior;
  for (let t = 0; t < outcomes.length; t++) {
    predictions[t] = bktStep(params, known);
    known = bktAfter(params, known, outcomes[t]!);
  }
  return predictions;
}

/** P(correct) when P(known) = `known`. */
export const bktStep = (params: BktParameters, known: number) => known * (1 - params.slip) + (1 - known) * params.guess;

/** P(known) after an answer: the posterior given the outcome, then the chance to learn. */
export function bktAfter(params: BktParameters, known: number, outcome: number): number {
  const right = outcome === 1;
  const ifKnown = known * (right ? 1 - params.slip : params.slip);
  const ifUnknown = (1 - known) * (right ? params.guess : 1 - params.guess);
  const posterior = ifKnown / Math.max(tiny, ifKnown + ifUnknown);
  return posterior + (1 - posterior) * params.learn;
}

/** Expected counts of one EM pass, summed over sequences. */
interface Expectations {
  startKnown: number;
  sequences: number;
  learnt: number;
  unknownBeforeLast: number;
  unknown: number;
  unknownCorrect: number;
  known: number;
  knownWrong: number;
}

/** Forward–backward over one sequence, adding its expected counts to `e`. */
function expect(outcomes: ArrayLike<number>, p: BktParameters, e: Expectations): void {
  const n = outcomes.length;
  if (n === 0) return;
  const emit = (state: 0 | 1, y: number) =>
    state === 1 ? (y === 1 ? 1 - p.slip : p.slip) : y === 1 ? p.guess : 1 - p.guess;
  // Scaled forward probabilities of "known" (the unknown one is 1 − it).
  const forward = new Float64Array(n);
  let known = p.prior;
  for (let t = 0; t < n; t++) {
    const k = known * emit(1, outcomes[t]!);
    const u = (1 - known) * emit(0, outcomes[t]!);
    forward[t] = k / Math.max(tiny, k + u);
    known = forward[t]! + (1 - forward[t]!) * p.learn;
  }
  // Backward pass on the scaled quantities: β(known), β(unknown), normalised to sum 1 each step.
  let betaKnown = 1;
  let betaUnknown = 1;
  for (let t = n - 1; t >= 0; t--) {
    const gammaKnownRaw = forward[t]! * betaKnown;
    const gammaUnknownRaw = (1 - forward[t]!) * betaUnknown;
    const gammaKnown = gammaKnownRaw / Math.max(tiny, gammaKnownRaw + gammaUnknownRaw);
    const y = outcomes[t]!;
    e.known += gammaKnown;
    e.unknown += 1 - gammaKnown;
    if (y === 0) e.knownWrong += gammaKnown;
    else e.unknownCorrect += 1 - gammaKnown;
    if (t === 0) {
      e.startKnown += gammaKnown;
      e.sequences += 1;
    }
    if (t > 0) {
      // ξ(unknown at t−1 → known at t) ∝ α(unknown, t−1)·learn·emit(known, y_t)·β(known, t).
      const prev = forward[t - 1]!;
      const toKnown = (1 - prev) * p.learn * emit(1, y) * betaKnown;
      const stayUnknown = (1 - prev) * (1 - p.learn) * emit(0, y) * betaUnknown;
      const fromKnown = prev * emit(1, y) * betaKnown;
      const total = Math.max(tiny, toKnown + stayUnknown + fromKnown);
      e.learnt += toKnown / total;
      e.unknownBeforeLast += (toKnown + stayUnknown) / total;
      // β at t−1.
      const bk = emit(1, y) * betaKnown;
      const bu = p.learn * emit(1, y) * betaKnown + (1 - p.learn) * emit(0, y) * betaUnknown;
      const scale = Math.max(tiny, bk + bu);
      betaKnown = bk / scale;
      betaUnknown = bu / scale;
    }
  }
}

/** One EM step: the parameters that maximise the expected log-likelihood under `params`. */
export function bktEmStep(sequences: readonly ArrayLike<number>[], params: BktParameters): BktParameters {
  const e: Expectations = {
    startKnown: 0,
    sequences: 0,
    learnt: 0,
    unknownBeforeLast: 0,
    unknown: 0,
    unknownCorrect: 0,
    known: 0,
    knownWrong: 0,
  };
  for (const s of sequences) expect(s, params, e);
  if (e.sequences === 0) return params;
  return {
    prior: clamp(e.startKnown / e.sequences, 0.001, 0.999),
    learn: e.unknownBeforeLast > tiny ? clamp(e.learnt / e.unknownBeforeLast, 0.001, 0.999) : params.learn,
    guess: e.unknown > tiny ? clamp(e.unknownCorrect / e.unknown, 0.001, maxGuessSlip) : params.guess,
    slip: e.known > tiny ? clamp(e.knownWrong / e.known, 0.001, maxGuessSlip) : params.slip,
  };
}

/** EM from `start` for `iterations` steps (stopping early once no parameter moves by 1e-5). */
export function fitBkt(
  sequences: readonly ArrayLike<number>[],
  iterations = 30,
  start: BktParameters = bktStart,
): BktParameters {
  let params = start;
  for (let i = 0; i < iterations; i++) {
    const next = bktEmStep(sequences, params);
    const moved = Math.max(
      Math.abs(next.prior - params.prior),
      Math.abs(next.learn - params.learn),
      Math.abs(next.guess - params.guess),
      Math.abs(next.slip - params.slip),
    );
    params = next;
    if (moved < 1e-5) break;
  }
  return params;
}

/**
 * BKT over an attempt log: one model per subcategory fitted by EM on the sequences of the learners
 * `trainMask` marks (a subcategory without any uses the model fitted on all of them), then every
 * (learner, subcategory) sequence predicted in `order`. Credit is correctness (BKT is binary).
 */
export function replayBkt(
  log: AttemptLog,
  order: Int32Array,
  trainMask: Uint8Array,
  iterations = 30,
): { predictions: Float64Array; parameters: BktParameters[] } {
  const sequences: number[][] = Array.from({ length: countOf(log.learnerSubcategory) }, () => []);
  const subcategoryOf = new Int32Array(sequences.length);
  const training = new Uint8Array(sequences.length);
  for (const i of order) {
    const pair = log.learnerSubcategory[i]!;
    sequences[pair]!.push(i);
    subcategoryOf[pair] = log.subcategory[i]!;
    training[pair] = trainMask[i]!;
  }
  const outcomes = sequences.map((indices) => indices.map((i) => log.correct[i]!));
  const bySubcategory: number[][][] = Array.from({ length: countOf(log.subcategory) }, () => []);
  outcomes.forEach((o, pair) => {
    if (training[pair]) bySubcategory[subcategoryOf[pair]!]!.push(o);
  });
  const overall = fitBkt(bySubcategory.flat(), iterations);
  const parameters = bySubcategory.map((s) => (s.length === 0 ? overall : fitBkt(s, iterations, overall)));
  const predictions = new Float64Array(log.length);
  sequences.forEach((indices, pair) => {
    const predicted = bktPredictions(outcomes[pair]!, parameters[subcategoryOf[pair]!]!);
    indices.forEach((i, t) => {
      predictions[i] = predicted[t]!;
    });
  });
  return { predictions, parameters };
}
