// Attempt logs for the evaluation's pure tests, one attempt a line with defaults for what a test
// does not care about.
import type { AttemptLog } from '../../src/domain/evaluation.ts';

export interface Logged {
  learner?: number;
  pair?: number;
  question?: number;
  subcategory?: number;
  band?: number;
  correct: boolean;
  hint?: boolean;
  teaches?: boolean;
  at: number;
  answeredAt?: number;
  stored?: number | null;
  predicted?: number;
  scored?: boolean;
}

export function logOf(attempts: Logged[]): AttemptLog {
  return {
    length: attempts.length,
    learner: Int32Array.from(attempts.map((a) => a.learner ?? 0)),
    learnerSubcategory: Int32Array.from(attempts.map((a) => a.pair ?? 0)),
    question: Int32Array.from(attempts.map((a) => a.question ?? 0)),
    subcategory: Int32Array.from(attempts.map((a) => a.subcategory ?? 0)),
    band: Uint8Array.from(attempts.map((a) => a.band ?? 1)),
    correct: Uint8Array.from(attempts.map((a) => (a.correct ? 1 : 0))),
    hintUsed: Uint8Array.from(attempts.map((a) => (a.hint ? 1 : 0))),
    teachesMastery: Uint8Array.from(attempts.map((a) => (a.teaches === false ? 0 : 1))),
    recordedAt: Float64Array.from(attempts.map((a) => a.at)),
    answeredAt: Float64Array.from(attempts.map((a) => a.answeredAt ?? a.at)),
    storedMastery: Float64Array.from(attempts.map((a) => a.stored ?? Number.NaN)),
    storedPrediction: Float64Array.from(attempts.map((a) => a.predicted ?? Number.NaN)),
    scored: Uint8Array.from(attempts.map((a) => (a.scored === false ? 0 : 1))),
  };
}
