// The live learner model (issue 11): prediction and update worked by hand, the nightly refits, and
// the properties the product relies on.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  addPracticeEvidence,
  answerAfter,
  calibratedLogit,
  calibrationIncreases,
  defaultLearnerModelParameters,
  emptyPracticeAggregate,
  estimate,
  type LearnerAbility,
  type LearnerModelParameters,
  newLearnerAbility,
  newSubcategoryPrior,
  practicePrior,
  predictCorrect,
  type QuestionParameters,
  questionPrior,
  refitPracticeOffsets,
  refitQuestionParameters,
  refitSubcategoryPrior,
  type SkillState,
  updateAfterAttempt,
} from '../../src/domain/learner-model.ts';

const hour = 3_600_000;
const T0 = Date.parse('2025-03-01T09:00:00Z');
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

const params: LearnerModelParameters = {
  ...defaultLearnerModelParameters,
  abilityK: 0.4,
  abilityKDecay: 0.5,
  skillK: 0.8,
  skillKDecay: 1,
  forgettingRate: 0.1,
  forgettingScaleHours: 1,
  bandOffset: { EASY: -1, MEDIUM: 0, HARD: 1 },
  questionPriorInformation: 4,
  subcategoryPriorAttempts: 10,
  successWeight: 0,
  failureWeight: 0,
  repeatWeight: 0,
  repeatHalfLifeHours: 24,
  shortRepeatWeight: 0,
  shortRepeatHalfLifeHours: 0.1,
  itemSuccessWeight: 0,
  itemFailureWeight: 0,
  recentWeight: 0,
  learnerRecentWeight: 0,
  recentRate: 0.5,
  learnerRecentRate: 0.25,
  recentWeightK: 0,
  questionUncertainty: 0,
  calibrationSlope: 1,
  calibrationIntercept: 0,
};
const subcategory = newSubcategoryPrior();
const medium: QuestionParameters = { difficulty: 0, attempts: 0, information: 4 };

describe('prediction and update by hand', () => {
  test('a new learner on a new question of a new subcategory: P = σ(0) = 0.5', () => {
    expect(predictCorrect(params, newLearnerAbility(), null, medium, subcategory, T0)).toBe(0.5);
  });

  test('a correct answer moves the ability by K_θ(0)·(1 − P) and the offset by K_δ(0)·(1 − P)', () => {
    const first = updateAfterAttempt(params, newLearnerAbility(), null, medium, subcategory, 1, T0);
    expect(first.predicted).toBe(0.5);
    // The recency-weighted success rates move from 0.5 by their rates (0.25 and 0.5) toward the credit.
    expect(first.learner).toEqual({ theta: 0.4 * 0.5, attempts: 1, recent: 0.625, recentWeightOffset: 0 });
    expect(first.skill).toEqual({ theta: 0.8 * 0.5, attempts: 1, creditSum: 1, recent: 0.75, lastAttemptAt: T0 });
    // 30 s later: z = 0.2 + 0.4 − 0 − 0.1·log2(1 + 1/120).
    const z = 0.6 - 0.1 * Math.log2(1 + 30_000 / hour);
    const next = predictCorrect(params, first.learner, first.skill, medium, subcategory, T0 + 30_000);
    expect(next).toBeCloseTo(sigmoid(z), 12);
    // A wrong answer then: surprise −P, steps K_θ(1) = 0.4/1.5 and K_δ(1) = 0.8/2.
    const second = updateAfterAttempt(params, first.learner, first.skill, medium, subcategory, 0, T0 + 30_000);
    expect(second.predicted).toBeCloseTo(sigmoid(z), 12);
    expect(second.learner.theta).toBeCloseTo(0.2 - (0.4 / 1.5) * sigmoid(z), 12);
    expect(second.skill.theta).toBeCloseTo(0.4 - 0.4 * sigmoid(z), 12);
    expect(second.skill.creditSum).toBe(1);
  });

  test('a hinted correct answer earns half: at P = 0.5 it changes nothing but the counts', () => {
    const hinted = updateAfterAttempt(params, newLearnerAbility(), null, medium, subcategory, 0.5, T0);
    expect(hinted.learner.theta).toBe(0);
    expect(hinted.skill.theta).toBe(0);
    expect(hinted.skill.creditSum).toBe(0.5);
  });

  test('forgetting: three idle hours cost 0.1·log2(1 + 3) = 0.2 of logit', () => {
    const learner: LearnerAbility = { ...newLearnerAbility(), theta: 1, attempts: 10 };
    const skill: SkillState = { theta: 0.5, attempts: 5, creditSum: 4, recent: 0.5, lastAttemptAt: T0 };
    expect(predictCorrect(params, learner, skill, medium, subcategory, T0 + 3 * hour)).toBeCloseTo(sigmoid(1.3), 12);
  });

  test('a subcategory new to a known learner borrows their global ability', () => {
    const learner: LearnerAbility = { ...newLearnerAbility(), theta: 1.2, attempts: 50 };
    expect(estimate(params, learner, null, subcategory, T0)).toBeCloseTo(sigmoid(1.2), 12);
  });

  test('PFA terms: + successWeight·ln(1 + successes) + failureWeight·ln(1 + failures), in credits', () => {
    const pfa = { ...params, successWeight: 0.3, failureWeight: -0.2, forgettingRate: 0 };
    const skill: SkillState = { theta: 0, attempts: 6, creditSum: 3.5, recent: 0.5, lastAttemptAt: T0 };
    const z = 0.3 * Math.log(4.5) - 0.2 * Math.log(3.5);
    expect(predictCorrect(pfa, newLearnerAbility(), skill, medium, subcategory, T0)).toBeCloseTo(sigmoid(z), 12);
  });

  test("the learner's own recency weight: in every subcategory, moved by K·(c − P)·(2r − 1)", () => {
    const own = { ...params, recentWeight: 0.3, recentWeightK: 0.2, forgettingRate: 0, skillK: 0, abilityK: 0 };
    const skill: SkillState = { theta: 0, attempts: 4, creditSum: 3, recent: 0.75, lastAttemptAt: T0 };
    const learner: LearnerAbility = { theta: 0, attempts: 4, recent: 0.5, recentWeightOffset: 0.1 };
    // z = (0.3 + 0.1)·(2·0.75 − 1): the offset adds to the global weight.
    const p = predictCorrect(own, learner, skill, medium, subcategory, T0);
    expect(p).toBeCloseTo(sigmoid(0.4 * 0.5), 12);
    const right = updateAfterAttempt(own, learner, skill, medium, subcategory, 1, T0);
    expect(right.learner.recentWeightOffset).toBeCloseTo(0.1 + 0.2 * (1 - p) * 0.5, 12);
    const wrong = updateAfterAttempt(own, learner, skill, medium, subcategory, 0, T0);
    expect(wrong.learner.recentWeightOffset).toBeCloseTo(0.1 - 0.2 * p * 0.5, 12);
    // A first attempt in a subcategory (no recent answers there) says nothing about it.
    expect(updateAfterAttempt(own, learner, null, medium, subcategory, 1, T0).learner.recentWeightOffset).toBe(0.1);
    // However low the offset, the weight stays ≥ 0: a right answer never counts against the learner.
    const far: LearnerAbility = { ...learner, recentWeightOffset: -5 };
    expect(predictCorrect(own, far, skill, medium, subcategory, T0)).toBe(0.5);
  });

  test('the previous answer to the same question: ± repeatWeight, halving every repeatHalfLifeHours', () => {
    const repeat = { ...params, repeatWeight: 2, repeatHalfLifeHours: 10 };
    const learner = newLearnerAbility();
    const wrongJustNow = { credit: 0, atMs: T0, attempts: 1, creditSum: 0 };
    expect(predictCorrect(repeat, learner, null, medium, subcategory, T0, wrongJustNow)).toBeCloseTo(sigmoid(-2), 12);
    const rightTenHoursAgo = { credit: 1, atMs: T0 - 10 * hour, attempts: 1, creditSum: 1 };
    expect(predictCorrect(repeat, learner, null, medium, subcategory, T0, rightTenHoursAgo)).toBeCloseTo(
      sigmoid(1),
      12,
    );
    // A hinted one (credit 0.5) says nothing; the update passes it on to its prediction.
    const hinted = { credit: 0.5, atMs: T0, attempts: 1, creditSum: 0.5 };
    expect(predictCorrect(repeat, learner, null, medium, subcategory, T0, hinted)).toBe(0.5);
    const update = updateAfterAttempt(repeat, learner, null, medium, subcategory, 1, T0, wrongJustNow);
    expect(update.predicted).toBeCloseTo(sigmoid(-2), 12);
    expect(update.learner.theta).toBeCloseTo(0.4 * (1 - sigmoid(-2)), 12);
  });

  test('two time scales of the previous answer: + shortRepeatWeight, halving every shortRepeatHalfLifeHours', () => {
    const repeat = {
      ...params,
      repeatWeight: 0.5,
      repeatHalfLifeHours: 48,
      shortRepeatWeight: 3,
      shortRepeatHalfLifeHours: 0.1,
    };
    const learner = newLearnerAbility();
    // Six minutes later the short one has halved, the long one not yet (2^(−0.1/48)).
    const rightSixMinutesAgo = { credit: 1, atMs: T0 - 0.1 * hour, attempts: 1, creditSum: 1 };
    const z = 0.5 * 2 ** (-0.1 / 48) + 1.5;
    expect(predictCorrect(repeat, learner, null, medium, subcategory, T0, rightSixMinutesAgo)).toBeCloseTo(
      sigmoid(z),
      12,
    );
    // A day later the short one is gone: 3·2^(−240) of logit.
    const wrongADayAgo = { credit: 0, atMs: T0 - 24 * hour, attempts: 1, creditSum: 0 };
    expect(predictCorrect(repeat, learner, null, medium, subcategory, T0, wrongADayAgo)).toBeCloseTo(
      sigmoid(-0.5 * 2 ** -0.5),
      12,
    );
  });

  test('item counts: + itemSuccessWeight·ln(1 + successes) + itemFailureWeight·ln(1 + failures) there', () => {
    const item = { ...params, itemSuccessWeight: 0.4, itemFailureWeight: -0.3 };
    const answers = answerAfter(answerAfter(answerAfter(null, 1, T0), 0, T0), 0.5, T0 + hour);
    expect(answers).toEqual({ credit: 0.5, atMs: T0 + hour, attempts: 3, creditSum: 1.5 });
    const z = 0.4 * Math.log(2.5) - 0.3 * Math.log(2.5);
    const p = predictCorrect(item, newLearnerAbility(), null, medium, subcategory, T0 + hour, answers);
    expect(p).toBeCloseTo(sigmoid(z), 12);
  });

  test('R-PFA: + recentWeight·(2·r − 1) in the subcategory and learnerRecentWeight·(2·r − 1) overall', () => {
    const recent = { ...params, recentWeight: 0.6, learnerRecentWeight: 0.2, forgettingRate: 0 };
    const learner: LearnerAbility = { ...newLearnerAbility(), attempts: 4, recent: 0.9 };
    const skill: SkillState = { theta: 0, attempts: 2, creditSum: 0, recent: 0.25, lastAttemptAt: T0 };
    const z = 0.6 * (0.5 - 1) + 0.2 * (1.8 - 1);
    expect(predictCorrect(recent, learner, skill, medium, subcategory, T0)).toBeCloseTo(sigmoid(z), 12);
    const wrong = updateAfterAttempt(recent, learner, skill, medium, subcategory, 0, T0);
    expect(wrong.skill.recent).toBeCloseTo(0.125, 12);
    expect(wrong.learner.recent).toBeCloseTo(0.675, 12);
  });

  test('a question of uncertain difficulty moves the learner less: steps × I / (I + questionUncertainty)', () => {
    const glicko = { ...params, questionUncertainty: 4 };
    const update = updateAfterAttempt(glicko, newLearnerAbility(), null, medium, subcategory, 1, T0);
    // medium's information is 4: half the step.
    expect(update.learner.theta).toBeCloseTo(0.4 * 0.5 * 0.5, 12);
    expect(update.skill.theta).toBeCloseTo(0.8 * 0.5 * 0.5, 12);
  });

  test("a subcategory's own PFA weights: its offsets add to successWeight and failureWeight there", () => {
    const pfa = { ...params, successWeight: 0.3, failureWeight: -0.2, forgettingRate: 0 };
    const skill: SkillState = { theta: 0, attempts: 6, creditSum: 3.5, recent: 0.5, lastAttemptAt: T0 };
    const own = { ...subcategory, successOffset: 0.1, failureOffset: -0.3 };
    const z = 0.4 * Math.log(4.5) - 0.5 * Math.log(3.5);
    expect(predictCorrect(pfa, newLearnerAbility(), skill, medium, own, T0)).toBeCloseTo(sigmoid(z), 12);
    // A success weight never goes below 0 (a correct answer must not lower the estimate).
    const negative = { ...subcategory, successOffset: -0.5, failureOffset: 0 };
    expect(predictCorrect(pfa, newLearnerAbility(), skill, medium, negative, T0)).toBeCloseTo(
      sigmoid(-0.2 * Math.log(3.5)),
      12,
    );
  });

  test('calibration bends: each adds its slope below its knot (−2, −1, 1, 2), the map staying increasing', () => {
    const bent = { ...params, calibrationSlope: 1, calibrationBends: [0.5, 0, 0, -0.4] };
    expect(calibratedLogit(bent, 3)).toBeCloseTo(3, 12);
    expect(calibratedLogit(bent, 1.5)).toBeCloseTo(1.5 - 0.4 * (1.5 - 2), 12);
    expect(calibratedLogit(bent, -3)).toBeCloseTo(-3 - 0.4 * (-3 - 2) + 0.5 * (-3 + 2), 12);
    expect(predictCorrect(bent, { ...newLearnerAbility(), theta: -3 }, null, medium, subcategory, T0)).toBeCloseTo(
      sigmoid(calibratedLogit(bent, -3)),
      12,
    );
    expect(calibrationIncreases(bent)).toBe(true);
    expect(calibrationIncreases({ ...bent, calibrationBends: [0, 0, 0, -1] })).toBe(false);
    expect(calibrationIncreases({ ...bent, calibrationLowSlope: -0.3, calibrationBends: [-0.2, -0.5, 0, -0.1] })).toBe(
      false,
    );
  });

  test('calibration: P = σ(slope·z + lowSlope·min(z, 0) + intercept)', () => {
    const scaled = { ...params, calibrationSlope: 0.8, calibrationIntercept: 0.3, calibrationLowSlope: -0.2 };
    const learner: LearnerAbility = { ...newLearnerAbility(), theta: 1, attempts: 3 };
    expect(predictCorrect(scaled, learner, null, medium, subcategory, T0)).toBeCloseTo(sigmoid(0.8 + 0.3), 12);
    const weak: LearnerAbility = { ...newLearnerAbility(), theta: -1, attempts: 3 };
    expect(predictCorrect(scaled, weak, null, medium, subcategory, T0)).toBeCloseTo(sigmoid(-0.8 + 0.2 + 0.3), 12);
  });

  test('a question without data starts at its subcategory difficulty plus its band offset', () => {
    const prior = { ...newSubcategoryPrior(), difficulty: 0.3, attempts: 100 };
    expect(questionPrior(params, 'HARD', prior)).toEqual({ difficulty: 1.3, attempts: 0, information: 4 });
    expect(questionPrior(params, 'EASY', prior).difficulty).toBeCloseTo(-0.7, 12);
  });
});

describe('nightly refits', () => {
  test('question: one Newton step, the stored information as the prior', () => {
    // 10 attempts predicted at 0.5 each (Σp = 5, Σp(1−p) = 2.5), 8 credits earned: easier than thought.
    const refit = refitQuestionParameters(params, medium, {
      attempts: 10,
      creditSum: 8,
      predictedSum: 5,
      predictedVarianceSum: 2.5,
    });
    expect(refit.information).toBe(6.5);
    expect(refit.difficulty).toBeCloseTo((5 - 8) / 6.5, 12);
    expect(refit.attempts).toBe(10);
    // A night without attempts changes nothing.
    const none = { attempts: 0, creditSum: 0, predictedSum: 0, predictedVarianceSum: 0 };
    expect(refitQuestionParameters(params, refit, none)).toBe(refit);
  });

  test('subcategory PFA offsets: one Newton step in two dimensions, the stored information as the prior', () => {
    const start = practicePrior(params);
    expect(start).toEqual({ successOffset: 0, failureOffset: 0, information: [20, 0, 20] });
    // Two attempts by hand: features (ln 2, 0) predicted 0.5, earned 1; (ln 3, ln 2) predicted 0.8, earned 0.
    const night = emptyPracticeAggregate();
    const one: SkillState = { theta: 0, attempts: 1, creditSum: 1, recent: 0.5, lastAttemptAt: T0 };
    const two: SkillState = { theta: 0, attempts: 3, creditSum: 2, recent: 0.5, lastAttemptAt: T0 };
    addPracticeEvidence(night, params, one, 0.5, 1);
    addPracticeEvidence(night, params, two, 0.8, 0);
    const [a1, b1, a2, b2] = [Math.log(2), 0, Math.log(3), Math.log(2)];
    expect(night.successGradient).toBeCloseTo(-0.5 * a1 + 0.8 * a2, 12);
    expect(night.failureGradient).toBeCloseTo(-0.5 * b1 + 0.8 * b2, 12);
    expect(night.successSuccess).toBeCloseTo(0.25 * a1 * a1 + 0.16 * a2 * a2, 12);
    expect(night.successFailure).toBeCloseTo(0.16 * a2 * b2, 12);
    expect(night.failureFailure).toBeCloseTo(0.16 * b2 * b2, 12);
    const next = refitPracticeOffsets(start, night);
    const [ss, sf, ff] = [20 + night.successSuccess, night.successFailure, 20 + night.failureFailure];
    expect(next.information).toEqual([ss, sf, ff]);
    // offsets' = −H⁻¹·g, H = [[ss, sf], [sf, ff]]
    const det = ss * ff - sf * sf;
    expect(next.successOffset).toBeCloseTo(-(ff * night.successGradient - sf * night.failureGradient) / det, 12);
    expect(next.failureOffset).toBeCloseTo(-(ss * night.failureGradient - sf * night.successGradient) / det, 12);
    // Wrong more than predicted with failures behind: failures weigh more negatively here.
    expect(next.failureOffset).toBeLessThan(0);
  });

  test('subcategory: attempt-weighted mean difficulty of its questions, shrunk toward 0', () => {
    // Questions of difficulty 1 (30 attempts) and −1 (10 attempts): (30 − 10) / (40 + 10).
    expect(refitSubcategoryPrior(params, { attempts: 40, weightedDifficultySum: 20 })).toEqual({
      difficulty: 0.4,
      attempts: 40,
    });
  });
});

const finite = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
const arbitraryParams = fc.record({
  successWeight: finite(0, 1),
  failureWeight: finite(-1, 1),
  repeatWeight: finite(0, 3),
  repeatHalfLifeHours: finite(0.1, 1000),
  shortRepeatWeight: finite(0, 6),
  shortRepeatHalfLifeHours: finite(0.001, 10),
  abilityK: finite(0, 2),
  abilityKDecay: finite(0, 1),
  skillK: finite(0, 2),
  skillKDecay: finite(0, 1),
  forgettingRate: finite(0, 1),
  forgettingScaleHours: finite(0.01, 1000),
  calibrationSlope: finite(0.1, 3),
  calibrationIntercept: finite(-2, 2),
  calibrationLowSlope: finite(-0.09, 2),
  itemSuccessWeight: finite(-1, 1),
  itemFailureWeight: finite(-1, 1),
  recentWeight: finite(0, 2),
  recentRate: finite(0, 1),
  learnerRecentWeight: finite(0, 2),
  learnerRecentRate: finite(0, 1),
  recentWeightK: finite(0, 1),
  questionUncertainty: finite(0, 20),
  // Bends that add slope below their knots keep every piece rising whatever the others are.
  calibrationBends: fc.tuple(finite(0, 1), finite(0, 1), finite(0, 1), finite(0, 1)),
});
const arbitraryLearner = fc.record({
  theta: finite(-6, 6),
  attempts: fc.nat(1000),
  recent: finite(0, 1),
  recentWeightOffset: finite(-1, 1),
});
const arbitrarySkill = fc.option(
  fc.record({
    theta: finite(-6, 6),
    attempts: fc.nat(500),
    creditSum: finite(0, 500),
    recent: finite(0, 1),
    lastAttemptAt: fc.option(fc.integer({ min: T0 - 1000 * hour, max: T0 }), { nil: null }),
  }),
  { nil: null },
);
const arbitraryQuestion = fc.record({
  difficulty: finite(-6, 6),
  attempts: fc.nat(1000),
  information: finite(0.1, 100),
});
const arbitrarySubcategory = fc.record({
  difficulty: finite(-4, 4),
  attempts: fc.nat(1000),
  successOffset: finite(-1, 1),
  failureOffset: finite(-1, 1),
});

/** One model call's inputs, the parameters drawn over their whole range. */
const arbitraryCase = fc.record({
  params: arbitraryParams.map((p) => ({ ...params, ...p })),
  learner: arbitraryLearner,
  skill: arbitrarySkill,
  question: arbitraryQuestion,
  sub: arbitrarySubcategory,
});

/** Whether two JSON-shaped values hold the same numbers (0 and −0 being one). */
function sameNumbers(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  const keys = Object.keys(b as object);
  return (
    keys.length === Object.keys(a as object).length &&
    keys.every((k) => sameNumbers((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

describe('properties', () => {
  test('predictions are in (0, 1) and do not depend on the answer', () => {
    const previous = fc.option(
      fc.record({
        credit: fc.constantFrom(0, 0.5, 1),
        atMs: fc.constant(T0),
        attempts: fc.integer({ min: 1, max: 50 }),
        creditSum: finite(0, 1),
      }),
      { nil: null },
    );
    fc.assert(
      fc.property(arbitraryCase, fc.integer({ min: 0, max: 1000 * hour }), previous, (c, later, before) => {
        const at = T0 + later;
        const predicted = predictCorrect(c.params, c.learner, c.skill, c.question, c.sub, at, before);
        expect(predicted).toBeGreaterThan(0);
        expect(predicted).toBeLessThan(1);
        for (const credit of [0, 0.5, 1]) {
          const update = updateAfterAttempt(c.params, c.learner, c.skill, c.question, c.sub, credit, at, before);
          expect(update.predicted).toBe(predicted);
        }
      }),
    );
  });

  test('a correct answer never lowers the estimate', () => {
    fc.assert(
      fc.property(arbitraryCase, (c) => {
        const before = estimate(c.params, c.learner, c.skill, c.sub, T0);
        const after = updateAfterAttempt(c.params, c.learner, c.skill, c.question, c.sub, 1, T0);
        expect(estimate(c.params, after.learner, after.skill, c.sub, T0)).toBeGreaterThanOrEqual(before);
      }),
    );
  });

  test('more idle time never raises the estimate', () => {
    fc.assert(
      fc.property(arbitraryCase, fc.nat(10_000 * hour), fc.nat(10_000 * hour), (c, idle, more) => {
        const sooner = estimate(c.params, c.learner, c.skill, c.sub, T0 + idle);
        expect(estimate(c.params, c.learner, c.skill, c.sub, T0 + idle + more)).toBeLessThanOrEqual(sooner);
      }),
    );
  });

  test('the update is deterministic: the same inputs give the same outputs (a retry changes nothing)', () => {
    fc.assert(
      fc.property(arbitraryCase, fc.constantFrom(0, 0.5, 1), (c, credit) => {
        const once = updateAfterAttempt(c.params, c.learner, c.skill, c.question, c.sub, credit, T0);
        expect(updateAfterAttempt(c.params, c.learner, c.skill, c.question, c.sub, credit, T0)).toEqual(once);
        // JSON keeps every number (−0 comes back as 0, the same value).
        expect(JSON.stringify(once)).not.toMatch(/null|NaN|Infinity/);
        expect(sameNumbers(JSON.parse(JSON.stringify(once)), once)).toBe(true);
      }),
    );
  });
});
