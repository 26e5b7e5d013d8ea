// Properties of the session-end adjustment as a whole (src/domain/plan-adjustment.ts): the live
// estimates (which the session's attempts have already moved), session accuracy, then the allocation.
// test/domain/plan.test.ts and learner-model.test.ts cover the two halves; these cover what the
// learner sees after a session.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { MasteryAttempt } from '../../src/domain/mastery.ts';
import { masteryDefaults } from '../../src/domain/mastery.ts';
import type { PlannedUnit } from '../../src/domain/plan.ts';
import { type LearnerPlanInput, learnerPlan, planStates } from '../../src/domain/plan-adjustment.ts';

const now = new Date('2025-03-14T18:30:00Z');
const names = ['Algebra', 'Geometry', 'Probability', 'Statistics', 'Vocabulary'] as const;
const name = fc.constantFrom(...names);
const score = fc.oneof(fc.constantFrom(0, 0.2, 0.5, 0.85, 1), fc.double({ min: 0, max: 1, noNaN: true }));

const attemptArb: fc.Arbitrary<MasteryAttempt> = fc.record({
  subcategory: name,
  correct: fc.boolean(),
  hintUsed: fc.boolean(),
});

const inputArb: fc.Arbitrary<LearnerPlanInput> = fc
  .record({
    budget: fc.integer({ min: 2, max: 80 }),
    importance: fc.dictionary(name, score, { minKeys: 1 }),
    mastery: fc.dictionary(name, score),
    daysAgo: fc.dictionary(name, fc.integer({ min: 0, max: 40 })),
    sessionAttempts: fc.array(attemptArb, { maxLength: 60 }),
  })
  .map(({ budget, importance, mastery, daysAgo, sessionAttempts }) => ({
    budget,
    planDate: '2025-03-15',
    importance: new Map(Object.entries(importance)),
    mastery: new Map(Object.entries(mastery)),
    lastPractice: new Map(Object.entries(daysAgo).map(([s, d]) => [s, new Date(now.getTime() - d * 86_400_000)])),
    now,
    sessionAttempts,
  }));

const targetOf = (units: readonly PlannedUnit[], subcategory: string) =>
  units.find((u) => u.subcategory === subcategory)?.targetQuestions ?? 0;
const estimateOf = (input: LearnerPlanInput, subcategory: string) =>
  planStates(input).find((s) => s.subcategory === subcategory)?.mastery ?? null;

describe('session-end adjustment: properties', () => {
  test('targets sum to the budget and every unit has at least 2 questions', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const units = learnerPlan(input);
        expect(units.length).toBeGreaterThan(0);
        expect(units.reduce((sum, u) => sum + u.targetQuestions, 0)).toBe(input.budget);
        for (const unit of units) expect(unit.targetQuestions).toBeGreaterThanOrEqual(2);
        expect(units.length).toBeLessThanOrEqual(Math.floor(input.budget / 2));
      }),
      { numRuns: 1000 },
    );
  });

  test('deterministic: the same inputs, in any order, give the same plan', () => {
    const pair = inputArb.chain((input) =>
      fc
        .record({
          attempts: fc.shuffledSubarray([...(input.sessionAttempts ?? [])], {
            minLength: input.sessionAttempts?.length ?? 0,
          }),
          importance: fc.shuffledSubarray([...input.importance], { minLength: input.importance.size }),
        })
        .map(
          ({ attempts, importance }) =>
            [input, { ...input, sessionAttempts: attempts, importance: new Map(importance) }] as const,
        ),
    );
    fc.assert(
      fc.property(pair, ([input, reordered]) => {
        expect(learnerPlan(reordered)).toEqual(learnerPlan(input));
        expect(learnerPlan(input)).toEqual(learnerPlan(input));
      }),
      { numRuns: 500 },
    );
  });

  // A wrong answer lowers the live estimate (or leaves it: the model's property, learner-model.test.ts)
  // and the session's accuracy; the plan follows both.
  test('a wrong answer, with the estimate it leaves, never gives that subcategory fewer questions', () => {
    fc.assert(
      fc.property(inputArb, name, fc.boolean(), score, (input, subcategory, hintUsed, drop) => {
        const before = input.mastery.get(subcategory) ?? masteryDefaults.prior;
        const withWrong = {
          ...input,
          mastery: new Map(input.mastery).set(subcategory, before * (1 - drop)),
          sessionAttempts: [...(input.sessionAttempts ?? []), { subcategory, correct: false, hintUsed }],
        };
        if (input.importance.has(subcategory)) {
          expect(estimateOf(withWrong, subcategory)).toBe(before * (1 - drop));
          expect(targetOf(learnerPlan(withWrong), subcategory)).toBeGreaterThanOrEqual(
            targetOf(learnerPlan(input), subcategory),
          );
        }
      }),
      { numRuns: 2000 },
    );
  });

  // (With importance 0 nothing is needed anywhere and the budget is spread evenly: no signal to follow.)
  test('all wrong in one subcategory and all right in another: the weak one gets at least as many', () => {
    const arb = fc.record({
      input: inputArb,
      pair: fc.uniqueArray(name, { minLength: 2, maxLength: 2 }),
      importance: fc.double({ min: 0.001, max: 1, noNaN: true }),
      mastery: fc.option(score, { nil: undefined }),
      count: fc.integer({ min: 1, max: 10 }),
    });
    fc.assert(
      fc.property(arb, ({ input, pair: [weak, strong], importance, mastery, count }) => {
        const same = <V>(map: ReadonlyMap<string, V>, value: V | undefined) => {
          const next = new Map(map);
          for (const s of [weak!, strong!]) value === undefined ? next.delete(s) : next.set(s, value);
          return next;
        };
        const others = (input.sessionAttempts ?? []).filter((a) => a.subcategory !== weak && a.subcategory !== strong);
        const adjusted = {
          ...input,
          importance: same(input.importance, importance),
          // The live model has moved the estimates apart: the weak one's lower (halved here).
          mastery:
            mastery === undefined
              ? same(input.mastery, mastery)
              : new Map(input.mastery).set(weak!, mastery / 2).set(strong!, mastery),
          lastPractice: same(input.lastPractice, now),
          sessionAttempts: [
            ...others,
            ...Array.from({ length: count }, () => ({ subcategory: weak!, correct: false, hintUsed: false })),
            ...Array.from({ length: count }, () => ({ subcategory: strong!, correct: true, hintUsed: false })),
          ],
        };
        const units = learnerPlan(adjusted);
        expect(targetOf(units, weak!)).toBeGreaterThanOrEqual(targetOf(units, strong!));
      }),
      { numRuns: 1000 },
    );
  });
});

// A plan is made from what the learner has shown, not from the clock (docs/nightly-incremental.md):
// NIGHTLY carries an idle learner's plan without making it again, so making it again must give it.
describe('a plan of an idle learner', () => {
  const dayMs = 86_400_000;
  const crossesReview = (input: LearnerPlanInput, later: Date) =>
    [...input.lastPractice.values()].some(
      (last) =>
        Math.floor((input.now.getTime() - last.getTime()) / dayMs) < 7 !==
        Math.floor((later.getTime() - last.getTime()) / dayMs) < 7,
    );

  test('is the same a day (or hours) later unless a subcategory falls due for review', () => {
    const arb = fc.record({ input: inputArb, hours: fc.integer({ min: 1, max: 72 }) });
    fc.assert(
      fc.property(arb, ({ input, hours }) => {
        const nightly = { ...input, sessionAttempts: [] };
        const later = new Date(input.now.getTime() + hours * 3_600_000);
        const again = learnerPlan({ ...nightly, now: later, planDate: '2025-03-16' });
        if (!crossesReview(nightly, later)) expect(again).toEqual(learnerPlan(nightly));
      }),
      { numRuns: 1000 },
    );
  });

  test('a review reason names the UTC date of the last practice, not the days since', () => {
    const units = learnerPlan({
      budget: 10,
      planDate: '2025-03-15',
      importance: new Map([['Algebra', 0.5]]),
      mastery: new Map([['Algebra', 0.7]]),
      lastPractice: new Map([['Algebra', new Date('2025-03-06T23:30:00-02:00')]]),
      now,
    });
    expect(units).toEqual([
      { subcategory: 'Algebra', targetQuestions: 10, priority: 1, reason: 'last practised on 2025-03-07 — review' },
    ]);
  });
});
