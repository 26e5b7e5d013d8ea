// SPEC 5 — allocation of a learner's daily question budget over subcategories. Pure: the nightly
// job builds tomorrow's plan with it, and the session-end adjustment re-runs it with provisional
// mastery and the session's accuracy.
//
// Design, in order:
//  1. need = importance × (1 − mastery) (unknown mastery counts as the prior 0.5), scaled by the
//     session just ended: ×0.5 above 85% session accuracy, ×1.5 below 60%.
//  2. Units are ranked by need (highest first; ties by subcategory name). That rank is the priority.
//     When the budget cannot give every subcategory minPerUnit questions (or maxUnits caps them),
//     only the top of the ranking is kept.
//  3. Every kept unit gets minPerUnit; the questions left over are apportioned by the largest
//     remainder method: a reviewShare of them goes, evenly, to the kept units not practised for
//     reviewAfterDays or more (only when there is one), the rest in proportion to need (evenly when
//     no kept unit needs anything). Ties of remainders go by subcategory name.
// Quotas are exact fractions (BigInt), so the result does not depend on floating-point rounding:
// targets are integers summing exactly to the budget, and lowering one subcategory's mastery can
// only raise its quota and lower the others', which under the largest remainder method never costs
// it a question (it also only moves up the ranking, so it is never dropped).
import { masteryDefaults } from './mastery.ts';

export interface SubcategoryState {
  subcategory: string;
  /** 0..1: mean importanceIndex of the subcategory's questions. */
  importance: number;
  /** 0..1; null when never practised (counts as the prior). */
  mastery: number | null;
  /** Days since the learner last practised it; null when never practised (new, not review). */
  daysSincePractice: number | null;
  /**
   * YYYY-MM-DD (UTC) of that last practice, named by a review reason; null when never practised. A
   * date rather than the days, so the reason stays the same from one night to the next.
   */
  lastPracticedOn: string | null;
  /** Accuracy in the session just ended; only the session-end adjustment sets it. */
  sessionAccuracy?: number | null;
}

export interface PlanInput {
  /** The learner's dailyQuestionBudget: an integer ≥ 0. */
  budget: number;
  /** YYYY-MM-DD, the day the plan is for. It names the plan; it does not change the allocation. */
  planDate: string;
  subcategories: readonly SubcategoryState[];
}

export interface PlanParameters {
  /** Fewest questions a unit may have. */
  minPerUnit: number;
  /** Days without practice after which a subcategory is due for review. */
  reviewAfterDays: number;
  /** Share (0..1) of the questions above the minimums reserved for review units, when any. */
  reviewShare: number;
  /** At most this many units; unlimited when absent. */
  maxUnits?: number;
}

export const planDefaults: Readonly<PlanParameters> = Object.freeze({
  minPerUnit: 2,
  reviewAfterDays: 7,
  reviewShare: 0.2,
});

/** Session accuracy above this halves a subcategory's need ("strong: fewer questions"). */
export const STRONG_SESSION_ACCURACY = 0.85;
/** Session accuracy below this raises a subcategory's need by half ("weak: more questions"). */
export const WEAK_SESSION_ACCURACY = 0.6;
const STRONG_SESSION_FACTOR = 0.5;
const WEAK_SESSION_FACTOR = 1.5;

export interface PlannedUnit {
  subcategory: string;
  targetQuestions: number;
  /** 1 = most needed; consecutive. */
  priority: number;
  /** Short human text: why this unit is here. */
  reason: string;
}

/** importance × (1 − mastery), unknown mastery as the prior, scaled by the session just ended. */
export function subcategoryNeed(state: SubcategoryState): number {
  const mastery = clampUnit(state.mastery ?? masteryDefaults.prior, 'mastery');
  return clampUnit(state.importance, 'importance') * (1 - mastery) * sessionFactor(state.sessionAccuracy);
}

/** The units of one day's plan, in priority order. */
export function allocatePlan(input: PlanInput, parameters: Partial<PlanParameters> = {}): PlannedUnit[] {
  // `??` rather than a spread, so an explicit `undefined` still means "the default".
  const params: PlanParameters = {
    minPerUnit: parameters.minPerUnit ?? planDefaults.minPerUnit,
    reviewAfterDays: parameters.reviewAfterDays ?? planDefaults.reviewAfterDays,
    reviewShare: parameters.reviewShare ?? planDefaults.reviewShare,
    maxUnits: parameters.maxUnits,
  };
  validate(input, params);
  const { budget } = input;
  if (budget === 0 || input.subcategories.length === 0) return [];

  const ranked = rankByNeed(input.subcategories, params);
  // A budget below the minimum still gets spent: one unit takes all of it.
  const perUnitMinimum = Math.min(params.minPerUnit, budget);
  const affordable = perUnitMinimum === 0 ? ranked.length : Math.floor(budget / perUnitMinimum);
  const units = ranked.slice(0, Math.min(ranked.length, affordable, params.maxUnits ?? Infinity));

  const extra = apportionLeftover(budget - units.length * perUnitMinimum, units, params.reviewShare);
  const weakest = weakestKnown(units);
  return units.map((unit, i) => ({
    subcategory: unit.state.subcategory,
    targetQuestions: perUnitMinimum + extra[i]!,
    priority: i + 1,
    reason: reasonFor(unit, unit === weakest),
  }));
}

interface Candidate {
  state: SubcategoryState;
  need: number;
  isReview: boolean;
}

function rankByNeed(states: readonly SubcategoryState[], params: PlanParameters): Candidate[] {
  return states
    .map((state) => ({
      state,
      need: subcategoryNeed(state),
      isReview: state.daysSincePractice !== null && state.daysSincePractice >= params.reviewAfterDays,
    }))
    .sort((a, b) => b.need - a.need || byName(a.state.subcategory, b.state.subcategory));
}

// Need is quantised to integers so the quotas below are exact fractions; quantising is monotone,
// so a larger need never gets a smaller weight.
const NEED_SCALE = 1e9;
const SHARE_SCALE = 1_000_000n;

/**
 * Largest remainder over quota_i = seats · ((1−ρ)·need_i/Σneed + ρ·[review_i]/#review), where ρ is
 * the review share (0 when no unit is due for review) and need falls back to equal weights when no
 * unit needs anything. Quotas are numerators over one common denominator, so they sum to exactly
 * seats·denominator and every comparison is exact.
 */
function apportionLeftover(seats: number, units: readonly Candidate[], reviewShare: number): number[] {
  const quantised = units.map((u) => BigInt(Math.round(u.need * NEED_SCALE)));
  const noNeed = quantised.every((w) => w === 0n);
  const weights = noNeed ? units.map(() => 1n) : quantised;
  const totalWeight = sum(weights);

  const reviewCount = BigInt(units.filter((u) => u.isReview).length);
  const reviewParts = reviewCount === 0n ? 0n : BigInt(Math.round(reviewShare * Number(SHARE_SCALE)));
  const needParts = SHARE_SCALE - reviewParts;
  const reviewDivisor = reviewCount === 0n ? 1n : reviewCount;

  const denominator = SHARE_SCALE * totalWeight * reviewDivisor;
  const numerators = units.map(
    (u, i) => BigInt(seats) * (needParts * weights[i]! * reviewDivisor + (u.isReview ? reviewParts * totalWeight : 0n)),
  );
  return largestRemainder(
    numerators,
    denominator,
    seats,
    units.map((u) => u.state.subcategory),
  );
}

function largestRemainder(
  numerators: readonly bigint[],
  denominator: bigint,
  seats: number,
  names: readonly string[],
): number[] {
  const seatsOf = numerators.map((q) => Number(q / denominator));
  const leftover = seats - seatsOf.reduce((a, b) => a + b, 0);
  const byRemainder = numerators
    .map((q, i) => ({ i, remainder: q % denominator }))
    .sort((a, b) => compareBigDesc(a.remainder, b.remainder) || byName(names[a.i]!, names[b.i]!));
  for (const { i } of byRemainder.slice(0, leftover)) seatsOf[i]! += 1;
  return seatsOf;
}

function sessionFactor(accuracy: number | null | undefined): number {
  if (accuracy === null || accuracy === undefined) return 1;
  if (Number.isNaN(accuracy)) throw new RangeError('sessionAccuracy is NaN');
  if (accuracy > STRONG_SESSION_ACCURACY) return STRONG_SESSION_FACTOR;
  if (accuracy < WEAK_SESSION_ACCURACY) return WEAK_SESSION_FACTOR;
  return 1;
}

// The reason names the strongest signal: the session just ended, then review, then mastery.
function reasonFor({ state, isReview }: Candidate, isWeakest: boolean): string {
  const accuracy = state.sessionAccuracy;
  if (accuracy != null && accuracy > STRONG_SESSION_ACCURACY) {
    return `strong in this session (${percent(accuracy)}) — fewer questions`;
  }
  if (accuracy != null && accuracy < WEAK_SESSION_ACCURACY) {
    return `weak in this session (${percent(accuracy)}) — more questions`;
  }
  if (isReview) return `last practised on ${state.lastPracticedOn} — review`;
  if (state.mastery === null) return 'not practised yet — new area';
  return `mastery ${percent(state.mastery)} — ${masteryLabel(state.mastery, isWeakest)}`;
}

function masteryLabel(mastery: number, isWeakest: boolean): string {
  if (isWeakest) return 'weakest area';
  if (mastery < 0.6) return 'needs practice';
  if (mastery < STRONG_SESSION_ACCURACY) return 'consolidating';
  return 'keep it fresh';
}

/** The unit with the lowest known mastery (the first in priority order on ties). */
function weakestKnown(units: readonly Candidate[]): Candidate | undefined {
  let weakest: Candidate | undefined;
  for (const unit of units) {
    const m = unit.state.mastery;
    if (m !== null && (weakest === undefined || m < weakest.state.mastery!)) weakest = unit;
  }
  return weakest;
}

function validate(input: PlanInput, params: PlanParameters): void {
  if (!Number.isInteger(input.budget) || input.budget < 0) {
    throw new RangeError(`budget must be an integer ≥ 0, got ${input.budget}`);
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(input.planDate)) {
    throw new RangeError(`planDate must be YYYY-MM-DD, got ${input.planDate}`);
  }
  if (!Number.isInteger(params.minPerUnit) || params.minPerUnit < 0) {
    throw new RangeError(`minPerUnit must be an integer ≥ 0, got ${params.minPerUnit}`);
  }
  if (!(params.reviewShare >= 0 && params.reviewShare <= 1)) {
    throw new RangeError(`reviewShare must lie in [0, 1], got ${params.reviewShare}`);
  }
  if (params.maxUnits !== undefined && (!Number.isInteger(params.maxUnits) || params.maxUnits < 1)) {
    throw new RangeError(`maxUnits must be an integer ≥ 1, got ${params.maxUnits}`);
  }
  const names = new Set<string>();
  for (const { subcategory } of input.subcategories) {
    if (names.has(subcategory)) throw new RangeError(`subcategory ${subcategory} is listed twice`);
    names.add(subcategory);
  }
}

// Scores can drift a hair outside [0, 1] through floating-point arithmetic; NaN is a bug upstream.
function clampUnit(value: number, what: string): number {
  if (Number.isNaN(value)) throw new RangeError(`${what} is NaN`);
  return Math.min(1, Math.max(0, value));
}

// Code-unit order, not localeCompare: the same on every machine and locale.
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareBigDesc(a: bigint, b: bigint): number {
  return a > b ? -1 : a < b ? 1 : 0;
}

function sum(values: readonly bigint[]): bigint {
  return values.reduce((a, b) => a + b, 0n);
}

function percent(value: number): string {
  return `${Math.round(value * 100)}%`;
}
