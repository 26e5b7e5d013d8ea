// NIGHTLY step 8, and the whole PATTERNS job: a LearningPattern row per learner active in the
// pattern window (SPEC 4.3), computed as User.learningPatterns computes it live.
import { DEFAULT_PATTERN_DAYS, learningPatternsForUsers } from '../../services/learning-patterns.ts';
import type { RunContext, StepStats } from '../context.ts';
import { activeLearnerIds } from './active-learners.ts';

export async function storeLearningPatterns(ctx: RunContext): Promise<StepStats> {
  const learners = await activeLearnerIds(ctx, DEFAULT_PATTERN_DAYS);
  const patterns = await learningPatternsForUsers(ctx.tx, learners, DEFAULT_PATTERN_DAYS, ctx.at);
  const rows = [...patterns].map(([userId, p]) => ({
    userId,
    computedAt: ctx.at,
    windowDays: p.windowDays,
    optimalSessionDurationMinutes: p.optimalSessionDurationMinutes,
    bestHourOfDay: p.bestHourOfDay,
    difficultyProgression: p.difficultyProgression as never,
    conceptRetention: p.conceptRetention as never,
  }));
  const written = rows.length > 0 ? (await ctx.tx.learningPattern.createMany({ data: rows })).count : 0;
  return { patterns: written };
}
