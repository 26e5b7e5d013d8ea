// Replaying and fitting the live model on a log: the replay is the model's own update applied in
// answeredAt order, the held-out split is deterministic, and the fit learns what generated the data.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { learnerShare } from '../../src/domain/evaluation.ts';
import {
  calibratedLogit,
  calibrationIncreases,
  defaultLearnerModelParameters,
  newLearnerAbility,
  newSubcategoryPrior,
  predictCorrect,
  questionPrior,
  refitQuestionParameters,
  updateAfterAttempt,
} from '../../src/domain/learner-model.ts';
import {
  answeredOrder,
  attemptsOf,
  fitCalibration,
  fitLearnerModel,
  fitTables,
  logLossOf,
  priorTables,
  replayLearnerModel,
  replayWithNightlyRefits,
} from '../../src/domain/learner-model-fit.ts';
import { type Logged, logOf } from '../support/attempt-log.ts';

const params = { ...defaultLearnerModelParameters, repeatWeight: 1 };
const hour = 3_600_000;

describe('the held-out split', () => {
  test('a learner’s share is deterministic, uniform, and another salt is another split', () => {
    const ids = Array.from({ length: 10_000 }, (_, k) => `learner-${k}`);
    const shares = ids.map((id) => learnerShare(id));
    expect(ids.map((id) => learnerShare(id))).toEqual(shares);
    const training = shares.filter((s) => s < 0.8).length;
    expect(training).toBeGreaterThan(7800);
    expect(training).toBeLessThan(8200);
    const salted = ids.map((id) => learnerShare(id, 'tune'));
    const both = shares.filter((s, k) => s < 0.5 && salted[k]! < 0.5).length;
    expect(both).toBeGreaterThan(2300); // independent halves: about a quarter
    expect(both).toBeLessThan(2700);
  });
});

describe('replayLearnerModel', () => {
  test('applies updateAfterAttempt to each included attempt in answeredAt order', () => {
    // Recorded in one order, answered in another (an offline app syncing late).
    const log = logOf([
      { learner: 0, pair: 0, question: 0, correct: true, at: 10 * hour, answeredAt: 3 * hour },
      { learner: 0, pair: 0, question: 1, correct: false, at: 11 * hour, answeredAt: 1 * hour },
      { learner: 1, pair: 1, question: 0, correct: true, at: 12 * hour },
      { learner: 0, pair: 0, question: 1, correct: true, hint: true, at: 13 * hour, answeredAt: 2 * hour },
    ]);
    const order = answeredOrder(log);
    expect([...order]).toEqual([1, 3, 0, 2]);
    const tables = priorTables(log, params);
    const include = Uint8Array.from([1, 1, 0, 1]); // learner 1 left out
    const predictions = replayLearnerModel(log, order, include, params, tables);
    const sub = tables.subcategories[0]!;
    const q0 = questionPrior(params, 'MEDIUM', newSubcategoryPrior());
    const first = updateAfterAttempt(params, newLearnerAbility(), null, q0, sub, 0, 1 * hour);
    const second = updateAfterAttempt(params, first.learner, first.skill, q0, sub, 0.5, 2 * hour, {
      credit: 0,
      atMs: 1 * hour,
      attempts: 1,
      creditSum: 0,
    });
    const third = updateAfterAttempt(params, second.learner, second.skill, q0, sub, 1, 3 * hour);
    expect(predictions[1]).toBe(first.predicted);
    expect(predictions[3]).toBe(second.predicted);
    expect(predictions[0]).toBe(third.predicted);
    expect(predictions[2]).toBeNaN();
  });
});

describe('replayWithNightlyRefits', () => {
  const day = 24 * hour;
  const start = Date.UTC(2025, 0, 1);
  /** NIGHTLY at 02:00 each day. */
  const slots = Array.from({ length: 10 }, (_, d) => start + d * day + 2 * hour);

  test('a question only held-out learners answer leaves its prior after the night of its first answer', () => {
    // Learner 0 (training) answers question 0; learners 1 and 2 (held out) alone answer question 1.
    const log = logOf([
      { learner: 0, pair: 0, question: 0, subcategory: 0, correct: true, at: start + 9 * hour },
      { learner: 1, pair: 1, question: 1, subcategory: 1, correct: false, at: start + 10 * hour },
      { learner: 2, pair: 2, question: 1, subcategory: 1, correct: false, at: start + 11 * hour },
      { learner: 2, pair: 2, question: 1, subcategory: 1, correct: false, at: start + day + 10 * hour },
    ]);
    const order = answeredOrder(log);
    const everyone = new Uint8Array(log.length).fill(1);
    const predictions = replayWithNightlyRefits(log, order, everyone, params, slots);
    const fixed = replayLearnerModel(log, order, everyone, params, priorTables(log, params));
    // The day's answers all see the priors: nothing was refitted before the first night.
    expect([...predictions.subarray(0, 3)]).toEqual([...fixed.subarray(0, 3)]);
    // The night refits question 1 from its two wrong answers as NIGHTLY does; learner 2 meets it harder.
    const prior = questionPrior(params, 'MEDIUM', newSubcategoryPrior());
    const p = [predictions[1]!, predictions[2]!];
    const night = {
      attempts: 2,
      creditSum: 0,
      predictedSum: p[0]! + p[1]!,
      predictedVarianceSum: p[0]! * (1 - p[0]!) + p[1]! * (1 - p[1]!),
    };
    const refitted = refitQuestionParameters(params, prior, night);
    expect(refitted.difficulty).toBeGreaterThan(prior.difficulty + 0.5);
    const first = updateAfterAttempt(
      params,
      newLearnerAbility(),
      null,
      prior,
      newSubcategoryPrior(),
      0,
      start + 11 * hour,
    );
    const expected = predictCorrect(
      params,
      first.learner,
      first.skill,
      refitted,
      newSubcategoryPrior(),
      start + day + 10 * hour,
      { credit: 0, atMs: start + 11 * hour, attempts: 1, creditSum: 0 },
    );
    expect(predictions[3]).toBeCloseTo(expected, 12);
    expect(predictions[3]).toBeLessThan(fixed[3]!);
  });

  test('no prediction depends on its own attempt or a later one, however late an attempt is recorded', () => {
    const attempt = fc.record({
      learner: fc.integer({ min: 0, max: 3 }),
      question: fc.integer({ min: 0, max: 5 }),
      correct: fc.boolean(),
      hint: fc.boolean(),
      answeredHours: fc.integer({ min: 0, max: 8 * 24 }),
      // Recorded when answered, or synced up to three days later.
      delayHours: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 72 })),
    });
    fc.assert(
      fc.property(fc.array(attempt, { minLength: 1, maxLength: 40 }), fc.nat(), (drawn, cut) => {
        const build = (flipFrom: number) => {
          const rows = drawn.map((a, k) => ({
            learner: a.learner,
            pair: a.learner * 3 + (a.question % 3),
            question: a.question,
            subcategory: a.question % 3,
            correct: a.correct,
            hint: a.hint,
            answeredAt: start + a.answeredHours * hour,
            at: start + (a.answeredHours + a.delayHours) * hour + k,
          }));
          const log = logOf(rows);
          const order = answeredOrder(log);
          // Every attempt from position flipFrom of the answered order on has the other answer.
          for (const i of order.subarray(flipFrom)) log.correct[i] = 1 - log.correct[i]!;
          return { log, order };
        };
        const from = cut % drawn.length;
        const original = build(drawn.length);
        const flipped = build(from);
        const everyone = new Uint8Array(drawn.length).fill(1);
        const p = replayWithNightlyRefits(original.log, original.order, everyone, params, slots);
        const q = replayWithNightlyRefits(flipped.log, flipped.order, everyone, params, slots);
        for (const i of original.order.subarray(0, from + 1)) expect(q[i]).toBe(p[i]);
      }),
    );
  });
});

/** Learners of ability θ ~ U(−2, 2) answering questions of difficulty −2…2 by the logistic model. */
/** `loggedTwice`: the share of answers logged a second time 10 s later (a problem logged once per skill). */
function simulatedLog(
  learners: number,
  attemptsEach: number,
  { spacingMs = 30_000, loggedTwice = 0 } = {},
): { log: ReturnType<typeof logOf>; truth: number[] } {
  let seed = 7;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const truth = Array.from({ length: 40 }, (_, q) => -2 + (4 * q) / 39);
  const attempts: Logged[] = [];
  for (let l = 0; l < learners; l++) {
    const ability = -2 + 4 * random();
    for (let t = 0; t < attemptsEach; t++) {
      const question = Math.floor(random() * truth.length);
      const p = 1 / (1 + Math.exp(-(ability - truth[question]!)));
      const subcategory = question % 4;
      const attempt = {
        learner: l,
        pair: l * 4 + subcategory,
        question,
        subcategory,
        correct: random() < p,
        at: Date.UTC(2025, 0, 1) + t * spacingMs + l,
      };
      attempts.push(attempt);
      if (random() < loggedTwice) attempts.push({ ...attempt, at: attempt.at + 10_000 });
    }
  }
  attempts.sort((a, b) => a.at - b.at);
  return { log: logOf(attempts), truth };
}

function correlation(xs: number[], ys: number[]): number {
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const [mx, my] = [mean(xs), mean(ys)];
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  xs.forEach((x, k) => {
    sxy += (x - mx) * (ys[k]! - my);
    sxx += (x - mx) ** 2;
    syy += (ys[k]! - my) ** 2;
  });
  return sxy / Math.sqrt(sxx * syy);
}

describe('fitCalibration', () => {
  test('recovers the calibration that generated the outcomes', () => {
    let seed = 99;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const n = 40_000;
    const z = Array.from({ length: n }, () => -4 + 8 * random());
    const truth = (x: number) => 1.4 * x - 0.5 * Math.min(x, 0) + 0.3;
    const log = logOf(z.map((x, k) => ({ correct: random() < 1 / (1 + Math.exp(-truth(x))), at: k })));
    const predictions = Float64Array.from(z, (x) => 1 / (1 + Math.exp(-x)));
    const fitted = fitCalibration(predictions, log, new Uint8Array(n).fill(1), defaultLearnerModelParameters);
    // The map, not each weight: the bends may share a kink between them.
    for (const x of [-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5])
      expect(Math.abs(calibratedLogit({ ...defaultLearnerModelParameters, ...fitted }, x) - truth(x))).toBeLessThan(
        0.1,
      );
    expect(calibrationIncreases({ ...defaultLearnerModelParameters, ...fitted })).toBe(true);
  });
});

describe('fitting', () => {
  const { log, truth } = simulatedLog(400, 40);
  const order = answeredOrder(log);
  const learnerCount = 400;
  const byLearner = (pick: (l: number) => boolean) =>
    Uint8Array.from({ length: learnerCount }, (_, l) => (pick(l) ? 1 : 0));
  /** The attempts of the learners `pick` chooses. */
  const learnersAttempts = (pick: (l: number) => boolean) => attemptsOf(log, byLearner(pick));

  test('fitTables learns the question difficulties that generated the answers', () => {
    const { tables } = fitTables(
      log,
      order,
      attemptsOf(
        log,
        byLearner(() => true),
      ),
      params,
    );
    const learnt = truth.map((_, q) => tables.questions[q]!.difficulty);
    expect(correlation(learnt, truth)).toBeGreaterThan(0.95);
  });

  test('fitLearnerModel tunes on training learners and predicts held-out ones better than the priors', () => {
    const fitting = learnersAttempts((l) => l < 240);
    const tuning = learnersAttempts((l) => l >= 240 && l < 320);
    const heldOut = learnersAttempts((l) => l >= 320);
    const fit = fitLearnerModel(log, order, fitting, tuning, defaultLearnerModelParameters, { rounds: 1 });
    expect(fit.tuningLogLoss.fitted).toBeLessThan(fit.tuningLogLoss.start);
    const fitted = logLossOf(replayLearnerModel(log, order, heldOut, fit.params, fit.tables), log, heldOut);
    const priors = logLossOf(
      replayLearnerModel(log, order, heldOut, defaultLearnerModelParameters, priorTables(log, params)),
      log,
      heldOut,
    );
    expect(fitted).toBeLessThan(priors - 0.02);
  });

  test('coordinate search goes round until a round gains little, and never ends worse than one round', () => {
    const fitting = learnersAttempts((l) => l < 240);
    const tuning = learnersAttempts((l) => l >= 240);
    const fitWith = (rounds?: number) => {
      const moves: string[] = [];
      const fit = fitLearnerModel(log, order, fitting, tuning, defaultLearnerModelParameters, {
        rounds,
        onStep: (what) => moves.push(what),
      });
      // One line per parameter visited, after the two priors' lines.
      return { fit, visited: moves.length - 2 };
    };
    const one = fitWith(1);
    const many = fitWith();
    const perRound = one.visited;
    expect(many.visited % perRound).toBe(0);
    // More than one round here (the first still moves things), fewer than the cap (it converges).
    expect(many.visited / perRound).toBeGreaterThan(1);
    expect(many.visited / perRound).toBeLessThan(8);
    expect(many.fit.tuningLogLoss.fitted).toBeLessThanOrEqual(one.fit.tuningLogLoss.fitted + 1e-9);
  });

  test('an answer logged twice moments apart: the fit turns on the short time scale of the previous answer', () => {
    // An hour between attempts: only the copies 10 s later repeat an answer (abilities do not move).
    const twice = simulatedLog(200, 30, { spacingMs: hour, loggedTwice: 0.3 });
    const learners = (pick: (l: number) => boolean) =>
      attemptsOf(
        twice.log,
        Uint8Array.from({ length: 200 }, (_, l) => (pick(l) ? 1 : 0)),
      );
    const fit = fitLearnerModel(
      twice.log,
      answeredOrder(twice.log),
      learners((l) => l < 150),
      learners((l) => l >= 150),
      defaultLearnerModelParameters,
      { rounds: 1 },
    );
    expect(defaultLearnerModelParameters.shortRepeatWeight).toBe(0);
    expect(fit.params.shortRepeatWeight).toBeGreaterThanOrEqual(4);
    expect(fit.params.repeatWeight * 2 ** (-1 / fit.params.repeatHalfLifeHours)).toBeLessThan(1);
  });
});
