import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { analyzeSession } from '../../src/domain/session-analytics.ts';
import type { SessionAttempt } from '../../src/domain/session-summary.ts';
import { type DifficultyBand, difficultyBands } from '../../src/domain/types.ts';

const attempt = (
  correct: boolean,
  timeSec: number,
  subcategory = 'fractions',
  difficultyBand: DifficultyBand = 'MEDIUM',
): SessionAttempt => ({ correct, timeSec, subcategory, difficultyBand });

/** `correct` of `total` attempts in one band (correct ones first), 10 s each. */
const bandAttempts = (band: DifficultyBand, correct: number, total: number): SessionAttempt[] =>
  Array.from({ length: total }, (_, i) => attempt(i < correct, 10, 'fractions', band));

const attemptArb: fc.Arbitrary<SessionAttempt> = fc.record({
  correct: fc.boolean(),
  timeSec: fc.double({ min: 0, max: 600, noNaN: true }),
  subcategory: fc.constantFrom('fractions', 'decimals', 'ratios'),
  difficultyBand: fc.constantFrom(...difficultyBands),
});
const sessionArb = fc.array(attemptArb, { maxLength: 40 });

describe('analyzeSession — worked examples', () => {
  test('an empty session', () => {
    expect(analyzeSession([])).toEqual({
      learningVelocity: null,
      conceptSwitches: 0,
      attentionSpanMinutes: null,
      optimalDifficultyRange: [],
    });
  });

  test('a 2-attempt session', () => {
    // n = 2 < 3 → no velocity; n < 5 → no attention span; fractions → geometry is 1 switch.
    // EASY 1/1 = 1.0 (distance 0.15), HARD 0/1 = 0 (distance 0.6): none inside → nearest EASY.
    expect(analyzeSession([attempt(true, 30, 'fractions', 'EASY'), attempt(false, 50, 'geometry', 'HARD')])).toEqual({
      learningVelocity: null,
      conceptSwitches: 1,
      attentionSpanMinutes: null,
      optimalDifficultyRange: ['EASY'],
    });
  });

  test('a fatigue session with concept switches ends the span early at k = 8', () => {
    const session = [
      attempt(true, 20, 'fractions', 'EASY'), //  1
      attempt(true, 20, 'fractions', 'EASY'), //  2
      attempt(true, 20, 'decimals', 'EASY'), //   3  switch 1
      attempt(true, 20, 'decimals', 'EASY'), //   4
      attempt(true, 20, 'fractions', 'MEDIUM'), // 5  switch 2
      attempt(true, 20, 'ratios', 'MEDIUM'), //   6  switch 3
      attempt(false, 40, 'ratios', 'MEDIUM'), //  7
      attempt(false, 45, 'fractions', 'MEDIUM'), // 8  switch 4
      attempt(true, 50, 'decimals', 'HARD'), //   9  switch 5
      attempt(false, 60, 'decimals', 'HARD'), // 10
    ];
    const result = analyzeSession(session);

    // Subcategory changes at 3, 5, 6, 8, 9 → 5 switches.
    expect(result.conceptSwitches).toBe(5);

    // Baseline 1–5: a_0 = 5/5 = 1, t_0 = 20 → fatigue when accuracy < 0.7 or mean time > 30.
    //   k = 6 (2–6): 5/5 = 1.0, mean 20        → no
    //   k = 7 (3–7): 4/5 = 0.8, mean 120/5 = 24 → no
    //   k = 8 (4–8): 3/5 = 0.6 < 0.7            → ends (mean 145/5 = 29 is still ≤ 30)
    // Span = 5·20 + 20 + 40 + 45 = 205 s = 205/60 min.
    expect(result.attentionSpanMinutes).toBeCloseTo(205 / 60, 12);

    // c = 1 1 1 1 1 1 0 0 1 0 → r = 1 1 1 1 1 1 6/7 6/8 7/9 7/10. With r_i = 1 − d_i and
    // Σ(i − 5.5) = 0, Σ(i − 5.5)·r_i = −(1.5/7 + 2.5/4 + 3.5·2/9 + 4.5·3/10) = −7477/2520.
    // Sxx = n(n² − 1)/12 = 82.5 → slope·10 = −7477/20790 ≈ −0.3596.
    expect(result.learningVelocity).toBeCloseTo(-7477 / 20790, 12);

    // EASY 4/4 = 1.0 (distance 0.15), MEDIUM 2/4 = 0.5 (0.1), HARD 1/2 = 0.5 (0.1):
    // none inside; MEDIUM and HARD tie → the easier, MEDIUM.
    expect(result.optimalDifficultyRange).toEqual(['MEDIUM']);
  });

  test('slowing down alone ends the span, but exactly 1.5·t_0 does not', () => {
    // Baseline: 5 × 10 s, all correct → fatigue when a window's total time > 1.5 · 50 = 75 s.
    const baseline = Array.from({ length: 5 }, () => attempt(true, 10));
    //   k = 6 (2–6): 4·10 + 10 = 50   → no
    //   k = 7 (3–7): 3·10 + 10 + 35 = 75 → exactly 1.5·t_0, not above → no
    //   k = 8 (4–8): 2·10 + 10 + 35 + 21 = 86 > 75 → ends; span = 50 + 10 + 35 + 21 = 116 s.
    const session = [...baseline, attempt(true, 10), attempt(true, 35), attempt(true, 21), attempt(true, 10)];
    expect(analyzeSession(session).attentionSpanMinutes).toBeCloseTo(116 / 60, 12);
  });

  test('a steady improving session: the span runs to the end', () => {
    // c = 0 0 1 0 1 1 1 1 1 1, 30 s each, one subcategory, all MEDIUM.
    const pattern = [false, false, true, false, true, true, true, true, true, true];
    const result = analyzeSession(pattern.map((c) => attempt(c, 30)));

    expect(result.conceptSwitches).toBe(0);

    // Baseline: a_0 = 2/5 = 0.4 → fatigue below 0.28, i.e. at most 1 correct of 5; t_0 = 30.
    // Windows k = 6..10 have 3, 4, 4, 5, 5 correct and mean 30 → none ends: 10·30 s = 5 min.
    expect(result.attentionSpanMinutes).toBe(5);

    // r = 0 0 1/3 1/4 2/5 1/2 4/7 5/8 2/3 7/10, weights i − 5.5 = −4.5 … 4.5:
    // Σ(i − 5.5)·r_i = −5/6 − 3/8 − 1/5 + 1/4 + 6/7 + 25/16 + 7/3 + 63/20 = 11331/1680.
    // slope·10 = (11331/1680)/82.5·10 = 1259/1540 ≈ 0.8175 (positive: improving).
    expect(result.learningVelocity).toBeCloseTo(1259 / 1540, 12);

    // MEDIUM 7/10 = 0.7 ∈ [0.6, 0.85].
    expect(result.optimalDifficultyRange).toEqual(['MEDIUM']);
  });

  test('an all-wrong session', () => {
    // 6 attempts, 10 s each, 2 per band, all wrong.
    const session = (['EASY', 'EASY', 'MEDIUM', 'MEDIUM', 'HARD', 'HARD'] as const).map((band) =>
      attempt(false, 10, 'fractions', band),
    );
    expect(analyzeSession(session)).toEqual({
      // r_i = 0 for all i → slope 0.
      learningVelocity: 0,
      conceptSwitches: 0,
      // a_0 = 0 never triggers ("< 0"), times are constant → the whole 60 s = 1 min.
      attentionSpanMinutes: 1,
      // Every band is at 0, distance 0.6 → tie across all three → EASY.
      optimalDifficultyRange: ['EASY'],
    });
  });

  test('a 5-attempt session has a span (the whole session) but no window after the baseline', () => {
    const session = [10, 20, 30, 40, 50].map((t) => attempt(false, t));
    expect(analyzeSession(session).attentionSpanMinutes).toBeCloseTo(150 / 60, 12);
    expect(analyzeSession(session.slice(0, 4)).attentionSpanMinutes).toBeNull();
  });

  test('learningVelocity exists from n = 3', () => {
    // c = 0 1 1 → r = 0, 1/2, 2/3; mean i = 2, Sxx = 2; Σ(i − 2)·r_i = −0 + 0 + 2/3 → slope 1/3.
    const velocity = analyzeSession([attempt(false, 5), attempt(true, 5), attempt(true, 5)]).learningVelocity;
    expect(velocity).toBeCloseTo(10 / 3, 12);
  });
});

describe('analyzeSession — optimalDifficultyRange', () => {
  const range = (...attempts: SessionAttempt[][]) => analyzeSession(attempts.flat()).optimalDifficultyRange;

  test('exactly 0.6 and exactly 0.85 are inside', () => {
    // EASY 3/5 = 0.6, MEDIUM 17/20 = 0.85, HARD 1/2 = 0.5 (outside).
    expect(range(bandAttempts('EASY', 3, 5), bandAttempts('MEDIUM', 17, 20), bandAttempts('HARD', 1, 2))).toEqual([
      'EASY',
      'MEDIUM',
    ]);
  });

  test('just outside the bounds is outside', () => {
    // EASY 11/20 = 0.55 (distance 0.05), HARD 18/20 = 0.9 (distance 0.05) → tie → EASY.
    expect(range(bandAttempts('EASY', 11, 20), bandAttempts('HARD', 18, 20))).toEqual(['EASY']);
  });

  test('every band inside → all three, in canonical order', () => {
    // Given hardest first; EASY 4/5 = 0.8, MEDIUM 7/10 = 0.7, HARD 2/3 ≈ 0.667.
    expect(range(bandAttempts('HARD', 2, 3), bandAttempts('MEDIUM', 7, 10), bandAttempts('EASY', 4, 5))).toEqual([
      'EASY',
      'MEDIUM',
      'HARD',
    ]);
  });

  test('equal distances tie to the easier band even where floating point disagrees', () => {
    // EASY 2/2 = 1.0: distance 1 − 0.85 = 0.15; MEDIUM 9/20 = 0.45: distance 0.6 − 0.45 = 0.15.
    // In doubles 0.6 − 0.45 < 1 − 0.85, which would wrongly pick MEDIUM.
    expect(range(bandAttempts('EASY', 2, 2), bandAttempts('MEDIUM', 9, 20))).toEqual(['EASY']);
    // EASY 9/10 = 0.9 and MEDIUM 11/20 = 0.55: both 0.05 away → EASY.
    expect(range(bandAttempts('EASY', 9, 10), bandAttempts('MEDIUM', 11, 20))).toEqual(['EASY']);
  });

  test('a strictly nearer harder band wins', () => {
    // EASY 1/1 = 1.0 (distance 0.15), HARD 1/2 = 0.5 (distance 0.1) → HARD.
    expect(range(bandAttempts('EASY', 1, 1), bandAttempts('HARD', 1, 2))).toEqual(['HARD']);
  });

  test('bands without attempts are never chosen', () => {
    // Only HARD attempted, at 0 → HARD, even though an unattempted band would be "nearer".
    expect(range(bandAttempts('HARD', 0, 4))).toEqual(['HARD']);
  });
});

describe('analyzeSession — properties', () => {
  test('conceptSwitches ≤ max(n − 1, 0)', () => {
    fc.assert(
      fc.property(sessionArb, (attempts) => {
        const { conceptSwitches } = analyzeSession(attempts);
        expect(conceptSwitches).toBeGreaterThanOrEqual(0);
        expect(conceptSwitches).toBeLessThanOrEqual(Math.max(attempts.length - 1, 0));
      }),
    );
  });

  test('attentionSpan is null iff n < 5 and never exceeds the total time', () => {
    fc.assert(
      fc.property(sessionArb, (attempts) => {
        const { attentionSpanMinutes } = analyzeSession(attempts);
        if (attempts.length < 5) {
          expect(attentionSpanMinutes).toBeNull();
          return;
        }
        const totalMinutes = attempts.reduce((sum, a) => sum + a.timeSec, 0) / 60;
        expect(attentionSpanMinutes).not.toBeNull();
        expect(attentionSpanMinutes!).toBeGreaterThanOrEqual(0);
        expect(attentionSpanMinutes!).toBeLessThanOrEqual(totalMinutes);
      }),
    );
  });

  test('optimalDifficultyRange is non-empty iff n > 0, attempted bands only, canonical order', () => {
    fc.assert(
      fc.property(sessionArb, (attempts) => {
        const { optimalDifficultyRange } = analyzeSession(attempts);
        expect(optimalDifficultyRange.length > 0).toBe(attempts.length > 0);
        const positions = optimalDifficultyRange.map((band) => difficultyBands.indexOf(band));
        for (const [i, p] of positions.entries()) if (i > 0) expect(p).toBeGreaterThan(positions[i - 1]!);
        const attempted = new Set(attempts.map((a) => a.difficultyBand));
        for (const band of optimalDifficultyRange) expect(attempted.has(band)).toBe(true);
      }),
    );
  });

  test('velocity is null iff n < 3 and finite otherwise', () => {
    fc.assert(
      fc.property(sessionArb, (attempts) => {
        const { learningVelocity } = analyzeSession(attempts);
        if (attempts.length < 3) expect(learningVelocity).toBeNull();
        else expect(Number.isFinite(learningVelocity)).toBe(true);
      }),
    );
  });

  test('velocity of a constant-correctness sequence is 0', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(attemptArb, { minLength: 3, maxLength: 40 }), (correct, attempts) => {
        const constant = attempts.map((a) => ({ ...a, correct }));
        expect(Math.abs(analyzeSession(constant).learningVelocity!)).toBeLessThanOrEqual(1e-12);
      }),
    );
  });
});
