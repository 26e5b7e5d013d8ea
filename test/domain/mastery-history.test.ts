// fillMasteryHistory over the sparse points of replayLearner: the history read from them equals the
// history a point per night would hold, over seeded learners who practise, pause and return.
import { describe, expect, test } from 'vitest';
import { mulberry32 } from '../../src/demo/simulation.ts';
import { decayedScore, masteryDefaults } from '../../src/domain/mastery.ts';
import { filledScore, fillMasteryHistory, type HistoryNight } from '../../src/domain/mastery-history.ts';
import {
  firstSlotFrom,
  type ReplayAttempt,
  type ReplaySchedule,
  replayLearner,
} from '../../src/domain/mastery-replay.ts';

const hour = 3_600_000;
const t0 = Date.parse('2025-03-01T00:00:00Z');
const at = (hours: number) => t0 + hours * hour;
const days = 80;
const schedule: ReplaySchedule = {
  nightly: Array.from({ length: days }, (_, d) => ({
    at: at(24 * d + 2),
    date: new Date(at(24 * (d - 1))).toISOString().slice(0, 10),
  })),
  decay: Array.from({ length: days * 4 }, (_, k) => ({ at: at(6 * k + 1) })),
  parameters: masteryDefaults,
  historyActiveDays: 30,
};
const nights: HistoryNight[] = schedule.nightly.map((n) => {
  const before = firstSlotFrom(schedule.decay, n.at) - 1;
  return { date: n.date, at: n.at, decayAt: before >= 0 ? schedule.decay[before]!.at : null };
});

/** Practice in bursts with long pauses; some attempts do not count (they hold decay off all the same). */
function learner(seed: number): ReplayAttempt[] {
  const next = mulberry32(seed);
  const attempts: ReplayAttempt[] = [];
  for (let d = 0; d < days; d++) {
    if (next() < 0.55) continue;
    if (next() < 0.3) d += Math.floor(next() * 40); // a long pause
    for (let k = 0; k < 1 + Math.floor(next() * 4); k++)
      attempts.push({
        subcategory: ['Algebra', 'Geometry', 'Reading'][Math.floor(next() * 3)]!,
        correct: next() < 0.6,
        hintUsed: next() < 0.2,
        counts: next() < 0.7,
        recordedAt: at(24 * d + 6 + Math.floor(next() * 16)),
      });
  }
  return attempts.sort((a, b) => a.recordedAt - b.recordedAt);
}

describe('fillMasteryHistory', () => {
  test('the sparse points read as the history of every night, whole and filtered', () => {
    let stored = 0;
    let read = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const replayed = replayLearner(learner(seed), schedule);
      for (const filter of [{}, { subcategory: 'Geometry' }, { from: '2025-03-20', to: '2025-04-10' }]) {
        const expected = replayed.history.filter(
          (h) =>
            (!('subcategory' in filter) || h.subcategory === filter.subcategory) &&
            (!('from' in filter) || (h.date >= filter.from! && h.date <= filter.to!)),
        );
        const filled = fillMasteryHistory(replayed.points, nights, filter, masteryDefaults, 30);
        expect(filled.map((h) => [h.date, h.subcategory])).toEqual(
          [...expected]
            .sort((a, b) => a.date.localeCompare(b.date) || a.subcategory.localeCompare(b.subcategory))
            .map((h) => [h.date, h.subcategory]),
        );
        const byKey = new Map(expected.map((h) => [`${h.date}/${h.subcategory}`, h.score]));
        for (const h of filled)
          expect(Math.abs(h.score - byKey.get(`${h.date}/${h.subcategory}`)!)).toBeLessThan(1e-12);
      }
      stored += replayed.points.length;
      read += replayed.history.length;
    }
    expect(read).toBeGreaterThan(1000);
    expect(stored).toBeLessThan(read / 3);
  });

  test('an imported point is shown on its day; the nights after it are filled from the stored points', () => {
    const points = [
      {
        subcategory: 'Algebra',
        date: '2025-03-01',
        score: 0.8,
        baseAt: at(2),
        baseScore: 0.8,
        holdTo: at(49),
        lastPracticedAt: at(1),
      },
      {
        subcategory: 'Algebra',
        date: '2025-03-02',
        score: 0.3,
        baseAt: null,
        baseScore: 0.3,
        holdTo: null,
        lastPracticedAt: null,
      },
    ];
    const filled = fillMasteryHistory(points, nights.slice(1, 4), {}, masteryDefaults, 30);
    expect(filled.map((h) => [h.date, h.score])).toEqual([
      ['2025-03-01', 0.8],
      ['2025-03-02', 0.3],
      ['2025-03-03', decayedScore(0.8, (nights[3]!.decayAt! - at(2)) / hour)],
    ]);
  });

  test('no decay is filled while the hold lasts; from the hold on, decay from the base', () => {
    const point = { baseAt: at(2), baseScore: 0.8, holdTo: at(50) };
    expect(filledScore(point, at(49), masteryDefaults)).toBe(0.8);
    expect(filledScore(point, at(50), masteryDefaults)).toBe(decayedScore(0.8, 48));
    expect(filledScore(point, null, masteryDefaults)).toBe(0.8);
  });
});
