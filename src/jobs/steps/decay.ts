// MASTERY_DECAY (SPEC 3), one statement: for learners with no attempt in the `inactiveAfterHours`
// (48 h) before `at`,
//   m ← floor + (m − floor) · 2^(−Δh / halfLifeHours)      floor 0.1, half-life 720 h
// with Δh the hours from the score's last update or decay (max(updatedAt, decayedAt)) to `at`; it
// stores decayedAt = `at`. Multiplicative in time, so runs every 6 h compose to one run over the
// total and a missed run is caught up exactly by the next (decayedScore in src/domain/mastery.ts).
import type { RunContext, StepStats } from '../context.ts';

export async function decayMastery(ctx: RunContext): Promise<StepStats> {
  const { tx, at, config } = ctx;
  const { decayFloor, halfLifeHours, inactiveAfterHours } = config.mastery;
  const decayed = await tx.$executeRaw`
    UPDATE masteries m
    SET score = ${decayFloor}::float8 + (m.score - ${decayFloor}::float8)
                * power(2::float8,
                        -(extract(epoch FROM ${at}::timestamptz - GREATEST(m.updated_at, m.decayed_at))::float8 / 3600)
                        / ${halfLifeHours}::float8),
        decayed_at = ${at}::timestamptz
    WHERE GREATEST(m.updated_at, m.decayed_at) < ${at}::timestamptz
      AND NOT EXISTS (SELECT 1 FROM attempts a
                      WHERE a.user_id = m.user_id
                        AND a.recorded_at > ${at}::timestamptz - ${inactiveAfterHours}::float8 * interval '1 hour'
                        AND a.recorded_at <= ${at}::timestamptz)`;
  return { masteriesDecayed: decayed };
}
