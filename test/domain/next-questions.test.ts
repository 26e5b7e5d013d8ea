// pickNextQuestions (src/domain/next-questions.ts) by hand and by property.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  nextQuestionsDefaults,
  pickNextQuestions,
  type QuestionCandidate,
  type SubcategoryDecay,
} from '../../src/domain/next-questions.ts';

const now = new Date('2025-03-14T18:30:00Z');
const params = { ...nextQuestionsDefaults, targetSuccess: 0.75 };
const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);
const candidate = (
  questionId: string,
  subcategory: string,
  predictedCorrect: number,
  lastAnsweredAt: Date | null = null,
): QuestionCandidate => ({ questionId, subcategory, predictedCorrect, lastAnsweredAt });

describe('pickNextQuestions by hand', () => {
  const bank = [
    candidate('a1', 'Algebra', 0.74),
    candidate('a2', 'Algebra', 0.9),
    candidate('a3', 'Algebra', 0.76, hoursAgo(1)),
    candidate('g1', 'Geometry', 0.5),
    candidate('g2', 'Geometry', 0.7),
    candidate('p1', 'Probability', 0.3, hoursAgo(48)),
  ];

  test('nearest the target first, subcategories taking turns, the recently answered last', () => {
    const picks = pickNextQuestions(bank, [], 6, now, params);
    expect(picks.map((p) => p.questionId)).toEqual(['a1', 'g2', 'p1', 'a2', 'g1', 'a3']);
    expect(picks[0]!.reason).toBe('predicted 74% against the target 75%; new to you');
    expect(picks[2]!.reason).toBe('predicted 30% against the target 75%');
    expect(picks[5]!.reason).toMatch(/answered recently, nothing fresher left in Algebra$/);
  });

  test('a decayed subcategory is reviewed first; a barely decayed one is not', () => {
    const decays: SubcategoryDecay[] = [
      { subcategory: 'Probability', estimateAtPractice: 0.8, estimateNow: 0.6 },
      { subcategory: 'Geometry', estimateAtPractice: 0.7, estimateNow: 0.68 },
    ];
    const picks = pickNextQuestions(bank, decays, 3, now, params);
    expect(picks.map((p) => p.questionId)).toEqual(['p1', 'a1', 'g2']);
    expect(picks[0]!.reason).toBe('review: estimate fell from 80% to 60%');
  });

  test('the target is honoured; fewer candidates than asked gives them all; bad arguments are refused', () => {
    expect(pickNextQuestions(bank, [], 1, now, { ...params, targetSuccess: 0.5 })[0]!.questionId).toBe('g1');
    expect(pickNextQuestions(bank, [], 50, now, params)).toHaveLength(6);
    expect(pickNextQuestions([], [], 5, now, params)).toEqual([]);
    expect(() => pickNextQuestions(bank, [], -1, now, params)).toThrow(RangeError);
    expect(() => pickNextQuestions(bank, [], 1, now, { ...params, targetSuccess: 1 })).toThrow(RangeError);
  });
});

describe('pickNextQuestions: properties', () => {
  const subcategory = fc.constantFrom('Algebra', 'Geometry', 'Probability');
  const bankArb = fc.uniqueArray(
    fc.record({
      questionId: fc.string({ minLength: 1, maxLength: 4 }),
      subcategory,
      predictedCorrect: fc.double({ min: 0.01, max: 0.99, noNaN: true }),
      lastAnsweredAt: fc.option(fc.integer({ min: 0, max: 96 }).map(hoursAgo), { nil: null }),
    }),
    { selector: (c) => c.questionId, maxLength: 30 },
  );
  const decaysArb = fc.uniqueArray(
    fc.record({
      subcategory,
      estimateAtPractice: fc.double({ min: 0, max: 1, noNaN: true }),
      estimateNow: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
    { selector: (d) => d.subcategory },
  );

  test('deterministic in any input order; distinct; at most count; subcategories take turns', () => {
    fc.assert(
      fc.property(
        bankArb.chain((bank) => fc.tuple(fc.constant(bank), fc.shuffledSubarray(bank, { minLength: bank.length }))),
        decaysArb,
        fc.integer({ min: 1, max: 50 }),
        ([bank, shuffled], decays, count) => {
          const picks = pickNextQuestions(bank, decays, count, now, params);
          expect(pickNextQuestions(shuffled, [...decays].reverse(), count, now, params)).toEqual(picks);
          expect(picks).toHaveLength(Math.min(count, bank.length));
          expect(new Set(picks.map((p) => p.questionId)).size).toBe(picks.length);
          const reviews = picks.filter((p) => p.reason.startsWith('review')).length;
          // After the reviews, subcategories take turns: the counts never differ by more than one
          // while every subcategory still has questions left.
          const left = new Map<string, number>();
          for (const c of bank) left.set(c.subcategory, (left.get(c.subcategory) ?? 0) + 1);
          const taken = new Map<string, number>();
          for (const pick of picks.slice(0, reviews)) taken.set(pick.subcategory, 1);
          for (const pick of picks.slice(reviews)) {
            const mine = taken.get(pick.subcategory) ?? 0;
            for (const [other, total] of left) {
              if (other !== pick.subcategory && (taken.get(other) ?? 0) < total) {
                expect(mine).toBeLessThanOrEqual(taken.get(other) ?? 0);
              }
            }
            taken.set(pick.subcategory, mine + 1);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
