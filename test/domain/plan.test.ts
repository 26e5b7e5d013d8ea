import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { addDays } from '../../src/domain/calendar.ts';
import {
  allocatePlan,
  type PlanInput,
  type PlannedUnit,
  type PlanParameters,
  planDefaults,
  type SubcategoryState,
  subcategoryNeed,
} from '../../src/domain/plan.ts';

const planDate = '2025-03-14';

const state = (
  subcategory: string,
  importance: number,
  mastery: number | null,
  extra: Partial<SubcategoryState> = {},
): SubcategoryState => ({
  subcategory,
  importance,
  mastery,
  daysSincePractice: mastery === null ? null : 1,
  lastPracticedOn: mastery === null ? null : '2025-03-13',
  ...extra,
});

const targets = (units: readonly PlannedUnit[]): Record<string, number> =>
  Object.fromEntries(units.map((u) => [u.subcategory, u.targetQuestions]));

const targetOf = (units: readonly PlannedUnit[], subcategory: string): number =>
  units.find((u) => u.subcategory === subcategory)?.targetQuestions ?? 0;

describe('subcategoryNeed', () => {
  test('importance × (1 − mastery), unknown mastery as 0.5, scaled by the session', () => {
    expect(subcategoryNeed(state('a', 0.8, 0.3))).toBeCloseTo(0.56, 12);
    expect(subcategoryNeed(state('a', 0.6, null))).toBeCloseTo(0.3, 12);
    expect(subcategoryNeed(state('a', 0.8, 0.3, { sessionAccuracy: 0.9 }))).toBeCloseTo(0.28, 12);
    expect(subcategoryNeed(state('a', 0.8, 0.3, { sessionAccuracy: 0.5 }))).toBeCloseTo(0.84, 12);
    // The thresholds are strict: exactly 0.85 and exactly 0.6 change nothing.
    expect(subcategoryNeed(state('a', 0.8, 0.3, { sessionAccuracy: 0.85 }))).toBeCloseTo(0.56, 12);
    expect(subcategoryNeed(state('a', 0.8, 0.3, { sessionAccuracy: 0.6 }))).toBeCloseTo(0.56, 12);
  });
});

describe('allocatePlan: worked examples', () => {
  test('three subcategories, budget 30, one due for review', () => {
    // need: algebra 0.8·0.7 = 0.56, geometry 0.5·0.4 = 0.2, probability 0.6·0.3 = 0.18 (Σ 0.94).
    // 2 each leaves 24: review pool 0.2·24 = 4.8 to probability, 19.2 by need:
    //   algebra 19.2·0.56/0.94 = 11.438, geometry 19.2·0.2/0.94 = 4.085,
    //   probability 19.2·0.18/0.94 + 4.8 = 8.477 → floors 11 + 4 + 8 = 23; the one left goes to
    //   the largest remainder, probability (.477 > .438 > .085).
    const units = allocatePlan({
      budget: 30,
      planDate,
      subcategories: [
        state('geometry', 0.5, 0.6),
        state('probability', 0.6, 0.7, { daysSincePractice: 9, lastPracticedOn: '2025-03-05' }),
        state('algebra', 0.8, 0.3),
      ],
    });
    expect(units).toEqual([
      { subcategory: 'algebra', targetQuestions: 13, priority: 1, reason: 'mastery 30% — weakest area' },
      { subcategory: 'geometry', targetQuestions: 6, priority: 2, reason: 'mastery 60% — consolidating' },
      { subcategory: 'probability', targetQuestions: 11, priority: 3, reason: 'last practised on 2025-03-05 — review' },
    ]);
  });

  test('session-end adjustment: strong gets fewer, weak gets more', () => {
    const base = [state('algebra', 0.5, 0.5), state('geometry', 0.5, 0.5), state('logic', 0.5, 0.5)];
    const before = allocatePlan({ budget: 30, planDate, subcategories: base });
    expect(targets(before)).toEqual({ algebra: 10, geometry: 10, logic: 10 });

    const after = allocatePlan({
      budget: 30,
      planDate,
      subcategories: [{ ...base[0]!, sessionAccuracy: 0.92 }, { ...base[1]!, sessionAccuracy: 0.4 }, base[2]!],
    });
    // need 0.125, 0.375, 0.25 (Σ 0.75); 24 above the minimums → 4, 12, 8.
    expect(targets(after)).toEqual({ algebra: 6, geometry: 14, logic: 10 });
    expect(after.find((u) => u.subcategory === 'algebra')!.reason).toBe(
      'strong in this session (92%) — fewer questions',
    );
    expect(after.find((u) => u.subcategory === 'geometry')!.reason).toBe('weak in this session (40%) — more questions');
  });

  test('a budget too small for everyone keeps the most needed', () => {
    const units = allocatePlan({
      budget: 7,
      planDate,
      subcategories: [
        state('a', 0.5, 0.9), // 0.05
        state('b', 0.9, 0.2), // 0.72
        state('c', 0.5, 0.5), // 0.25
        state('d', 0.7, 0.1), // 0.63
        state('e', 0.4, null), // 0.2
      ],
    });
    expect(units.map((u) => u.subcategory)).toEqual(['b', 'd', 'c']);
    expect(units.map((u) => u.priority)).toEqual([1, 2, 3]);
    // 1 left above 3 × 2: quotas 0.450, 0.394, 0.156 → b.
    expect(targets(units)).toEqual({ b: 3, d: 2, c: 2 });
  });

  test('a budget below the minimum goes whole to the most needed; 0 gives no plan', () => {
    const subcategories = [state('a', 0.5, 0.9), state('b', 0.9, 0.2)];
    expect(allocatePlan({ budget: 1, planDate, subcategories })).toEqual([
      { subcategory: 'b', targetQuestions: 1, priority: 1, reason: 'mastery 20% — weakest area' },
    ]);
    expect(allocatePlan({ budget: 0, planDate, subcategories })).toEqual([]);
    expect(allocatePlan({ budget: 30, planDate, subcategories: [] })).toEqual([]);
  });

  test('nothing needed anywhere: spread evenly, the odd question by name', () => {
    const subcategories = [state('c', 0.7, 1), state('a', 0.2, 1), state('b', 0, 0.4)];
    expect(targets(allocatePlan({ budget: 30, planDate, subcategories }))).toEqual({ a: 10, b: 10, c: 10 });
    expect(targets(allocatePlan({ budget: 31, planDate, subcategories }))).toEqual({ a: 11, b: 10, c: 10 });
  });

  test('equal needs are ranked and rounded by subcategory name', () => {
    const units = allocatePlan({
      budget: 11,
      planDate,
      subcategories: [state('zeta', 0.5, 0.5), state('alpha', 0.5, 0.5), state('mu', 0.5, 0.5)],
    });
    expect(units.map((u) => [u.subcategory, u.targetQuestions, u.priority])).toEqual([
      ['alpha', 4, 1],
      ['mu', 4, 2],
      ['zeta', 3, 3],
    ]);
  });

  test('reasons for new subcategories and maxUnits', () => {
    const units = allocatePlan(
      {
        budget: 20,
        planDate,
        subcategories: [state('new', 0.9, null), state('old', 0.5, 0.8), state('mid', 0.5, 0.5)],
      },
      { maxUnits: 2 },
    );
    expect(units.map((u) => [u.subcategory, u.reason])).toEqual([
      ['new', 'not practised yet — new area'],
      ['mid', 'mastery 50% — weakest area'],
    ]);
    expect(units.reduce((s, u) => s + u.targetQuestions, 0)).toBe(20);
  });

  test('rejects input it cannot plan', () => {
    const subcategories = [state('a', 0.5, 0.5)];
    expect(() => allocatePlan({ budget: 2.5, planDate, subcategories })).toThrow(RangeError);
    expect(() => allocatePlan({ budget: -1, planDate, subcategories })).toThrow(RangeError);
    expect(() => allocatePlan({ budget: 5, planDate: '14/03/2025', subcategories })).toThrow(RangeError);
    expect(() => allocatePlan({ budget: 5, planDate, subcategories: [...subcategories, ...subcategories] })).toThrow(
      RangeError,
    );
    expect(() => allocatePlan({ budget: 5, planDate, subcategories }, { reviewShare: 1.5 })).toThrow(RangeError);
    expect(() => allocatePlan({ budget: 5, planDate, subcategories }, { maxUnits: 0 })).toThrow(RangeError);
    expect(() => allocatePlan({ budget: 5, planDate, subcategories: [state('a', Number.NaN, 0.5)] })).toThrow(
      RangeError,
    );
  });
});

// Values on a coarse grid produce ties (in need and in remainders); arbitrary doubles the rest.
const unitValue = fc.oneof(
  fc.constantFrom(0, 0.1, 0.25, 0.5, 0.75, 0.9, 1),
  fc.double({ min: 0, max: 1, noNaN: true }),
);

const stateArb = (subcategory: fc.Arbitrary<string>): fc.Arbitrary<SubcategoryState> =>
  fc
    .record({
      subcategory,
      importance: unitValue,
      mastery: fc.option(unitValue, { nil: null }),
      daysSincePractice: fc.option(fc.integer({ min: 0, max: 30 }), { nil: null }),
      sessionAccuracy: fc.option(unitValue, { nil: null }),
    })
    .map((state) => ({
      ...state,
      lastPracticedOn: state.daysSincePractice === null ? null : addDays(planDate, -1 - state.daysSincePractice),
    }));

const statesArb = fc.uniqueArray(
  stateArb(fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'x'), minLength: 1, maxLength: 3 })),
  {
    selector: (s) => s.subcategory,
    maxLength: 12,
  },
);

const paramsArb: fc.Arbitrary<Partial<PlanParameters>> = fc.record(
  {
    minPerUnit: fc.integer({ min: 0, max: 4 }),
    reviewAfterDays: fc.integer({ min: 1, max: 14 }),
    reviewShare: unitValue,
    maxUnits: fc.integer({ min: 1, max: 12 }),
  },
  { requiredKeys: [] },
);

const inputArb: fc.Arbitrary<PlanInput> = fc.record({
  budget: fc.integer({ min: 0, max: 60 }),
  planDate: fc.constant(planDate),
  subcategories: statesArb,
});

describe('allocatePlan: properties', () => {
  test('targets sum exactly to the budget; every unit gets the minimum; priorities are 1..n', () => {
    fc.assert(
      fc.property(inputArb, paramsArb, (input, parameters) => {
        const units = allocatePlan(input, parameters);
        const { minPerUnit, maxUnits } = { ...planDefaults, ...parameters };
        const n = input.subcategories.length;
        if (input.budget === 0 || n === 0) {
          expect(units).toEqual([]);
          return;
        }
        expect(units.reduce((s, u) => s + u.targetQuestions, 0)).toBe(input.budget);
        const minimum = Math.min(minPerUnit, input.budget);
        for (const u of units) {
          expect(Number.isInteger(u.targetQuestions)).toBe(true);
          expect(u.targetQuestions).toBeGreaterThanOrEqual(minimum);
          expect(u.reason.length).toBeGreaterThan(0);
        }
        const affordable = minimum === 0 ? n : Math.floor(input.budget / minimum);
        expect(units).toHaveLength(Math.min(n, affordable, maxUnits ?? n));
        expect(units.map((u) => u.priority)).toEqual(units.map((_, i) => i + 1));
      }),
      { numRuns: 1000 },
    );
  });

  test('kept units are the most needed, in priority order', () => {
    fc.assert(
      fc.property(inputArb, paramsArb, (input, parameters) => {
        const units = allocatePlan(input, parameters);
        const need = new Map(input.subcategories.map((s) => [s.subcategory, subcategoryNeed(s)]));
        const needs = units.map((u) => need.get(u.subcategory)!);
        for (let i = 1; i < needs.length; i += 1) expect(needs[i]!).toBeLessThanOrEqual(needs[i - 1]!);
        const kept = new Set(units.map((u) => u.subcategory));
        const lowestKept = Math.min(...needs);
        for (const s of input.subcategories) {
          if (!kept.has(s.subcategory) && units.length > 0)
            expect(need.get(s.subcategory)!).toBeLessThanOrEqual(lowestKept);
        }
      }),
    );
  });

  test('deterministic and independent of input order', () => {
    const shuffled = inputArb.chain((input) =>
      fc
        .shuffledSubarray([...input.subcategories], { minLength: input.subcategories.length })
        .map((order) => [input, { ...input, subcategories: order }] as const),
    );
    fc.assert(
      fc.property(shuffled, paramsArb, ([input, reordered], parameters) => {
        expect(allocatePlan(reordered, parameters)).toEqual(allocatePlan(input, parameters));
      }),
      { numRuns: 1000 },
    );
  });

  // One subcategory, changed in one way, all else equal.
  const variantArb = fc.record({
    input: inputArb,
    parameters: paramsArb,
    extra: stateArb(fc.constant('target')),
    low: unitValue,
    high: unitValue,
  });

  const withTarget = (input: PlanInput, target: SubcategoryState): PlanInput => ({
    ...input,
    subcategories: [...input.subcategories.filter((s) => s.subcategory !== 'target'), target],
  });

  test('lowering a subcategory’s mastery never gives it fewer questions', () => {
    fc.assert(
      fc.property(variantArb, ({ input, parameters, extra, low, high }) => {
        const [lower, higher] = low <= high ? [low, high] : [high, low];
        const before = allocatePlan(withTarget(input, { ...extra, mastery: higher }), parameters);
        const after = allocatePlan(withTarget(input, { ...extra, mastery: lower }), parameters);
        expect(targetOf(after, 'target')).toBeGreaterThanOrEqual(targetOf(before, 'target'));
      }),
      { numRuns: 3000 },
    );
  });

  test('becoming due for review never gives a subcategory fewer questions', () => {
    fc.assert(
      fc.property(variantArb, ({ input, parameters, extra }) => {
        const reviewAfterDays = parameters.reviewAfterDays ?? planDefaults.reviewAfterDays;
        const recent = allocatePlan(withTarget(input, { ...extra, daysSincePractice: 0 }), {
          ...parameters,
          reviewAfterDays,
        });
        const stale = allocatePlan(withTarget(input, { ...extra, daysSincePractice: reviewAfterDays }), {
          ...parameters,
          reviewAfterDays,
        });
        expect(targetOf(stale, 'target')).toBeGreaterThanOrEqual(targetOf(recent, 'target'));
      }),
      { numRuns: 1000 },
    );
  });

  test('a strong session never gives more questions, a weak one never fewer', () => {
    fc.assert(
      fc.property(variantArb, ({ input, parameters, extra }) => {
        const plan = (sessionAccuracy: number | null) =>
          targetOf(allocatePlan(withTarget(input, { ...extra, sessionAccuracy }), parameters), 'target');
        expect(plan(0.95)).toBeLessThanOrEqual(plan(null));
        expect(plan(0.3)).toBeGreaterThanOrEqual(plan(null));
      }),
      { numRuns: 1000 },
    );
  });
});
