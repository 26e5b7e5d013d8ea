// One learner's mastery replayed through history as the jobs would have made it live: NIGHTLY at each
// of its slots (the EWMA step over the attempts recorded in its window, then a MasteryHistory point
// per subcategory when the learner practised in the 30 days before), MASTERY_DECAY at each of its
// slots (every score decayed from its last update or decay when the learner had no attempt in the
// 48 h before), and each attempt seeing the scores as they stood when it was recorded (its
// masteryAtAttempt). The arithmetic is the jobs' own (attemptCredit, ewmaStep, decayedScore);
// a rebuild runs it once per learner over the whole attempt log instead of one NIGHTLY per past day.

import { attemptCredit, decayedScore, ewmaStep, type MasteryParameters } from './mastery.ts';
import { DECAY_STEP_NOISE, filledScore, type StoredHistoryPoint } from './mastery-history.ts';

export interface ReplayAttempt {
  subcategory: string;
  correct: boolean;
  hintUsed: boolean;
  /** The EWMA learns from this attempt (its context is one of MASTERY_CONTEXTS). */
  counts: boolean;
  recordedAt: number;
}

export interface ReplaySlot {
  at: number;
}

export interface NightlySlot extends ReplaySlot {
  /** The day the run closes (its MasteryHistory date). */
  date: string;
}

export interface ReplayedMastery {
  subcategory: string;
  score: number;
  attemptsCount: number;
  lastPracticedAt: number | null;
  updatedAt: number;
  decayedAt: number | null;
  /** The subcategory's latest stored history point (what later nights are filled from). */
  history: { date: string; score: number; baseAt: number; holdTo: number | null } | null;
}

export interface ReplayedLearner {
  /** As the Mastery rows stand after the last event. */
  masteries: ReplayedMastery[];
  /**
   * MasteryHistory as read: a score per subcategory per night the learner was active, in slot order
   * (empty unless asked for).
   */
  history: { subcategory: string; date: string; score: number }[];
  /**
   * The points NIGHTLY would have stored (docs/nightly-incremental.md): where the score is not the
   * decay of the subcategory's previous point to the night's last MASTERY_DECAY slot.
   */
  points: StoredHistoryPoint[];
  /** Per attempt, in input order: the score of its subcategory when it was recorded (null before any). */
  masteryAtAttempt: (number | null)[];
}

export interface ReplaySchedule {
  /** NIGHTLY slots, ascending. */
  nightly: readonly NightlySlot[];
  /** MASTERY_DECAY slots, ascending. */
  decay: readonly ReplaySlot[];
  parameters: MasteryParameters;
  /** MasteryHistory is written for learners who practised within this many days of the run. */
  historyActiveDays: number;
}

/** First index of `slots` whose instant is ≥ at (binary search). */
export function firstSlotFrom(slots: readonly ReplaySlot[], at: number): number {
  let lo = 0;
  let hi = slots.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (slots[mid]!.at < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Replays one learner. `attempts` in recordedAt order (ties as the database orders them). At one
 * instant an attempt comes before a slot (a run at T includes attempts recorded at T and runs after
 * them), and NIGHTLY before MASTERY_DECAY.
 */
export function replayLearner(
  attempts: readonly ReplayAttempt[],
  schedule: ReplaySchedule,
  /** Fill `history` (a row per night and subcategory: most of the replay's garbage when nothing reads it). */
  withHistory = true,
): ReplayedLearner {
  const { parameters, historyActiveDays } = schedule;
  const hourMs = 3_600_000;
  const scores = new Map<string, ReplayedMastery>();
  const history: ReplayedLearner['history'] = [];
  const points: StoredHistoryPoint[] = [];
  const masteryAtAttempt: (number | null)[] = [];
  if (attempts.length === 0) return { masteries: [], history, points, masteryAtAttempt };

  let nightly = firstSlotFrom(schedule.nightly, attempts[0]!.recordedAt);
  let decay = firstSlotFrom(schedule.decay, attempts[0]!.recordedAt);
  let next = 0;
  let lastAttemptAt = Number.NEGATIVE_INFINITY;
  let attemptedSinceNight = false;
  let lastPracticedAt = Number.NEGATIVE_INFINITY;
  // The window of the coming NIGHTLY: credits per subcategory, their count, the last one's instant.
  let pending = new Map<string, { sum: number; n: number; last: number }>();

  const runNightly = (slot: NightlySlot) => {
    for (const [subcategory, window] of pending) {
      const previous = scores.get(subcategory);
      scores.set(subcategory, {
        subcategory,
        score: ewmaStep(previous?.score ?? null, window.sum / window.n, parameters.alpha, parameters.prior),
        attemptsCount: (previous?.attemptsCount ?? 0) + window.n,
        lastPracticedAt: Math.max(previous?.lastPracticedAt ?? Number.NEGATIVE_INFINITY, window.last),
        updatedAt: slot.at,
        decayedAt: previous?.decayedAt ?? null,
        history: previous?.history ?? null,
      });
    }
    pending = new Map();
    const attempted = attemptedSinceNight;
    attemptedSinceNight = false;
    if (!(lastPracticedAt > slot.at - historyActiveDays * 24 * hourMs)) return;
    // Decay slots before this night have all run (the loop runs them in time order).
    const decayAt = decay > 0 ? schedule.decay[decay - 1]!.at : null;
    const holdTo =
      lastAttemptAt === Number.NEGATIVE_INFINITY ? null : lastAttemptAt + parameters.inactiveAfterHours * hourMs;
    for (const m of scores.values()) {
      if (withHistory) history.push({ subcategory: m.subcategory, date: slot.date, score: m.score });
      const stored = m.history;
      const due =
        attempted ||
        stored === null ||
        stored.date >= slot.date ||
        Math.abs(
          m.score -
            filledScore({ baseAt: stored.baseAt, baseScore: stored.score, holdTo: stored.holdTo }, decayAt, parameters),
        ) > DECAY_STEP_NOISE;
      if (!due) continue;
      const baseAt = Math.max(m.updatedAt, m.decayedAt ?? Number.NEGATIVE_INFINITY);
      // A second night of the same date replaces its points.
      if (stored?.date === slot.date) {
        const same = points.findLastIndex((p) => p.subcategory === m.subcategory && p.date === slot.date);
        if (same >= 0) points.splice(same, 1);
      }
      points.push({
        subcategory: m.subcategory,
        date: slot.date,
        score: m.score,
        baseAt,
        baseScore: m.score,
        holdTo,
        lastPracticedAt: m.lastPracticedAt,
      });
      m.history = { date: slot.date, score: m.score, baseAt, holdTo };
    }
  };
  const runDecay = (slot: ReplaySlot) => {
    if (lastAttemptAt > slot.at - parameters.inactiveAfterHours * hourMs) return;
    for (const m of scores.values()) {
      const since = Math.max(m.updatedAt, m.decayedAt ?? Number.NEGATIVE_INFINITY);
      if (since >= slot.at) continue;
      m.score = decayedScore(m.score, (slot.at - since) / hourMs, parameters);
      m.decayedAt = slot.at;
    }
  };

  for (;;) {
    const attemptAt = next < attempts.length ? attempts[next]!.recordedAt : Number.POSITIVE_INFINITY;
    const nightlyAt = nightly < schedule.nightly.length ? schedule.nightly[nightly]!.at : Number.POSITIVE_INFINITY;
    const decayAt = decay < schedule.decay.length ? schedule.decay[decay]!.at : Number.POSITIVE_INFINITY;
    if (
      attemptAt === Number.POSITIVE_INFINITY &&
      nightlyAt === Number.POSITIVE_INFINITY &&
      decayAt === Number.POSITIVE_INFINITY
    )
      break;
    if (attemptAt <= nightlyAt && attemptAt <= decayAt) {
      const attempt = attempts[next++]!;
      masteryAtAttempt.push(scores.get(attempt.subcategory)?.score ?? null);
      lastAttemptAt = attempt.recordedAt;
      attemptedSinceNight = true;
      if (attempt.counts) {
        const window = pending.get(attempt.subcategory) ?? { sum: 0, n: 0, last: attempt.recordedAt };
        window.sum += attemptCredit(attempt);
        window.n += 1;
        window.last = attempt.recordedAt;
        pending.set(attempt.subcategory, window);
        lastPracticedAt = attempt.recordedAt;
      }
    } else if (nightlyAt <= decayAt) {
      runNightly(schedule.nightly[nightly++]!);
    } else {
      runDecay(schedule.decay[decay++]!);
    }
  }
  return { masteries: [...scores.values()], history, points, masteryAtAttempt };
}
