// SPEC 4.4 — the evaluation's metrics and replays, worked by hand.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { replayElo, replayEwma, scorePredictions } from '../../src/domain/evaluation.ts';
import { decayedScore, masteryDefaults } from '../../src/domain/mastery.ts';
import { logOf } from '../support/attempt-log.ts';

const params = masteryDefaults;
const hour = 3_600_000;
const day = 24 * hour;
const T0 = Date.parse('2025-03-01T00:00:00Z');
/** NIGHTLY runs at 02:00 on the days after T0. */
const runs = [1, 2, 3, 4, 5, 6].map((d) => T0 + d * day + 2 * hour);

const all = (n: number) => new Uint8Array(n).fill(1);

describe('scorePredictions', () => {
  test('AUC, log-loss and RMSE by hand', () => {
    const score = scorePredictions(Float64Array.from([0.9, 0.8, 0.3, 0.6]), Uint8Array.from([1, 0, 0, 1]), all(4));
    // Correct {0.9, 0.6} over wrong {0.8, 0.3}: 0.9>0.8, 0.9>0.3, 0.6>0.3, not 0.6>0.8 → 3 of 4 pairs.
    expect(score.auc).toBe(0.75);
    expect(score.logLoss).toBeCloseTo(-(Math.log(0.9) + Math.log(0.2) + Math.log(0.7) + Math.log(0.6)) / 4, 12);
    expect(score.rmse).toBeCloseTo(Math.sqrt((0.01 + 0.64 + 0.09 + 0.16) / 4), 12);
    expect(score.attempts).toBe(4);
  });

  test('ties count half; one outcome only has no AUC; certain mistakes are clipped, not infinite', () => {
    expect(scorePredictions(Float64Array.from([0.5, 0.5, 0.5]), Uint8Array.from([1, 0, 1]), all(3)).auc).toBe(0.5);
    expect(scorePredictions(Float64Array.from([0.2, 0.7]), Uint8Array.from([1, 1]), all(2)).auc).toBeNull();
    const certain = scorePredictions(Float64Array.from([0, 1]), Uint8Array.from([1, 0]), all(2));
    expect(certain.logLoss).toBeCloseTo(-Math.log(1e-6), 9);
    expect(certain.auc).toBe(0);
  });

  test('only included attempts with a prediction count; the calibration bins them by prediction', () => {
    const predictions = Float64Array.from([0.05, 0.15, 0.18, Number.NaN, 0.95, 1, 0.5]);
    const outcomes = Uint8Array.from([0, 1, 0, 1, 1, 1, 1]);
    const score = scorePredictions(predictions, outcomes, Uint8Array.from([1, 1, 1, 1, 1, 1, 0]));
    expect(score.attempts).toBe(5);
    expect(score.calibration).toHaveLength(10);
    expect(score.calibration[0]).toMatchObject({ from: 0, to: 0.1, attempts: 1, observedAccuracy: 0 });
    expect(score.calibration[1]!.attempts).toBe(2);
    expect(score.calibration[1]!.meanPredicted).toBeCloseTo(0.165, 12);
    expect(score.calibration[1]!.observedAccuracy).toBe(0.5);
    expect(score.calibration[5]).toMatchObject({ attempts: 0, meanPredicted: null, observedAccuracy: null });
    expect(score.calibration[9]).toMatchObject({ attempts: 2, observedAccuracy: 1 }); // 1 falls in the last bin
  });

  test('AUC equals the share of (correct, wrong) pairs ranked right, ties half (any predictions)', () => {
    const attempts = fc.array(fc.record({ p: fc.integer({ min: 0, max: 10 }).map((k) => k / 10), y: fc.boolean() }), {
      maxLength: 60,
    });
    fc.assert(
      fc.property(attempts, (list) => {
        const score = scorePredictions(
          Float64Array.from(list.map((a) => a.p)),
          Uint8Array.from(list.map((a) => (a.y ? 1 : 0))),
          all(list.length),
        );
        const correct = list.filter((a) => a.y);
        const wrong = list.filter((a) => !a.y);
        if (correct.length === 0 || wrong.length === 0) return score.auc === null;
        let wins = 0;
        for (const c of correct) for (const w of wrong) wins += c.p > w.p ? 1 : c.p === w.p ? 0.5 : 0;
        return Math.abs(score.auc! - wins / (correct.length * wrong.length)) < 1e-12;
      }),
    );
  });

  test('nothing to score', () => {
    expect(scorePredictions(new Float64Array(0), new Uint8Array(0), new Uint8Array(0))).toMatchObject({
      attempts: 0,
      auc: null,
      logLoss: null,
      rmse: null,
    });
  });
});

describe('replayEwma', () => {
  test('predicts with the last NIGHTLY run’s score, learning from its contexts only, decayed after a break', () => {
    const log = logOf([
      { correct: true, at: T0 + 10 * hour }, // day 0: prior
      { correct: true, hint: true, at: T0 + 11 * hour }, // prior: the run has not happened yet
      { correct: false, teaches: false, at: T0 + 12 * hour }, // a PRACTICE attempt: predicted, not learnt from
      { correct: false, at: runs[0]! }, // recorded at the run's instant: still before it, learnt by it
      { correct: false, at: T0 + day + 10 * hour }, // day 1, after the first run
      { correct: true, at: T0 + 5 * day + 10 * hour }, // day 5, after three days away
    ]);
    const predictions = replayEwma(log, runs, params);
    // Run 1 learns (1 + 0.5 + 0) / 3 = 0.5: 0.6·0.5 + 0.4·0.5 = 0.5.
    const afterRun1 = 0.6 * 0.5 + 0.4 * 0.5;
    // Run 2 learns 0 (the day-1 attempt).
    const afterRun2 = 0.4 * afterRun1;
    // Day 5, 10:00: 96 h after the last attempt (≥ 48 h): decayed over the 80 h since run 2 (day 2, 02:00).
    const returned = decayedScore(afterRun2, 80, params);
    expect([...predictions]).toEqual([0.5, 0.5, 0.5, 0.5, afterRun1, returned]);
  });

  test('each (learner, subcategory) keeps its own score; a learner is not decayed by someone else’s break', () => {
    const log = logOf([
      { learner: 0, pair: 0, correct: true, at: T0 + hour },
      { learner: 0, pair: 1, correct: false, at: T0 + 2 * hour },
      { learner: 1, pair: 2, correct: true, at: T0 + 3 * hour },
      { learner: 0, pair: 0, correct: true, at: T0 + day + 3 * hour },
      { learner: 0, pair: 1, correct: true, at: T0 + day + 4 * hour },
      { learner: 1, pair: 2, correct: true, at: T0 + 4 * day + hour },
    ]);
    const predictions = replayEwma(log, runs, { ...params, alpha: 0.5 });
    expect(predictions[3]).toBe(0.5 * 1 + 0.5 * 0.5);
    expect(predictions[4]).toBe(0.5 * 0 + 0.5 * 0.5);
    // Learner 1: scored 0.75 at run 1 (day 1, 02:00), away 3 days: decayed over 71 h.
    expect(predictions[5]).toBe(decayedScore(0.75, 71, params));
  });

  test('a longer half-life decays less; α = 1 predicts the last run’s performance', () => {
    const log = logOf([
      { correct: true, at: T0 + hour },
      { correct: false, at: T0 + 10 * day },
    ]);
    const [, short] = replayEwma(log, runs, { ...params, alpha: 1, halfLifeHours: 100 });
    const [, long] = replayEwma(log, runs, { ...params, alpha: 1, halfLifeHours: 1000 });
    expect(short).toBeLessThan(long!);
    const [, none] = replayEwma(
      logOf([
        { correct: true, at: T0 + hour },
        { correct: false, at: T0 + day + 3 * hour },
      ]),
      runs,
      { ...params, alpha: 1 },
    );
    expect(none).toBe(1);
  });
});

describe('replayElo', () => {
  test('ratings move by K(n)·(outcome − prediction) after each attempt', () => {
    const log = logOf([
      { correct: true, at: 1 },
      { correct: true, at: 2 },
      { learner: 1, correct: false, at: 3 },
    ]);
    const predictions = replayElo(log, { a: 0.8, b: 0.05 });
    expect(predictions[0]).toBe(0.5);
    // After one correct: ability 0.4, difficulty −0.4.
    expect(predictions[1]).toBeCloseTo(1 / (1 + Math.exp(-0.8)), 15);
    // The second step is K(1) = 0.8 / 1.05 for the question: difficulty −0.4 − (0.8/1.05)(1 − σ(0.8)).
    const difficulty = -0.4 - (0.8 / 1.05) * (1 - 1 / (1 + Math.exp(-0.8)));
    expect(predictions[2]).toBeCloseTo(1 / (1 + Math.exp(difficulty)), 15);
  });
});
