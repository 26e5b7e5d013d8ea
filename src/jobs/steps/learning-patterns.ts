// NIGHTLY step 8, and the whole PATTERNS job: a LearningPattern row per learner active in the
// pattern window (SPEC 4.3), computed as User.learningPatterns computes it live. Learners are taken
// in chunks, each computed and written with one multi-row statement, so memory stays flat however
// many learners there are.
import { DEFAULT_PATTERN_DAYS, learningPatternsForUsers } from '../../services/learning-patterns.ts';
import type { RunContext, StepStats } from '../context.ts';
import { activeLearnerIds, withUsableTimeZones } from './active-learners.ts';

const chunkSize = 2_000;

export async function storeLearningPatterns(ctx: RunContext): Promise<StepStats> {
  const active = await activeLearnerIds(ctx, DEFAULT_PATTERN_DAYS);
  const { usable: learners, unusable } = await withUsableTimeZones(ctx, active);
  let written = 0;
  for (let i = 0; i < learners.length; i += chunkSize) {
    const patterns = [
      ...(await learningPatternsForUsers(ctx.tx, learners.slice(i, i + chunkSize), DEFAULT_PATTERN_DAYS, ctx.at)),
    ];
    if (patterns.length === 0) continue;
    written += await ctx.tx.$executeRaw`
      INSERT INTO learning_patterns (user_id, computed_at, window_days, optimal_session_duration_minutes,
                                     best_hour_of_day, difficulty_progression, concept_retention)
      SELECT u, ${ctx.at}::timestamptz, w, d, h, p::jsonb, r::jsonb
      FROM unnest(${patterns.map(([userId]) => userId)}::uuid[], ${patterns.map(([, p]) => p.windowDays)}::int[],
                  ${patterns.map(([, p]) => p.optimalSessionDurationMinutes)}::float8[],
                  ${patterns.map(([, p]) => p.bestHourOfDay)}::int[],
                  ${patterns.map(([, p]) => JSON.stringify(p.difficultyProgression))}::text[],
                  ${patterns.map(([, p]) => JSON.stringify(p.conceptRetention))}::text[]) AS t(u, w, d, h, p, r)`;
  }
  return { patterns: written, ...(unusable > 0 ? { patternLearnersSkipped: unusable } : {}) };
}
