import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  attemptCredit,
  decayedScore,
  ewmaStep,
  type MasteryAttempt,
  masteryDefaults,
  performance,
  provisionalMastery,
} from '../../src/domain/mastery.ts';

const unit = fc.double({ min: 0, max: 1, noNaN: true });
const maybeScore = fc.option(unit, { nil: null });
const attempt = (subcategory: string, correct: boolean, hintUsed = false): MasteryAttempt => ({
  subcategory,
  correct,
  hintUsed,
});

describe('attemptCredit and performance', () => {
  test('credit: 1 without a hint, 0.5 with one, 0 when wrong', () => {
    expect(attemptCredit({ correct: true, hintUsed: false })).toBe(1);
    expect(attemptCredit({ correct: true, hintUsed: true })).toBe(0.5);
    expect(attemptCredit({ correct: false, hintUsed: false })).toBe(0);
    expect(attemptCredit({ correct: false, hintUsed: true })).toBe(0);
  });

  test('performance is the mean credit, null with nothing to average', () => {
    expect(performance([1, 0.5, 0, 1])).toBe(0.625);
    expect(performance([])).toBeNull();
  });
});

describe('ewmaStep', () => {
  test('three hand-worked steps from no previous mastery', () => {
    // 0.6·1 + 0.4·0.5 = 0.8; 0.6·0 + 0.4·0.8 = 0.32; 0.6·0.5 + 0.4·0.32 = 0.428
    const first = ewmaStep(null, 1);
    const second = ewmaStep(first, 0);
    const third = ewmaStep(second, 0.5);
    expect(first).toBeCloseTo(0.8, 12);
    expect(second).toBeCloseTo(0.32, 12);
    expect(third).toBeCloseTo(0.428, 12);
  });

  test('alpha and prior are configurable', () => {
    expect(ewmaStep(null, 1, 0.5, 0.2)).toBeCloseTo(0.6, 12);
  });

  test('monotone in performance', () => {
    fc.assert(
      fc.property(maybeScore, unit, unit, (previous, a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        expect(ewmaStep(previous, low)).toBeLessThanOrEqual(ewmaStep(previous, high));
      }),
    );
  });

  test('stays within [0, 1]', () => {
    fc.assert(
      fc.property(maybeScore, unit, (previous, p) => {
        const next = ewmaStep(previous, p);
        expect(next).toBeGreaterThanOrEqual(0);
        expect(next).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe('decayedScore', () => {
  test('one half-life halves the distance to the floor', () => {
    expect(decayedScore(0.9, 720)).toBeCloseTo(0.5, 12);
    expect(decayedScore(0.9, 1440)).toBeCloseTo(0.3, 12);
  });

  test('no elapsed time (or negative) leaves the score unchanged', () => {
    expect(decayedScore(0.73, 0)).toBe(0.73);
    expect(decayedScore(0.73, -5)).toBe(0.73);
  });

  test('a score below the floor rises toward it, never past it', () => {
    const decayed = decayedScore(0.02, 720);
    expect(decayed).toBeCloseTo(0.06, 12);
    expect(decayed).toBeLessThan(masteryDefaults.decayFloor);
  });

  test('four 6-hour decays equal one 24-hour decay', () => {
    fc.assert(
      fc.property(unit, (score) => {
        let stepped = score;
        for (let i = 0; i < 4; i += 1) stepped = decayedScore(stepped, 6);
        expect(Math.abs(stepped - decayedScore(score, 24))).toBeLessThan(1e-12);
      }),
    );
  });

  test('decaying over any split of the hours equals decaying over their sum', () => {
    const hours = fc.double({ min: 0, max: 500, noNaN: true });
    fc.assert(
      fc.property(unit, fc.array(hours, { minLength: 1, maxLength: 8 }), (score, split) => {
        const stepped = split.reduce((m, h) => decayedScore(m, h), score);
        const total = split.reduce((sum, h) => sum + h, 0);
        expect(Math.abs(stepped - decayedScore(score, total))).toBeLessThan(1e-12);
      }),
    );
  });

  test('never moves a score away from the floor', () => {
    fc.assert(
      fc.property(unit, fc.double({ min: 0, max: 10_000, noNaN: true }), (score, hours) => {
        const floor = masteryDefaults.decayFloor;
        expect(Math.abs(decayedScore(score, hours) - floor)).toBeLessThanOrEqual(Math.abs(score - floor));
      }),
    );
  });

  test('rejects a non-positive half-life', () => {
    expect(() => decayedScore(0.5, 1, { decayFloor: 0.1, halfLifeHours: 0 })).toThrow(RangeError);
  });
});

describe('provisionalMastery', () => {
  test('one EWMA step per subcategory with its mean credit; others untouched', () => {
    const current = new Map([
      ['algebra', 0.4],
      ['geometry', 0.7],
    ]);
    const next = provisionalMastery(current, [
      attempt('algebra', true),
      attempt('algebra', true, true),
      attempt('algebra', false),
      attempt('algebra', true),
      attempt('probability', true),
    ]);
    // algebra: mean credit (1 + 0.5 + 0 + 1)/4 = 0.625 → 0.6·0.625 + 0.4·0.4 = 0.535
    expect(next.get('algebra')).toBeCloseTo(0.535, 12);
    expect(next.get('geometry')).toBe(0.7);
    // probability was never scored: previous = prior 0.5 → 0.6·1 + 0.4·0.5 = 0.8
    expect(next.get('probability')).toBeCloseTo(0.8, 12);
    expect(current.get('algebra')).toBe(0.4); // the input is not mutated
  });

  test('matches the nightly step exactly', () => {
    fc.assert(
      fc.property(
        maybeScore,
        fc.array(fc.record({ correct: fc.boolean(), hintUsed: fc.boolean() }), { minLength: 1 }),
        (previous, raw) => {
          const current = new Map(previous === null ? [] : [['s', previous] as const]);
          const attempts = raw.map((a) => attempt('s', a.correct, a.hintUsed));
          const expected = ewmaStep(previous, performance(attempts.map(attemptCredit)) ?? 0);
          expect(provisionalMastery(current, attempts).get('s')).toBe(expected);
        },
      ),
    );
  });

  test('an all-wrong subcategory never rises: new ≤ (previous ?? prior)', () => {
    fc.assert(
      fc.property(maybeScore, fc.array(fc.boolean(), { minLength: 1, maxLength: 10 }), (previous, hints) => {
        const current = new Map(previous === null ? [] : [['s', previous] as const]);
        const next = provisionalMastery(
          current,
          hints.map((hint) => attempt('s', false, hint)),
        );
        expect(next.get('s')).toBeLessThanOrEqual(previous ?? masteryDefaults.prior);
      }),
    );
  });

  test('turning a wrong answer right never lowers the estimate', () => {
    const outcomes = fc.array(fc.record({ correct: fc.boolean(), hintUsed: fc.boolean() }), {
      minLength: 1,
      maxLength: 12,
    });
    fc.assert(
      fc.property(maybeScore, outcomes, fc.nat(), (previous, raw, pick) => {
        const current = new Map(previous === null ? [] : [['s', previous] as const]);
        const before = raw.map((a) => attempt('s', a.correct, a.hintUsed));
        const index = pick % before.length;
        const after = before.map((a, i) => (i === index ? { ...a, correct: true } : a));
        expect(provisionalMastery(current, before).get('s')).toBeLessThanOrEqual(
          provisionalMastery(current, after).get('s')!,
        );
      }),
    );
  });
});
