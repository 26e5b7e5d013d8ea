// What the dashboard's learner list shows beside each name: last activity, sessions, accuracy and
// mean mastery. One statement for a page of learners, each row read through its user's indexes.
import type { SqlClient } from '../db/types.ts';

export interface LearnerStats {
  userId: string;
  /** When the learner last answered (answeredAt; recordedAt when absent); null before any attempt. */
  lastActiveAt: Date | null;
  sessions: number;
  attempts: number;
  /** correct ÷ attempts over every attempt; null without attempts. */
  accuracy: number | null;
  /** Mean of the learner's current mastery scores; null without any. */
  meanMastery: number | null;
  subcategories: number;
}

/** The stats of each user id, in the order given (zeros and nulls for a user without data). */
export async function learnerStats(db: SqlClient, userIds: readonly string[]): Promise<LearnerStats[]> {
  const rows = await db.$queryRaw<
    {
      user_id: string;
      last_active_at: Date | null;
      sessions: number;
      attempts: number;
      correct: number;
      mean_mastery: number | null;
      subcategories: number;
    }[]
  >`
    SELECT ids.id::text AS user_id, a.last_active_at, COALESCE(s.sessions, 0) AS sessions,
           COALESCE(a.attempts, 0) AS attempts, COALESCE(a.correct, 0) AS correct,
           m.mean_mastery, COALESCE(m.subcategories, 0) AS subcategories
    FROM unnest(${userIds as string[]}::uuid[]) AS ids(id)
    LEFT JOIN LATERAL (
      SELECT max(COALESCE(answered_at, recorded_at)) AS last_active_at, count(*)::int AS attempts,
             count(*) FILTER (WHERE correct)::int AS correct
      FROM attempts WHERE user_id = ids.id
    ) a ON true
    LEFT JOIN LATERAL (SELECT count(*)::int AS sessions FROM sessions WHERE user_id = ids.id) s ON true
    LEFT JOIN LATERAL (
      SELECT avg(score)::float8 AS mean_mastery, count(*)::int AS subcategories FROM masteries WHERE user_id = ids.id
    ) m ON true`;
  const byId = new Map(rows.map((row) => [row.user_id, row]));
  return userIds.map((userId) => {
    const row = byId.get(userId);
    return {
      userId,
      lastActiveAt: row?.last_active_at ?? null,
      sessions: row?.sessions ?? 0,
      attempts: row?.attempts ?? 0,
      accuracy: row && row.attempts > 0 ? row.correct / row.attempts : null,
      meanMastery: row?.mean_mastery ?? null,
      subcategories: row?.subcategories ?? 0,
    };
  });
}
