// SPEC 4.1 — the summary stored when a session ends. Pure: callers pass the session's attempts.
import type { DifficultyBand } from './types.ts';

/** One attempt of a session, as the analytics need it. Callers pass them in recordedAt order. */
export interface SessionAttempt {
  correct: boolean;
  timeSec: number;
  subcategory: string;
  difficultyBand: DifficultyBand;
}

export interface DifficultyDistribution {
  easy: number;
  medium: number;
  hard: number;
}

export interface SessionSummary {
  questionsAttempted: number;
  questionsCorrect: number;
  /** correct ÷ attempted; null with no attempts. */
  accuracy: number | null;
  /** Mean timeSec; null with no attempts. */
  averageTimePerQuestion: number | null;
  /** Subcategories in first-seen order. */
  topicsCovered: string[];
  difficultyDistribution: DifficultyDistribution;
}

// Every attempt counts, retries included (SPEC 4.1), so nothing is deduplicated by question.
export function summarizeSession(attempts: readonly SessionAttempt[]): SessionSummary {
  const n = attempts.length;
  const questionsCorrect = attempts.filter((a) => a.correct).length;
  const totalTime = attempts.reduce((sum, a) => sum + a.timeSec, 0);
  return {
    questionsAttempted: n,
    questionsCorrect,
    accuracy: n === 0 ? null : questionsCorrect / n,
    averageTimePerQuestion: n === 0 ? null : totalTime / n,
    topicsCovered: topicsInFirstSeenOrder(attempts),
    difficultyDistribution: countByBand(attempts),
  };
}

// A Set keeps insertion order, which is exactly "first-seen order".
function topicsInFirstSeenOrder(attempts: readonly SessionAttempt[]): string[] {
  return [...new Set(attempts.map((a) => a.subcategory))];
}

function countByBand(attempts: readonly SessionAttempt[]): DifficultyDistribution {
  const distribution: DifficultyDistribution = { easy: 0, medium: 0, hard: 0 };
  for (const { difficultyBand } of attempts) {
    if (difficultyBand === 'EASY') distribution.easy += 1;
    else if (difficultyBand === 'MEDIUM') distribution.medium += 1;
    else distribution.hard += 1;
  }
  return distribution;
}

/** Accuracy per subcategory of a session (the session-end plan adjustment weighs it). */
export function accuracyBySubcategory(
  attempts: readonly Pick<SessionAttempt, 'subcategory' | 'correct'>[],
): Map<string, number> {
  const counts = new Map<string, { correct: number; total: number }>();
  for (const { subcategory, correct } of attempts) {
    const c = counts.get(subcategory) ?? { correct: 0, total: 0 };
    c.total += 1;
    if (correct) c.correct += 1;
    counts.set(subcategory, c);
  }
  return new Map([...counts].map(([subcategory, c]) => [subcategory, c.correct / c.total]));
}
