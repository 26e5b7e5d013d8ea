import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { type SessionAttempt, summarizeSession } from '../../src/domain/session-summary.ts';
import { type DifficultyBand, difficultyBands } from '../../src/domain/types.ts';

const attempt = (
  correct: boolean,
  timeSec: number,
  subcategory = 'fractions',
  difficultyBand: DifficultyBand = 'MEDIUM',
): SessionAttempt => ({ correct, timeSec, subcategory, difficultyBand });

const attemptArb: fc.Arbitrary<SessionAttempt> = fc.record({
  correct: fc.boolean(),
  timeSec: fc.integer({ min: 0, max: 600 }),
  subcategory: fc.constantFrom('fractions', 'decimals', 'ratios'),
  difficultyBand: fc.constantFrom(...difficultyBands),
});

describe('summarizeSession', () => {
  test('an empty session has counts of zero and null averages', () => {
    expect(summarizeSession([])).toEqual({
      questionsAttempted: 0,
      questionsCorrect: 0,
      accuracy: null,
      averageTimePerQuestion: null,
      topicsCovered: [],
      difficultyDistribution: { easy: 0, medium: 0, hard: 0 },
    });
  });

  test('a 2-attempt session', () => {
    // 1 of 2 correct → 0.5; (30 + 50) / 2 = 40 s.
    const summary = summarizeSession([attempt(true, 30, 'fractions', 'EASY'), attempt(false, 50, 'geometry', 'HARD')]);
    expect(summary).toEqual({
      questionsAttempted: 2,
      questionsCorrect: 1,
      accuracy: 0.5,
      averageTimePerQuestion: 40,
      topicsCovered: ['fractions', 'geometry'],
      difficultyDistribution: { easy: 1, medium: 0, hard: 1 },
    });
  });

  test('topics keep first-seen order and retries count again', () => {
    // ratios, fractions, ratios (retry), decimals, fractions → 5 attempts, 3 topics.
    // Correct: ✓ ✗ ✓ ✓ ✗ → 3/5 = 0.6; time (10+20+30+40+50)/5 = 30.
    const summary = summarizeSession([
      attempt(true, 10, 'ratios', 'HARD'),
      attempt(false, 20, 'fractions', 'EASY'),
      attempt(true, 30, 'ratios', 'HARD'),
      attempt(true, 40, 'decimals', 'MEDIUM'),
      attempt(false, 50, 'fractions', 'EASY'),
    ]);
    expect(summary.questionsAttempted).toBe(5);
    expect(summary.questionsCorrect).toBe(3);
    expect(summary.accuracy).toBe(0.6);
    expect(summary.averageTimePerQuestion).toBe(30);
    expect(summary.topicsCovered).toEqual(['ratios', 'fractions', 'decimals']);
    expect(summary.difficultyDistribution).toEqual({ easy: 2, medium: 1, hard: 2 });
  });

  test('an all-wrong session has accuracy 0, not null', () => {
    const summary = summarizeSession([attempt(false, 12), attempt(false, 18)]);
    expect(summary.accuracy).toBe(0);
    expect(summary.averageTimePerQuestion).toBe(15);
  });

  describe('properties', () => {
    test('band counts sum to n and questionsAttempted is n', () => {
      fc.assert(
        fc.property(fc.array(attemptArb, { maxLength: 60 }), (attempts) => {
          const { questionsAttempted, difficultyDistribution: d } = summarizeSession(attempts);
          expect(questionsAttempted).toBe(attempts.length);
          expect(d.easy + d.medium + d.hard).toBe(attempts.length);
        }),
      );
    });

    test('accuracy is null iff there are no attempts, otherwise within [0, 1]', () => {
      fc.assert(
        fc.property(fc.array(attemptArb, { maxLength: 60 }), (attempts) => {
          const { accuracy, questionsCorrect } = summarizeSession(attempts);
          expect(questionsCorrect).toBeLessThanOrEqual(attempts.length);
          if (attempts.length === 0) {
            expect(accuracy).toBeNull();
          } else {
            expect(accuracy).not.toBeNull();
            expect(accuracy!).toBeGreaterThanOrEqual(0);
            expect(accuracy!).toBeLessThanOrEqual(1);
          }
        }),
      );
    });

    test('topicsCovered lists each subcategory once', () => {
      fc.assert(
        fc.property(fc.array(attemptArb, { maxLength: 60 }), (attempts) => {
          const { topicsCovered } = summarizeSession(attempts);
          expect(new Set(topicsCovered).size).toBe(topicsCovered.length);
          expect(new Set(topicsCovered)).toEqual(new Set(attempts.map((a) => a.subcategory)));
        }),
      );
    });
  });
});
