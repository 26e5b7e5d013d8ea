// User.masteryHistory: the sparse points NIGHTLY stores, filled night by night
// (src/domain/mastery-history.ts, docs/nightly-incremental.md). Two statements a learner: their
// points up to `to` (every subcategory, each subcategory's latest before `from` included) and the
// nights of the range.
import type { SqlClient } from '../db/types.ts';
import type { MasteryParameters } from '../domain/mastery.ts';
import {
  fillMasteryHistory,
  type HistoryEntry,
  type HistoryFilter,
  type HistoryNight,
  type StoredHistoryPoint,
} from '../domain/mastery-history.ts';

export interface MasteryHistoryArgs {
  subcategory?: string | null;
  from?: Date | null;
  to?: Date | null;
}

const day = (date: Date | null | undefined) => (date ? date.toISOString().slice(0, 10) : null);

export async function masteryHistory(
  db: SqlClient,
  userId: string,
  args: MasteryHistoryArgs,
  parameters: Pick<MasteryParameters, 'decayFloor' | 'halfLifeHours'>,
  activeDays: number,
): Promise<(Omit<HistoryEntry, 'date'> & { date: Date })[]> {
  const filter: HistoryFilter = { subcategory: args.subcategory, from: day(args.from), to: day(args.to) };
  const points = await db.$queryRaw<
    {
      subcategory: string;
      date: string;
      score: number;
      base_at: Date | null;
      base_score: number | null;
      hold_to_ms: number | null;
      last_practiced_at: Date | null;
    }[]
  >`
    SELECT subcategory, to_char(date, 'YYYY-MM-DD') AS date, score, base_at, base_score, last_practiced_at,
           -- To the microsecond, as MASTERY_DECAY compares it.
           (extract(epoch FROM hold_to) * 1000)::float8 AS hold_to_ms
    FROM mastery_history
    WHERE user_id = ${userId}::uuid AND date <= COALESCE(${filter.to}::date, 'infinity'::date)
    ORDER BY date, subcategory`;
  const firstFilled = points.find((p) => p.base_at !== null)?.date;
  const nights =
    firstFilled === undefined
      ? []
      : await db.$queryRaw<{ date: string; at: Date; decay_at: Date | null }[]>`
          SELECT to_char(date, 'YYYY-MM-DD') AS date, at, decay_at FROM mastery_history_nights
          WHERE date >= GREATEST(${firstFilled}::date, COALESCE(${filter.from}::date, '-infinity'::date))
            AND date <= COALESCE(${filter.to}::date, 'infinity'::date)
          ORDER BY date`;
  const stored: StoredHistoryPoint[] = points.map((p) => ({
    subcategory: p.subcategory,
    date: p.date,
    score: p.score,
    baseAt: p.base_at?.getTime() ?? null,
    baseScore: p.base_score ?? p.score,
    holdTo: p.hold_to_ms,
    lastPracticedAt: p.last_practiced_at?.getTime() ?? null,
  }));
  const filled: HistoryNight[] = nights.map((n) => ({
    date: n.date,
    at: n.at.getTime(),
    decayAt: n.decay_at?.getTime() ?? null,
  }));
  return fillMasteryHistory(stored, filled, filter, parameters, activeDays).map((e) => ({
    ...e,
    date: new Date(`${e.date}T00:00:00Z`),
  }));
}
