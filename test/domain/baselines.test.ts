// Issue 11 — the attempt EWMA and Elo-with-offsets baselines, worked by hand on tiny logs.
import { describe, expect, test } from 'vitest';
import {
  fitAttemptEwma,
  fitEloOffsets,
  replayAttemptEwma,
  replayEloOffsets,
  subcategoryPriors,
} from '../../src/domain/baselines.ts';
import { answeredOrder } from '../../src/domain/learner-model-fit.ts';
import { type Logged, logOf } from '../support/attempt-log.ts';

const σ = (x: number) => 1 / (1 + Math.exp(-x));
const inOrder = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

/**
 * Learner 0 trains (subcategory 0: right, right with a hint, wrong; subcategory 1: right, right);
 * learner 1 is held out (subcategories 0 and 2, the latter none of the training attempts has).
 */
const attempts: Logged[] = [
  { learner: 0, pair: 0, subcategory: 0, correct: true, at: 1 },
  { learner: 0, pair: 0, subcategory: 0, correct: true, hint: true, at: 2 },
  { learner: 0, pair: 0, subcategory: 0, correct: false, at: 3 },
  { learner: 0, pair: 1, subcategory: 1, correct: true, at: 4 },
  { learner: 0, pair: 1, subcategory: 1, correct: true, at: 5 },
  { learner: 1, pair: 2, subcategory: 0, correct: false, at: 6 },
  { learner: 1, pair: 2, subcategory: 0, correct: true, at: 7 },
  { learner: 1, pair: 3, subcategory: 2, correct: false, at: 8 },
];
const training = Uint8Array.from(attempts, (a) => (a.learner === 0 ? 1 : 0));

describe('attempt EWMA', () => {
  test('the prior of a subcategory is its training attempts’ mean credit, else the training mean', () => {
    const priors = subcategoryPriors(logOf(attempts), training);
    // (1 + 0.5 + 0) / 3, (1 + 1) / 2, and subcategory 2 the mean of all five: 3.5 / 5.
    expect([...priors]).toEqual([0.5, 1, 0.7]);
    // No training attempt anywhere: even odds.
    expect([...subcategoryPriors(logOf(attempts), new Uint8Array(attempts.length))]).toEqual([0.5, 0.5, 0.5]);
  });

  test('predicts the pair’s value, then moves it by α(credit − value)', () => {
    const log = logOf(attempts);
    const p = replayAttemptEwma(log, inOrder(log.length), subcategoryPriors(log, training), 0.2);
    const expected = [
      0.5,
      0.5 + 0.2 * (1 - 0.5), // 0.6
      0.6 + 0.2 * (0.5 - 0.6), // 0.58, after the hint's half credit
      1,
      1,
      0.5, // learner 1 starts at subcategory 0's prior, not at learner 0's value
      0.5 + 0.2 * (0 - 0.5), // 0.4
      0.7,
    ];
    for (const [i, value] of expected.entries()) expect(p[i]).toBeCloseTo(value, 15);
  });

  test('a prediction comes before its attempt: another answer changes the later ones only', () => {
    const log = logOf(attempts);
    const flipped = logOf(attempts.map((a, i) => (i === 5 ? { ...a, correct: true } : a)));
    const priors = subcategoryPriors(log, training);
    const p = replayAttemptEwma(log, inOrder(log.length), priors, 0.3);
    const q = replayAttemptEwma(flipped, inOrder(log.length), priors, 0.3);
    expect([...q.subarray(0, 6)]).toEqual([...p.subarray(0, 6)]);
    expect(q[6]).toBeCloseTo(p[6]! + 0.3, 15);
    expect(q[7]).toBe(p[7]);
  });

  test('the replay follows the order given (answeredAt), not the log’s', () => {
    const log = logOf([
      { correct: false, at: 1, answeredAt: 2 },
      { correct: true, at: 2, answeredAt: 1 },
    ]);
    const p = replayAttemptEwma(log, answeredOrder(log), Float64Array.from([0.5]), 0.5);
    expect([...p]).toEqual([0.75, 0.5]);
  });

  test('the tuner takes the α with the lowest log-loss on the training learners', () => {
    // Training learners alternate long runs of right and wrong answers: a fast EWMA follows them.
    const runs = (learner: number, n: number): Logged[] =>
      Array.from({ length: n }, (_, t) => ({ learner, pair: learner, correct: Math.floor(t / 20) % 2 === 0, at: t }));
    const log = logOf([...runs(0, 80), ...runs(1, 80), ...runs(2, 80)]);
    const trainingAttempts = Uint8Array.from(log.learner, (l) => (l < 2 ? 1 : 0));
    const fit = fitAttemptEwma(log, inOrder(log.length), trainingAttempts, [0.05, 0.5]);
    expect(fit.alpha).toBe(0.5);
    // The held-out learner is predicted with the chosen α from the training prior (0.5 here).
    expect([...fit.predictions]).toEqual([
      ...replayAttemptEwma(log, inOrder(log.length), Float64Array.from([0.5]), 0.5),
    ]);
    // An answer that never repeats itself for long: the slow EWMA wins.
    const noisy = logOf(
      Array.from({ length: 96 }, (_, t) => ({ learner: t % 2, pair: t % 2, correct: (t >> 1) % 2 === 0, at: t })),
    );
    expect(fitAttemptEwma(noisy, inOrder(96), new Uint8Array(96).fill(1), [0.05, 0.5]).alpha).toBe(0.05);
  });
});

describe('Elo with offsets', () => {
  const params = { ability: { a: 0.8, k: 0.1 }, offset: { a: 0.4, k: 0.5 }, difficulty: { a: 0.6, k: 0.2 } };

  test('P = σ(θ + δ − b); each rating moves by its own K(n)·(credit − P)', () => {
    const log = logOf([
      { learner: 0, pair: 0, question: 0, correct: true, at: 1 },
      { learner: 0, pair: 1, question: 1, correct: false, at: 2 },
      { learner: 1, pair: 2, question: 0, correct: true, at: 3 },
      { learner: 0, pair: 0, question: 0, correct: true, hint: true, at: 4 },
    ]);
    const p = replayEloOffsets(log, inOrder(4), params);
    expect(p[0]).toBe(0.5);
    // After the first: θ0 = 0.8·0.5 = 0.4, δ0 = 0.4·0.5 = 0.2, b0 = −0.6·0.5 = −0.3.
    // Learner 0 in another subcategory, on a new question: only θ0 counts.
    expect(p[1]).toBeCloseTo(σ(0.4), 15);
    const theta = 0.4 + (0.8 / 1.1) * (0 - σ(0.4)); // learner 0's second step: K = 0.8 / (1 + 0.1·1)
    // Learner 1 meets question 0: b0 = −0.3, their own θ and δ 0.
    expect(p[2]).toBeCloseTo(σ(0.3), 15);
    const b0 = -0.3 - (0.6 / 1.2) * (1 - σ(0.3)); // question 0's second step: K = 0.6 / (1 + 0.2·1)
    // Learner 0 back in subcategory 0: δ0 still 0.2 (pair 0 has had one attempt).
    expect(p[3]).toBeCloseTo(σ(theta + 0.2 - b0), 15);
  });

  test('the credit is the outcome the ratings learn from: a hinted right answer counts half', () => {
    const hinted = logOf([
      { correct: true, hint: true, at: 1 },
      { correct: true, at: 2 },
    ]);
    // s = 0.5 − 0.5 = 0: nothing moves.
    expect([...replayEloOffsets(hinted, inOrder(2), params)]).toEqual([0.5, 0.5]);
  });

  test('attempts left out of the replay are not predicted and move no rating', () => {
    const log = logOf([
      { learner: 0, pair: 0, correct: true, at: 1 },
      { learner: 1, pair: 1, correct: false, at: 2 },
      { learner: 1, pair: 1, correct: false, at: 3 },
    ]);
    const p = replayEloOffsets(log, inOrder(3), params, Uint8Array.from([0, 1, 1]));
    expect(p[0]).toBeNaN();
    expect(p[1]).toBe(0.5);
  });

  test('the search lowers the training log-loss and never looks at held-out answers', () => {
    // Four training learners of different abilities on six questions of different difficulties.
    const log: Logged[] = [];
    for (let round = 0; round < 6; round++)
      for (let learner = 0; learner < 5; learner++)
        for (let question = 0; question < 6; question++)
          log.push({
            learner,
            pair: learner * 2 + (question % 2),
            question,
            correct: (learner + round + question * 3) % 7 < learner + 2,
            at: log.length,
          });
    const trainingAttempts = Uint8Array.from(log, (a) => (a.learner! < 4 ? 1 : 0));
    const order = inOrder(log.length);
    const fitted = fitEloOffsets(logOf(log), order, trainingAttempts, params);
    expect(fitted).not.toEqual(params);
    const loss = (p: typeof params) => {
      const predicted = replayEloOffsets(logOf(log), order, p, trainingAttempts);
      let sum = 0;
      log.forEach((a, i) => {
        if (trainingAttempts[i]) sum -= Math.log(a.correct ? predicted[i]! : 1 - predicted[i]!);
      });
      return sum;
    };
    expect(loss(fitted)).toBeLessThan(loss(params));
    const heldOutFlipped = log.map((a) => (a.learner === 4 ? { ...a, correct: !a.correct } : a));
    expect(fitEloOffsets(logOf(heldOutFlipped), order, trainingAttempts, params)).toEqual(fitted);
  });
});
