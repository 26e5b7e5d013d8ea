// replayLearner against the arithmetic of src/domain/mastery.ts, slot by slot.
import { describe, expect, test } from 'vitest';
import { decayedScore, ewmaStep, masteryDefaults } from '../../src/domain/mastery.ts';
import { type ReplayAttempt, type ReplaySchedule, replayLearner } from '../../src/domain/mastery-replay.ts';

const hour = 3_600_000;
const t0 = Date.parse('2025-03-01T00:00:00Z');
const at = (hours: number) => t0 + hours * hour;
const days = 12;
// NIGHTLY at 02:00 closing the day before; MASTERY_DECAY every 6 hours.
const schedule: ReplaySchedule = {
  nightly: Array.from({ length: days }, (_, d) => ({
    at: at(24 * d + 2),
    date: new Date(at(24 * (d - 1))).toISOString().slice(0, 10),
  })),
  decay: Array.from({ length: days * 4 }, (_, k) => ({ at: at(6 * k) })),
  parameters: masteryDefaults,
  historyActiveDays: 30,
};

const attempt = (hours: number, correct: boolean, extra: Partial<ReplayAttempt> = {}): ReplayAttempt => ({
  subcategory: 'Algebra',
  correct,
  hintUsed: false,
  counts: true,
  recordedAt: at(hours),
  ...extra,
});

describe('replayLearner', () => {
  test('one EWMA step per night over that night’s attempts, with a history point per night', () => {
    const replayed = replayLearner(
      [attempt(10, true), attempt(11, false), attempt(12, true, { hintUsed: true }), attempt(34, true)],
      schedule,
    );
    const night1 = ewmaStep(null, (1 + 0 + 0.5) / 3);
    const night2 = ewmaStep(night1, 1);
    expect(replayed.masteryAtAttempt).toEqual([null, null, null, night1]);
    expect(replayed.history.slice(0, 2)).toEqual([
      { subcategory: 'Algebra', date: '2025-03-01', score: night1 },
      { subcategory: 'Algebra', date: '2025-03-02', score: night2 },
    ]);
    expect(replayed.masteries).toHaveLength(1);
    expect(replayed.masteries[0]).toMatchObject({ attemptsCount: 4, lastPracticedAt: at(34), updatedAt: at(50) });
  });

  test('decay runs while the learner is away 48 h or more, and composes to one step', () => {
    // Scored at the night of day 1 (updatedAt 02:00 on day 2); back on day 6 at 10:00.
    const replayed = replayLearner([attempt(10, true), attempt(24 * 5 + 10, false)], schedule);
    const scored = ewmaStep(null, 1);
    // The first decay slot with no attempt in the 48 h before: 12:00 on day 3 (10:00 + 48 h → 12:00);
    // the last before the return: 06:00 on day 6. Each run decays from the previous one.
    const decayedTo = at(24 * 5 + 6);
    const back = decayedScore(scored, (decayedTo - at(26)) / hour);
    expect(replayed.masteryAtAttempt[1]).toBeCloseTo(back, 12);
    expect(replayed.history.find((h) => h.date === '2025-03-06')!.score).toBe(
      ewmaStep(replayed.masteryAtAttempt[1]!, 0),
    );
  });

  test('attempts outside MASTERY_CONTEXTS move no score but keep the learner active', () => {
    const replayed = replayLearner(
      [
        attempt(10, true),
        attempt(40, false, { counts: false }),
        attempt(80, false, { counts: false }),
        attempt(100, true),
      ],
      schedule,
    );
    const scored = ewmaStep(null, 1);
    // Never 48 h without an attempt until the last: no decay; nights without counted attempts change
    // nothing. After the last attempt the learner is away: decayed at every slot to the end.
    expect(replayed.masteryAtAttempt).toEqual([null, scored, scored, scored]);
    expect(replayed.masteries[0]).toMatchObject({ attemptsCount: 2, decayedAt: schedule.decay.at(-1)!.at });
  });

  test('a learner with no counted attempt has no mastery and no history', () => {
    expect(replayLearner([attempt(10, true, { counts: false })], schedule)).toEqual({
      masteries: [],
      history: [],
      points: [],
      masteryAtAttempt: [null],
    });
  });
});
