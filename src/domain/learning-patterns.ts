// SPEC 4.3 — a user's learning patterns over the last N days. Pure: the caller aggregates the
// window in SQL (per session, per hour in the user's timezone, per day, per subcategory-day) and
// this module only decides. Fields with too little data are null or empty, never invented.

export interface SessionAggregate {
  durationMinutes: number;
  /** null when the session has no attempts. */
  accuracy: number | null;
}

export interface HourAggregate {
  /** 0–23, already in the user's timezone. */
  hour: number;
  attempts: number;
  correct: number;
}

export interface DayAggregate {
  /** 'YYYY-MM-DD' in the user's timezone. */
  date: string;
  attempts: number;
  correct: number;
  meanDifficulty: number | null;
}

export interface SubcategoryDayAggregate {
  subcategory: string;
  date: string;
  attempts: number;
  correct: number;
}

export interface LearningPatternsInput {
  windowDays: number;
  /** Ended sessions in the window. */
  sessions: readonly SessionAggregate[];
  hours: readonly HourAggregate[];
  days: readonly DayAggregate[];
  subcategoryDays: readonly SubcategoryDayAggregate[];
}

export interface DifficultyProgressionPoint {
  date: string;
  meanDifficulty: number | null;
  accuracy: number;
  attempts: number;
}

export interface ConceptRetention {
  subcategory: string;
  firstDate: string;
  lastDate: string;
  /** Last-day accuracy ÷ first-day accuracy; null when the first day's accuracy is 0. */
  ratio: number | null;
}

export interface LearningPatternsResult {
  windowDays: number;
  optimalSessionDurationMinutes: number | null;
  bestHourOfDay: number | null;
  difficultyProgression: DifficultyProgressionPoint[];
  conceptRetention: ConceptRetention[];
}

export function computeLearningPatterns(input: LearningPatternsInput): LearningPatternsResult {
  return {
    windowDays: input.windowDays,
    optimalSessionDurationMinutes: optimalSessionDurationMinutes(input.sessions),
    bestHourOfDay: bestHourOfDay(input.hours),
    difficultyProgression: difficultyProgression(input.days),
    conceptRetention: conceptRetention(input.subcategoryDays),
  };
}

export const DURATION_BUCKET_MINUTES = 15;
export const MIN_SESSIONS_PER_BUCKET = 2;
export const MIN_ATTEMPTS_PER_HOUR = 10;

// Session accuracies arrive as floats from SQL, so means that are equal on paper can differ in
// the last bits; differences this small count as a tie (and the tie goes to the shorter bucket).
const ACCURACY_TIE_TOLERANCE = 1e-9;

/** Start (in minutes) of the 15-minute bucket holding the duration: [0,15) → 0, [15,30) → 15. */
export function bucketOfDuration(minutes: number): number {
  // A negative duration can only come from clock skew; it belongs with the shortest sessions.
  return Math.floor(Math.max(0, minutes) / DURATION_BUCKET_MINUTES) * DURATION_BUCKET_MINUTES;
}

/**
 * Mean duration of the sessions in the bucket with the best mean session accuracy, among buckets
 * with at least 2 sessions that have an accuracy; null when no bucket qualifies.
 */
export function optimalSessionDurationMinutes(sessions: readonly SessionAggregate[]): number | null {
  const buckets = new Map<number, { durations: number[]; accuracies: number[] }>();
  for (const { durationMinutes, accuracy } of sessions) {
    if (accuracy === null) continue; // a session without attempts says nothing about accuracy
    const start = bucketOfDuration(durationMinutes);
    const bucket = buckets.get(start) ?? { durations: [], accuracies: [] };
    bucket.durations.push(durationMinutes);
    bucket.accuracies.push(accuracy);
    buckets.set(start, bucket);
  }
  let best: { start: number; accuracy: number; duration: number } | undefined;
  for (const [start, { durations, accuracies }] of buckets) {
    if (accuracies.length < MIN_SESSIONS_PER_BUCKET) continue;
    const candidate = { start, accuracy: mean(accuracies), duration: mean(durations) };
    if (best === undefined || beatsBucket(candidate, best)) best = candidate;
  }
  return best?.duration ?? null;
}

function beatsBucket(a: { start: number; accuracy: number }, b: { start: number; accuracy: number }): boolean {
  if (Math.abs(a.accuracy - b.accuracy) <= ACCURACY_TIE_TOLERANCE) return a.start < b.start;
  return a.accuracy > b.accuracy;
}

/** The hour with the best accuracy among hours with at least 10 attempts (ties: earlier hour). */
export function bestHourOfDay(hours: readonly HourAggregate[]): number | null {
  const byHour = sumByKey(hours, (h) => String(h.hour));
  let best: HourAggregate | undefined;
  for (const tally of byHour.values()) {
    if (tally.attempts < MIN_ATTEMPTS_PER_HOUR) continue;
    if (best === undefined || beatsHour(tally, best)) best = tally;
  }
  return best?.hour ?? null;
}

// Counts are integers, so accuracies are compared by cross-multiplying: ties are exact.
function beatsHour(a: HourAggregate, b: HourAggregate): boolean {
  const difference = a.correct * b.attempts - b.correct * a.attempts;
  return difference > 0 || (difference === 0 && a.hour < b.hour);
}

/** One point per day with attempts, in date order. */
export function difficultyProgression(days: readonly DayAggregate[]): DifficultyProgressionPoint[] {
  return days
    .filter((d) => d.attempts > 0)
    .map((d) => ({
      date: d.date,
      meanDifficulty: d.meanDifficulty,
      accuracy: d.correct / d.attempts,
      attempts: d.attempts,
    }))
    .sort((a, b) => compareStrings(a.date, b.date));
}

/**
 * For each subcategory practised on two or more distinct days: last-day accuracy ÷ first-day
 * accuracy, sorted by subcategory.
 */
export function conceptRetention(rows: readonly SubcategoryDayAggregate[]): ConceptRetention[] {
  const practised = rows.filter((r) => r.attempts > 0);
  const bySubcategory = new Map<string, SubcategoryDayAggregate[]>();
  for (const row of practised) {
    bySubcategory.set(row.subcategory, [...(bySubcategory.get(row.subcategory) ?? []), row]);
  }
  const result: ConceptRetention[] = [];
  for (const [subcategory, subRows] of bySubcategory) {
    const days = [...sumByKey(subRows, (r) => r.date).values()].sort((a, b) => compareStrings(a.date, b.date));
    const first = days[0];
    const last = days[days.length - 1];
    if (first === undefined || last === undefined || days.length < 2) continue;
    result.push({
      subcategory,
      firstDate: first.date,
      lastDate: last.date,
      ratio: accuracyRatio(last, first),
    });
  }
  return result.sort((a, b) => compareStrings(a.subcategory, b.subcategory));
}

/** (c_l / n_l) ÷ (c_f / n_f), as one division so the result is correctly rounded. */
function accuracyRatio(
  last: { attempts: number; correct: number },
  first: { attempts: number; correct: number },
): number | null {
  if (first.correct === 0) return null;
  return (last.correct * first.attempts) / (last.attempts * first.correct);
}

/** Merges rows that share a key (SQL should not send duplicates, but summing them is harmless). */
function sumByKey<T extends { attempts: number; correct: number }>(
  rows: readonly T[],
  keyOf: (row: T) => string,
): Map<string, T> {
  const merged = new Map<string, T>();
  for (const row of rows) {
    const key = keyOf(row);
    const seen = merged.get(key);
    merged.set(
      key,
      seen === undefined
        ? { ...row }
        : { ...seen, attempts: seen.attempts + row.attempts, correct: seen.correct + row.correct },
    );
  }
  return merged;
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

// Plain code-unit order: deterministic, unlike localeCompare, and right for 'YYYY-MM-DD'.
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
