// A learner's MasteryHistory as a read returns it, from the sparse points NIGHTLY stores
// (docs/nightly-incremental.md). Every night a NIGHTLY closed, a learner who practised in the 30 days
// before it has an entry per subcategory they have a score in: the point of that day where one is
// stored, else the SPEC 3 decay of the subcategory's latest earlier point to the night's decay
// instant (none while an attempt holds the learner's decay off). The step that stores the points
// writes one wherever this would not give the score.
import { decayedScore, type MasteryParameters } from './mastery.ts';

/** How far a decay in several steps may lie from the same decay in one, by rounding alone. */
export const DECAY_STEP_NOISE = 1e-12;

export interface StoredHistoryPoint {
  subcategory: string;
  /** YYYY-MM-DD */
  date: string;
  /** The score shown on its day. */
  score: number;
  /** The instant decay is measured from; null: shown on its day only (imported or older points). */
  baseAt: number | null;
  /** The score the nights after it are filled from. */
  baseScore: number;
  /** No decay before this instant (the learner's last attempt + 48 h); null: none. */
  holdTo: number | null;
  /** The subcategory's last practice as of the point (the 30-day rule). */
  lastPracticedAt: number | null;
}

export interface HistoryNight {
  /** YYYY-MM-DD */
  date: string;
  at: number;
  /** The latest MASTERY_DECAY instant when the night ran (null: none had run). */
  decayAt: number | null;
}

export interface HistoryEntry {
  subcategory: string;
  date: string;
  score: number;
}

export interface HistoryFilter {
  subcategory?: string | null;
  /** Inclusive YYYY-MM-DD bounds. */
  from?: string | null;
  to?: string | null;
}

/**
 * A point's score at a night whose last MASTERY_DECAY ran at `decayAt`: decayed from its base up to
 * then, unless the learner's hold on decay lasted past it.
 */
export function filledScore(
  point: Pick<StoredHistoryPoint, 'baseAt' | 'baseScore' | 'holdTo'>,
  decayAt: number | null,
  parameters: Pick<MasteryParameters, 'decayFloor' | 'halfLifeHours'>,
): number {
  if (decayAt === null || point.baseAt === null || decayAt < (point.holdTo ?? Number.NEGATIVE_INFINITY))
    return point.baseScore;
  return decayedScore(point.baseScore, (decayAt - point.baseAt) / 3_600_000, parameters);
}

/**
 * The entries of one learner, oldest first and by subcategory within a day. `points` are all of the
 * learner's stored points with dates up to `filter.to` (every subcategory: the 30-day rule reads
 * them all), `nights` the recorded nights in the same range, both in date order.
 */
export function fillMasteryHistory(
  points: readonly StoredHistoryPoint[],
  nights: readonly HistoryNight[],
  filter: HistoryFilter,
  parameters: Pick<MasteryParameters, 'decayFloor' | 'halfLifeHours'>,
  activeDays: number,
): HistoryEntry[] {
  const inRange = (date: string) => (!filter.from || date >= filter.from) && (!filter.to || date <= filter.to);
  const wanted = (subcategory: string) => !filter.subcategory || subcategory === filter.subcategory;
  const entries: HistoryEntry[] = [];
  const shown = new Set<string>();
  for (const p of points) {
    if (!inRange(p.date) || !wanted(p.subcategory)) continue;
    entries.push({ subcategory: p.subcategory, date: p.date, score: p.score });
    shown.add(`${p.subcategory}/${p.date}`);
  }
  // Walk the nights with the latest filling point of each subcategory and the learner's last practice.
  const latest = new Map<string, StoredHistoryPoint>();
  let lastPracticedAt = Number.NEGATIVE_INFINITY;
  let next = 0;
  const dayMs = 86_400_000;
  for (const night of nights) {
    for (; next < points.length && points[next]!.date <= night.date; next++) {
      const p = points[next]!;
      if (p.baseAt === null) continue;
      latest.set(p.subcategory, p);
      if (p.lastPracticedAt !== null) lastPracticedAt = Math.max(lastPracticedAt, p.lastPracticedAt);
    }
    if (!inRange(night.date) || !(lastPracticedAt > night.at - activeDays * dayMs)) continue;
    for (const [subcategory, p] of latest) {
      if (!wanted(subcategory) || shown.has(`${subcategory}/${night.date}`)) continue;
      entries.push({ subcategory, date: night.date, score: filledScore(p, night.decayAt, parameters) });
    }
  }
  return entries.sort((a, b) =>
    a.date === b.date ? (a.subcategory < b.subcategory ? -1 : 1) : a.date < b.date ? -1 : 1,
  );
}
