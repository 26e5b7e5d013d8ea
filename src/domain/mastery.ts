// SPEC 3 — mastery: attempt credit, EWMA update and time decay. Pure: the nightly job, the decay
// job and the session-end plan adjustment all call these so the three agree to the last digit.

export interface MasteryParameters {
  /** EWMA weight of the new performance. */
  alpha: number;
  /** The "previous" score of a subcategory never scored before. */
  prior: number;
  /** Decay pulls scores toward this value, never past it. */
  decayFloor: number;
  /** Hours after which the distance to the floor halves. */
  halfLifeHours: number;
  /** A user with no attempt for this long is decayed. */
  inactiveAfterHours: number;
}

export const masteryDefaults: Readonly<MasteryParameters> = Object.freeze({
  alpha: 0.6,
  prior: 0.5,
  decayFloor: 0.1,
  halfLifeHours: 720,
  inactiveAfterHours: 48,
});

export interface CreditedAttempt {
  correct: boolean;
  hintUsed: boolean;
}

/** An attempt of the session just ended, as provisional mastery needs it. */
export interface MasteryAttempt extends CreditedAttempt {
  subcategory: string;
}

/** 1 if correct without a hint, 0.5 if correct with one, 0 if wrong. */
export function attemptCredit({ correct, hintUsed }: CreditedAttempt): number {
  if (!correct) return 0;
  return hintUsed ? 0.5 : 1;
}

/** Mean credit of a run's attempts; null when there are none (nothing to update). */
export function performance(credits: readonly number[]): number | null {
  if (credits.length === 0) return null;
  return credits.reduce((sum, c) => sum + c, 0) / credits.length;
}

/** new = α·performance + (1−α)·previous, with previous = prior when never scored. */
export function ewmaStep(
  previous: number | null,
  performance: number,
  alpha: number = masteryDefaults.alpha,
  prior: number = masteryDefaults.prior,
): number {
  return alpha * performance + (1 - alpha) * (previous ?? prior);
}

/**
 * floor + (score − floor)·2^(−Δh/halfLife). Multiplicative in time, so decaying in several steps
 * equals one step over the total and a missed run is caught up exactly. A score below the floor
 * rises toward it: that is the formula, applied as specified. Δh ≤ 0 leaves the score unchanged.
 */
export function decayedScore(
  score: number,
  hoursElapsed: number,
  { decayFloor, halfLifeHours }: Pick<MasteryParameters, 'decayFloor' | 'halfLifeHours'> = masteryDefaults,
): number {
  if (!(halfLifeHours > 0)) throw new RangeError(`halfLifeHours must be positive, got ${halfLifeHours}`);
  if (!(hoursElapsed > 0)) return score;
  return decayFloor + (score - decayFloor) * 2 ** (-hoursElapsed / halfLifeHours);
}

/**
 * Mastery as it will be after the next nightly run, from the attempts of the session just ended:
 * one EWMA step per subcategory of the session, with that subcategory's mean credit — the very step
 * the nightly job applies. Subcategories the session did not touch keep their score. Used for
 * real-time plan adjustment; nothing is stored from it.
 */
export function provisionalMastery(
  current: ReadonlyMap<string, number>,
  sessionAttempts: readonly MasteryAttempt[],
  { alpha, prior }: Pick<MasteryParameters, 'alpha' | 'prior'> = masteryDefaults,
): Map<string, number> {
  const next = new Map(current);
  for (const [subcategory, credits] of creditsBySubcategory(sessionAttempts)) {
    const mean = performance(credits);
    if (mean !== null) next.set(subcategory, ewmaStep(current.get(subcategory) ?? null, mean, alpha, prior));
  }
  return next;
}

function creditsBySubcategory(attempts: readonly MasteryAttempt[]): Map<string, number[]> {
  const credits = new Map<string, number[]>();
  for (const attempt of attempts) {
    const list = credits.get(attempt.subcategory) ?? [];
    list.push(attemptCredit(attempt));
    credits.set(attempt.subcategory, list);
  }
  return credits;
}
