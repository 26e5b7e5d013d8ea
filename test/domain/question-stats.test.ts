import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  importanceIndices,
  learningImpact,
  type PointBiserialSums,
  pointBiserial,
  questionDifficulty,
  rankNormalize,
} from '../../src/domain/question-stats.ts';

interface Pair {
  x: number;
  correct: boolean;
}

// What the nightly job accumulates, built here from raw pairs.
function sumsOf(pairs: readonly Pair[]): PointBiserialSums {
  let sumX = 0;
  let sumX2 = 0;
  let nCorrect = 0;
  let sumXCorrect = 0;
  for (const { x, correct } of pairs) {
    sumX += x;
    sumX2 += x * x;
    if (correct) {
      nCorrect += 1;
      sumXCorrect += x;
    }
  }
  return { n: pairs.length, sumX, sumX2, nCorrect, sumXCorrect };
}

// Textbook two-pass Pearson correlation of (x, 0/1); null where it is undefined.
function pearson(pairs: readonly Pair[]): number | null {
  const n = pairs.length;
  const ys: number[] = pairs.map((p) => (p.correct ? 1 : 0));
  const meanX = pairs.reduce((s, p) => s + p.x, 0) / n;
  const meanY = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  pairs.forEach((p, i) => {
    const dx = p.x - meanX;
    const dy = ys[i]! - meanY;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  });
  return sxx === 0 || syy === 0 ? null : sxy / Math.sqrt(sxx * syy);
}

describe('questionDifficulty', () => {
  test('(wrong + 1) / (attempts + 2)', () => {
    expect(questionDifficulty(0, 0)).toBe(0.5);
    expect(questionDifficulty(8, 6)).toBe(0.3);
    expect(questionDifficulty(10, 0)).toBe(11 / 12);
  });

  test('rejects impossible counts', () => {
    expect(() => questionDifficulty(3, 4)).toThrow(RangeError);
    expect(() => questionDifficulty(3, -1)).toThrow(RangeError);
  });
});

describe('pointBiserial', () => {
  test('hand-worked: x = 0.2, 0.4 wrong; 0.6, 0.8 correct', () => {
    // M1 = 0.7, M0 = 0.3, s_x = √0.05, p = q = 0.5 → r = 0.4 / √0.05 · 0.5 = 0.894427…
    const r = pointBiserial(
      sumsOf([
        { x: 0.2, correct: false },
        { x: 0.4, correct: false },
        { x: 0.6, correct: true },
        { x: 0.8, correct: true },
      ]),
    );
    expect(r).toBeCloseTo(0.4 / Math.sqrt(0.05) / 2, 12);
  });

  test('null when undefined', () => {
    expect(pointBiserial(sumsOf([{ x: 0.5, correct: true }]))).toBeNull(); // n < 2
    expect(
      pointBiserial(
        sumsOf([
          { x: 0.2, correct: true },
          { x: 0.9, correct: true },
        ]),
      ),
    ).toBeNull();
    expect(
      pointBiserial(
        sumsOf([
          { x: 0.2, correct: false },
          { x: 0.9, correct: false },
        ]),
      ),
    ).toBeNull();
    expect(
      pointBiserial(
        sumsOf([
          { x: 0.3, correct: false },
          { x: 0.3, correct: true },
          { x: 0.3, correct: true },
        ]),
      ),
    ).toBeNull();
    expect(pointBiserial({ n: 0, sumX: 0, sumX2: 0, nCorrect: 0, sumXCorrect: 0 })).toBeNull();
  });

  // Masteries on a 0.01 grid, as stored scores effectively are: the running sums keep enough
  // precision for 1e-9 whenever x actually varies.
  const gridPairs = fc.array(
    fc.record({ x: fc.integer({ min: 0, max: 100 }).map((k) => k / 100), correct: fc.boolean() }),
    { minLength: 0, maxLength: 40 },
  );

  test('equals Pearson r of the raw pairs within 1e-9 (mastery on a grid)', () => {
    fc.assert(
      fc.property(gridPairs, (pairs) => {
        const r = pointBiserial(sumsOf(pairs));
        const expected = pearson(pairs);
        const xVaries = new Set(pairs.map((p) => p.x)).size > 1;
        if (expected === null || !xVaries) {
          expect(r).toBeNull();
          return;
        }
        expect(r).not.toBeNull();
        expect(Math.abs(r! - expected)).toBeLessThan(1e-9);
      }),
      { numRuns: 2000 },
    );
  });

  test('equals Pearson r of the raw pairs within 1e-9 (arbitrary masteries that spread)', () => {
    const pairs = fc.array(fc.record({ x: fc.double({ min: 0, max: 1, noNaN: true }), correct: fc.boolean() }), {
      minLength: 2,
      maxLength: 60,
    });
    fc.assert(
      fc.property(pairs, (ps) => {
        const mean = ps.reduce((s, p) => s + p.x, 0) / ps.length;
        const variance = ps.reduce((s, p) => s + (p.x - mean) ** 2, 0) / ps.length;
        fc.pre(variance > 1e-4);
        const expected = pearson(ps);
        const r = pointBiserial(sumsOf(ps));
        if (expected === null) expect(r).toBeNull();
        else expect(Math.abs(r! - expected)).toBeLessThan(1e-9);
      }),
      { numRuns: 1000 },
    );
  });

  test('always within [-1, 1]', () => {
    fc.assert(
      fc.property(gridPairs, (pairs) => {
        const r = pointBiserial(sumsOf(pairs));
        if (r !== null) expect(Math.abs(r)).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe('learningImpact', () => {
  test('lift over the subcategory accuracy, shrunk by n/(n+20)', () => {
    // 15/20 = 0.75 after the question vs 0.6 usually: 0.15 · 20/40 = 0.075
    expect(learningImpact({ followUpN: 20, followUpCorrect: 15 }, 0.6)).toBeCloseTo(0.075, 12);
    expect(learningImpact({ followUpN: 5, followUpCorrect: 1 }, 0.6)).toBeCloseTo(-0.4 * (5 / 25), 12);
  });

  test('null with no follow-ups', () => {
    expect(learningImpact({ followUpN: 0, followUpCorrect: 0 }, 0.6)).toBeNull();
  });

  test('shrinks toward 0: never larger in size than the raw lift', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.nat(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (n, c, acc) => {
          const correct = c % (n + 1);
          const impact = learningImpact({ followUpN: n, followUpCorrect: correct }, acc)!;
          expect(Math.abs(impact)).toBeLessThanOrEqual(Math.abs(correct / n - acc));
        },
      ),
    );
  });
});

describe('rankNormalize', () => {
  test('lowest 0, highest 1, in input order', () => {
    expect(rankNormalize([3, 1, 2])).toEqual([1, 0, 0.5]);
  });

  test('ties share the average rank', () => {
    // sorted: 1 (rank 0), 5 5 (ranks 1, 2 → 1.5), 9 (rank 3); divided by 3
    expect(rankNormalize([5, 1, 9, 5])).toEqual([0.5, 0, 1, 0.5]);
    expect(rankNormalize([7, 7, 7])).toEqual([0.5, 0.5, 0.5]);
  });

  test('single value → 0.5, empty → []', () => {
    expect(rankNormalize([42])).toEqual([0.5]);
    expect(rankNormalize([])).toEqual([]);
  });

  test('in [0, 1], order-preserving, and averaging to 0.5', () => {
    const values = fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 1, maxLength: 30 });
    fc.assert(
      fc.property(values, (vs) => {
        const ranks = rankNormalize(vs);
        expect(ranks).toHaveLength(vs.length);
        ranks.forEach((r, i) => {
          expect(r).toBeGreaterThanOrEqual(0);
          expect(r).toBeLessThanOrEqual(1);
          vs.forEach((v, j) => {
            if (vs[i]! < v) expect(r).toBeLessThan(ranks[j]!);
            if (vs[i] === v) expect(r).toBe(ranks[j]);
          });
        });
        const mean = ranks.reduce((s, r) => s + r, 0) / ranks.length;
        expect(mean).toBeCloseTo(0.5, 12);
      }),
    );
  });
});

describe('importanceIndices', () => {
  test('ranks learningImpact + discrimination within each subcategory; missing counts as 0', () => {
    const indices = importanceIndices([
      { id: 'a1', subcategory: 'algebra', learningImpact: 0.1, discrimination: 0.3 }, // 0.4
      { id: 'g1', subcategory: 'geometry', learningImpact: -0.5, discrimination: null }, // alone
      { id: 'a2', subcategory: 'algebra', learningImpact: null, discrimination: null }, // 0
      { id: 'a3', subcategory: 'algebra', learningImpact: 0.05, discrimination: 0.6 }, // 0.65
    ]);
    expect(indices).toEqual(
      new Map([
        ['a1', 0.5],
        ['a2', 0],
        ['a3', 1],
        ['g1', 0.5],
      ]),
    );
  });

  test('empty input → empty map', () => {
    expect(importanceIndices([]).size).toBe(0);
  });
});
