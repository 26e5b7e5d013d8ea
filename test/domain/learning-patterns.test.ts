import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  bestHourOfDay,
  bucketOfDuration,
  computeLearningPatterns,
  conceptRetention,
  difficultyProgression,
  type LearningPatternsInput,
  optimalSessionDurationMinutes,
} from '../../src/domain/learning-patterns.ts';

const emptyInput: LearningPatternsInput = {
  windowDays: 7,
  sessions: [],
  hours: [],
  days: [],
  subcategoryDays: [],
};

describe('computeLearningPatterns', () => {
  test('no data → nulls and empty lists; windowDays passes through', () => {
    expect(computeLearningPatterns({ ...emptyInput, windowDays: 30 })).toEqual({
      windowDays: 30,
      optimalSessionDurationMinutes: null,
      bestHourOfDay: null,
      difficultyProgression: [],
      conceptRetention: [],
    });
  });

  test('combines the four aggregates', () => {
    const result = computeLearningPatterns({
      windowDays: 7,
      sessions: [
        { durationMinutes: 20, accuracy: 0.9 },
        { durationMinutes: 28, accuracy: 0.7 },
      ],
      hours: [{ hour: 8, attempts: 12, correct: 9 }],
      days: [{ date: '2024-05-01', attempts: 4, correct: 3, meanDifficulty: 0.4 }],
      subcategoryDays: [
        { subcategory: 'fractions', date: '2024-05-01', attempts: 2, correct: 1 },
        { subcategory: 'fractions', date: '2024-05-03', attempts: 2, correct: 2 },
      ],
    });
    expect(result).toEqual({
      windowDays: 7,
      optimalSessionDurationMinutes: 24, // bucket [15, 30): (20 + 28) / 2
      bestHourOfDay: 8,
      difficultyProgression: [{ date: '2024-05-01', meanDifficulty: 0.4, accuracy: 0.75, attempts: 4 }],
      conceptRetention: [{ subcategory: 'fractions', firstDate: '2024-05-01', lastDate: '2024-05-03', ratio: 2 }],
    });
  });
});

describe('bucketOfDuration', () => {
  test('15-minute buckets, closed on the left', () => {
    expect(bucketOfDuration(0)).toBe(0);
    expect(bucketOfDuration(14.99)).toBe(0);
    expect(bucketOfDuration(15)).toBe(15);
    expect(bucketOfDuration(29.5)).toBe(15);
    expect(bucketOfDuration(30)).toBe(30);
    expect(bucketOfDuration(-2)).toBe(0);
  });

  test('property: the duration lies in [bucket, bucket + 15)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e4, noNaN: true }), (minutes) => {
        const start = bucketOfDuration(minutes);
        expect(start % 15).toBe(0);
        expect(minutes).toBeGreaterThanOrEqual(start);
        expect(minutes).toBeLessThan(start + 15);
      }),
    );
  });
});

describe('optimalSessionDurationMinutes', () => {
  test('the best mean accuracy wins; its mean duration is returned', () => {
    // [0,15): 10 @ 0.5, 12 @ 0.6 → 0.55.  [15,30): 16 @ 0.9, 26 @ 0.8 → 0.85 → (16 + 26)/2 = 21.
    expect(
      optimalSessionDurationMinutes([
        { durationMinutes: 10, accuracy: 0.5 },
        { durationMinutes: 16, accuracy: 0.9 },
        { durationMinutes: 12, accuracy: 0.6 },
        { durationMinutes: 26, accuracy: 0.8 },
      ]),
    ).toBe(21);
  });

  test('ties go to the shorter bucket; single-session buckets and null accuracies do not count', () => {
    // [0,15): 10 @ 0.8, 12 @ 0.6 → 0.7 (the 1-minute session without attempts is ignored,
    //          also for the mean duration). [15,30): 20 @ 0.9, 25 @ 0.5 → 0.7 → tie.
    // [30,45): one session @ 1.0 → not enough sessions.  Winner [0,15): (10 + 12)/2 = 11.
    expect(
      optimalSessionDurationMinutes([
        { durationMinutes: 25, accuracy: 0.5 },
        { durationMinutes: 20, accuracy: 0.9 },
        { durationMinutes: 1, accuracy: null },
        { durationMinutes: 10, accuracy: 0.8 },
        { durationMinutes: 12, accuracy: 0.6 },
        { durationMinutes: 31, accuracy: 1 },
      ]),
    ).toBe(11);
  });

  test('a tie that floating point blurs is still a tie', () => {
    // [0,15) mean (0.15 + 0.15)/2 = 0.15; [15,30) mean (0.1 + 0.2)/2 = 0.15000000000000002 in
    // doubles — equal on paper, so the shorter bucket wins: (5 + 7)/2 = 6.
    expect(
      optimalSessionDurationMinutes([
        { durationMinutes: 5, accuracy: 0.15 },
        { durationMinutes: 7, accuracy: 0.15 },
        { durationMinutes: 20, accuracy: 0.1 },
        { durationMinutes: 22, accuracy: 0.2 },
      ]),
    ).toBe(6);
  });

  test('fewer than 2 sessions with accuracy in every bucket → null', () => {
    expect(optimalSessionDurationMinutes([])).toBeNull();
    expect(optimalSessionDurationMinutes([{ durationMinutes: 10, accuracy: 0.8 }])).toBeNull();
    // Two sessions, different buckets.
    expect(
      optimalSessionDurationMinutes([
        { durationMinutes: 10, accuracy: 0.8 },
        { durationMinutes: 40, accuracy: 0.7 },
      ]),
    ).toBeNull();
    // Two sessions in one bucket, but one has no attempts.
    expect(
      optimalSessionDurationMinutes([
        { durationMinutes: 10, accuracy: 0.8 },
        { durationMinutes: 11, accuracy: null },
      ]),
    ).toBeNull();
  });
});

describe('bestHourOfDay', () => {
  test('hours with fewer than 10 attempts are ignored; ties go to the earlier hour', () => {
    // 06h: 9/9 = 1.0 but only 9 attempts → ignored.
    // 20h: 16/20 = 0.8, 14h: 8/10 = 0.8 → tie → 14.  03h: 5/10 = 0.5.
    expect(
      bestHourOfDay([
        { hour: 20, attempts: 20, correct: 16 },
        { hour: 6, attempts: 9, correct: 9 },
        { hour: 14, attempts: 10, correct: 8 },
        { hour: 3, attempts: 10, correct: 5 },
      ]),
    ).toBe(14);
  });

  test('a strictly better later hour wins', () => {
    expect(
      bestHourOfDay([
        { hour: 7, attempts: 10, correct: 6 },
        { hour: 21, attempts: 12, correct: 9 }, // 0.75 > 0.6
      ]),
    ).toBe(21);
  });

  test('only an hour with 9 attempts → null', () => {
    expect(bestHourOfDay([{ hour: 9, attempts: 9, correct: 9 }])).toBeNull();
    expect(bestHourOfDay([])).toBeNull();
  });
});

describe('difficultyProgression', () => {
  test('sorted by date, days without attempts dropped, accuracy per day', () => {
    expect(
      difficultyProgression([
        { date: '2024-05-03', attempts: 5, correct: 4, meanDifficulty: 0.55 },
        { date: '2024-05-02', attempts: 0, correct: 0, meanDifficulty: null },
        { date: '2024-05-01', attempts: 4, correct: 1, meanDifficulty: 0.3 },
      ]),
    ).toEqual([
      { date: '2024-05-01', meanDifficulty: 0.3, accuracy: 0.25, attempts: 4 },
      { date: '2024-05-03', meanDifficulty: 0.55, accuracy: 0.8, attempts: 5 },
    ]);
  });

  test('an unknown mean difficulty stays null', () => {
    expect(difficultyProgression([{ date: '2024-05-01', attempts: 2, correct: 2, meanDifficulty: null }])).toEqual([
      { date: '2024-05-01', meanDifficulty: null, accuracy: 1, attempts: 2 },
    ]);
  });
});

describe('conceptRetention', () => {
  test('ratio of last-day to first-day accuracy, sorted by subcategory', () => {
    expect(
      conceptRetention([
        // ratios: 1/2 = 0.5 on 05-01, 3/4 = 0.75 on 05-02, 2/5 = 0.4 on 05-06 → 0.4/0.5 = 0.8.
        { subcategory: 'ratios', date: '2024-05-06', attempts: 5, correct: 2 },
        { subcategory: 'ratios', date: '2024-05-01', attempts: 2, correct: 1 },
        { subcategory: 'ratios', date: '2024-05-02', attempts: 4, correct: 3 },
        // decimals: 0/3 on the first day → ratio null (division by zero is not invented).
        { subcategory: 'decimals', date: '2024-05-02', attempts: 3, correct: 0 },
        { subcategory: 'decimals', date: '2024-05-04', attempts: 2, correct: 2 },
        // fractions: one day only → excluded.
        { subcategory: 'fractions', date: '2024-05-03', attempts: 6, correct: 3 },
        // algebra: the second day has no attempts, so it was practised on one day → excluded.
        { subcategory: 'algebra', date: '2024-05-01', attempts: 3, correct: 3 },
        { subcategory: 'algebra', date: '2024-05-05', attempts: 0, correct: 0 },
      ]),
    ).toEqual([
      { subcategory: 'decimals', firstDate: '2024-05-02', lastDate: '2024-05-04', ratio: null },
      { subcategory: 'ratios', firstDate: '2024-05-01', lastDate: '2024-05-06', ratio: 0.8 },
    ]);
  });

  test('two rows on the same day are one day', () => {
    expect(
      conceptRetention([
        { subcategory: 'fractions', date: '2024-05-01', attempts: 2, correct: 1 },
        { subcategory: 'fractions', date: '2024-05-01', attempts: 2, correct: 2 },
      ]),
    ).toEqual([]);
  });

  test('zero accuracy on the last day gives ratio 0', () => {
    expect(
      conceptRetention([
        { subcategory: 'fractions', date: '2024-05-01', attempts: 2, correct: 1 },
        { subcategory: 'fractions', date: '2024-05-02', attempts: 3, correct: 0 },
      ]),
    ).toEqual([{ subcategory: 'fractions', firstDate: '2024-05-01', lastDate: '2024-05-02', ratio: 0 }]);
  });
});
