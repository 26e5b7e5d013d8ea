// SPEC 3 — question statistics. The nightly job keeps running sums per question (never rescanning
// attempts) and turns them into values with these functions. They are the reference definitions:
// any SQL computing the same values is tested against them.

/**
 * Laplace-smoothed error rate: (wrong + 1) / (attempts + 2). 0.5 for an unseen question, tending to
 * the observed error rate as attempts grow; never exactly 0 or 1.
 */
export function questionDifficulty(attempts: number, correct: number): number {
  if (!(attempts >= 0 && correct >= 0 && correct <= attempts)) {
    throw new RangeError(`need 0 ≤ correct ≤ attempts, got correct=${correct}, attempts=${attempts}`);
  }
  return (attempts - correct + 1) / (attempts + 2);
}

/**
 * Running sums over the attempts at a question that carry the learner's subcategory mastery x at the
 * time of the attempt (attempts without a mastery are left out of every sum, n included).
 */
export interface PointBiserialSums {
  /** Attempts counted. */
  n: number;
  /** Σ x. */
  sumX: number;
  /** Σ x². */
  sumX2: number;
  /** Attempts that were correct. */
  nCorrect: number;
  /** Σ x over the correct attempts. */
  sumXCorrect: number;
}

/**
 * Below this population variance of x, mastery is taken as constant: x lies in [0, 1], so anything
 * smaller is the rounding noise of Σx²/n − (Σx/n)², not a spread a correlation could measure.
 */
export const MIN_MASTERY_VARIANCE = 1e-12;

/**
 * Point-biserial correlation between correctness (0/1) and mastery x — the question's
 * discrimination: r = (M1 − M0) / s_x · √(p·q), where M1 and M0 are the mean x over correct and wrong
 * attempts, s_x the population standard deviation of x, p = nCorrect/n and q = 1 − p. This is
 * exactly Pearson's r of the (x, correct) pairs. Null when it is undefined: n < 2, all attempts
 * correct or all wrong, or x (practically) constant.
 */
export function pointBiserial({ n, sumX, sumX2, nCorrect, sumXCorrect }: PointBiserialSums): number | null {
  if (!(nCorrect >= 0 && nCorrect <= n)) throw new RangeError(`need 0 ≤ nCorrect ≤ n, got ${nCorrect} of ${n}`);
  const nWrong = n - nCorrect;
  if (n < 2 || nCorrect === 0 || nWrong === 0) return null;
  const meanX = sumX / n;
  const variance = sumX2 / n - meanX * meanX;
  if (variance < MIN_MASTERY_VARIANCE) return null;
  const meanCorrect = sumXCorrect / nCorrect;
  const meanWrong = (sumX - sumXCorrect) / nWrong;
  const p = nCorrect / n;
  const r = ((meanCorrect - meanWrong) / Math.sqrt(variance)) * Math.sqrt(p * (1 - p));
  return Math.min(1, Math.max(-1, r)); // rounding must not leave the range of a correlation
}

/** Follow-ups of a question: each learner's next attempt in the same subcategory after it. */
export interface FollowUpCounts {
  followUpN: number;
  followUpCorrect: number;
}

/** The pseudo-count k of the shrinkage n/(n+k): 20 follow-ups carry half the raw effect. */
export const LEARNING_IMPACT_SHRINKAGE = 20;

/**
 * (accuracy of the follow-ups − the subcategory's overall accuracy) · n/(n+20), n = followUpN:
 * how much better learners do right after this question than usual, shrunk toward 0 while the
 * evidence is thin. Null with no follow-ups.
 */
export function learningImpact(
  { followUpN, followUpCorrect }: FollowUpCounts,
  subcategoryAccuracy: number,
): number | null {
  if (!(followUpCorrect >= 0 && followUpCorrect <= followUpN)) {
    throw new RangeError(`need 0 ≤ followUpCorrect ≤ followUpN, got ${followUpCorrect} of ${followUpN}`);
  }
  if (followUpN === 0) return null;
  const lift = followUpCorrect / followUpN - subcategoryAccuracy;
  return lift * (followUpN / (followUpN + LEARNING_IMPACT_SHRINKAGE));
}

/**
 * Rank-normalises to 0..1: the value's 0-based rank divided by (count − 1), tied values sharing the
 * average of their ranks. The lowest distinct value gets 0 and the highest 1; a single value (or all
 * values tied) gets 0.5; [] gives []. Output is in input order.
 *
 * SQL equivalent over a window w: with count(*) over w = 1 → 0.5, else
 *   ((rank() over (w order by v) − 1) + (count(*) over (w partition by v) − 1) / 2.0)
 *   / (count(*) over w − 1)
 * (percent_rank() alone differs on ties: it gives the lowest rank, not the average.)
 */
export function rankNormalize(values: readonly number[]): number[] {
  const n = values.length;
  if (values.some(Number.isNaN)) throw new RangeError('cannot rank NaN');
  if (n === 1) return [0.5];
  const order = values.map((value, index) => ({ value, index })).sort((a, b) => a.value - b.value);
  const result = new Array<number>(n);
  for (let start = 0; start < n; ) {
    let end = start;
    while (end + 1 < n && order[end + 1]!.value === order[start]!.value) end += 1;
    const averageRank = (start + end) / 2;
    for (let k = start; k <= end; k += 1) result[order[k]!.index] = averageRank / (n - 1);
    start = end + 1;
  }
  return result;
}

export interface ImportanceInput {
  id: string;
  subcategory: string;
  learningImpact: number | null;
  discrimination: number | null;
}

/**
 * importanceIndex per question id: within each subcategory, rankNormalize of
 * (learningImpact ?? 0) + (discrimination ?? 0). A missing statistic counts as 0: no evidence either
 * way, neither rewarded nor penalised.
 */
export function importanceIndices(items: readonly ImportanceInput[]): Map<string, number> {
  const bySubcategory = new Map<string, ImportanceInput[]>();
  for (const item of items) {
    const group = bySubcategory.get(item.subcategory) ?? [];
    group.push(item);
    bySubcategory.set(item.subcategory, group);
  }
  const indices = new Map<string, number>();
  for (const group of bySubcategory.values()) {
    const scores = group.map((q) => (q.learningImpact ?? 0) + (q.discrimination ?? 0));
    for (const [k, index] of rankNormalize(scores).entries()) indices.set(group[k]!.id, index);
  }
  return indices;
}
