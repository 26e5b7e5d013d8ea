// BKT (the evaluation's baseline): filtering worked by hand, one EM step against the brute-force
// sum over every path of hidden states, and EM recovering the parameters that generated the data.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { type BktParameters, bktEmStep, bktPredictions, fitBkt, replayBkt } from '../../src/domain/bkt.ts';
import { logOf } from '../support/attempt-log.ts';

const params: BktParameters = { prior: 0.4, learn: 0.15, guess: 0.2, slip: 0.1 };

describe('bktPredictions', () => {
  test('by hand: P(correct) = L(1 − slip) + (1 − L)guess, then the posterior and the chance to learn', () => {
    const [first, second] = bktPredictions([1, 0], params);
    expect(first).toBeCloseTo(0.4 * 0.9 + 0.6 * 0.2, 12); // 0.48
    // After a correct answer: 0.36 / 0.48 = 0.75 known, then 0.75 + 0.25·0.15 = 0.7875.
    expect(second).toBeCloseTo(0.7875 * 0.9 + 0.2125 * 0.2, 12);
  });
});

/** The EM update by enumerating every path of hidden states (0 unknown, 1 known) of every sequence. */
function bruteForceStep(sequences: number[][], p: BktParameters): BktParameters {
  let startKnown = 0;
  let learnt = 0;
  let unknownBeforeLast = 0;
  let unknown = 0;
  let unknownCorrect = 0;
  let known = 0;
  let knownWrong = 0;
  for (const ys of sequences) {
    const n = ys.length;
    const paths: { states: number[]; weight: number }[] = [];
    for (let mask = 0; mask < 2 ** n; mask++) {
      const states = Array.from({ length: n }, (_, t) => (mask >> t) & 1);
      let weight = states[0] === 1 ? p.prior : 1 - p.prior;
      for (let t = 0; t < n; t++) {
        if (t > 0) {
          const [from, to] = [states[t - 1], states[t]];
          weight *= from === 1 ? (to === 1 ? 1 : 0) : to === 1 ? p.learn : 1 - p.learn;
        }
        const right = ys[t] === 1;
        weight *= states[t] === 1 ? (right ? 1 - p.slip : p.slip) : right ? p.guess : 1 - p.guess;
      }
      paths.push({ states, weight });
    }
    const total = paths.reduce((sum, path) => sum + path.weight, 0);
    for (const { states, weight } of paths) {
      const w = weight / total;
      startKnown += states[0] === 1 ? w : 0;
      for (let t = 0; t < n; t++) {
        if (states[t] === 1) {
          known += w;
          if (ys[t] === 0) knownWrong += w;
        } else {
          unknown += w;
          if (ys[t] === 1) unknownCorrect += w;
          if (t < n - 1) {
            unknownBeforeLast += w;
            if (states[t + 1] === 1) learnt += w;
          }
        }
      }
    }
  }
  return {
    prior: startKnown / sequences.length,
    learn: learnt / unknownBeforeLast,
    guess: unknownCorrect / unknown,
    slip: knownWrong / known,
  };
}

describe('EM', () => {
  test('one step equals the brute-force expectation over every path (worked: two short sequences)', () => {
    const sequences = [
      [0, 1, 1],
      [0, 0, 1, 1],
    ];
    const step = bktEmStep(sequences, params);
    const expected = bruteForceStep(sequences, params);
    for (const key of ['prior', 'learn', 'guess', 'slip'] as const) expect(step[key]).toBeCloseTo(expected[key], 10);
  });

  test('property: the step equals brute force on any short sequences (inside the bounds)', () => {
    const sequence = fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 2, maxLength: 5 });
    const probability = fc.double({ min: 0.05, max: 0.4, noNaN: true });
    fc.assert(
      fc.property(fc.array(sequence, { minLength: 1, maxLength: 4 }), probability, probability, (sequences, g, s) => {
        const start = { prior: 0.5, learn: 0.2, guess: g, slip: s };
        const step = bktEmStep(sequences, start);
        const expected = bruteForceStep(sequences, start);
        const bounded = (x: number, high: number) => Math.min(high, Math.max(0.001, x));
        expect(step.prior).toBeCloseTo(bounded(expected.prior, 0.999), 9);
        expect(step.learn).toBeCloseTo(bounded(expected.learn, 0.999), 9);
        expect(step.guess).toBeCloseTo(bounded(expected.guess, 0.45), 9);
        expect(step.slip).toBeCloseTo(bounded(expected.slip, 0.45), 9);
      }),
    );
  });

  test('fitBkt recovers the parameters that generated 3,000 sequences', () => {
    const truth: BktParameters = { prior: 0.3, learn: 0.2, guess: 0.25, slip: 0.08 };
    let seed = 12345;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const sequences = Array.from({ length: 3000 }, () => {
      let knows = random() < truth.prior;
      return Array.from({ length: 12 }, () => {
        const right = knows ? random() >= truth.slip : random() < truth.guess;
        if (!knows && random() < truth.learn) knows = true;
        return right ? 1 : 0;
      });
    });
    const fitted = fitBkt(sequences, 200);
    for (const key of ['prior', 'learn', 'guess', 'slip'] as const) expect(fitted[key]).toBeCloseTo(truth[key], 1);
  });
});

describe('replayBkt', () => {
  test('fits each subcategory on the training learners only and predicts every sequence', () => {
    const log = logOf([
      { learner: 0, pair: 0, subcategory: 0, correct: true, at: 1 },
      { learner: 0, pair: 0, subcategory: 0, correct: true, at: 2 },
      { learner: 1, pair: 1, subcategory: 0, correct: false, at: 3 },
      { learner: 1, pair: 2, subcategory: 1, correct: true, at: 4 },
    ]);
    const order = Int32Array.from([0, 1, 2, 3]);
    const training = Uint8Array.from([1, 1, 0, 0]); // learner 0 only
    const { predictions, parameters } = replayBkt(log, order, training);
    expect(parameters).toHaveLength(2);
    // Subcategory 1 has no training sequence: it takes the model fitted on all of them (subcategory 0's).
    expect(parameters[1]).toEqual(fitBkt([[1, 1]]));
    expect(predictions[0]).toBeCloseTo(bktPredictions([1], parameters[0]!)[0]!, 12);
    expect(predictions[1]).toBeCloseTo(bktPredictions([1, 1], parameters[0]!)[1]!, 12);
    expect(predictions[2]).toBeCloseTo(bktPredictions([0], parameters[0]!)[0]!, 12);
  });
});
