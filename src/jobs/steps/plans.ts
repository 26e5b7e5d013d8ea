// NIGHTLY step 5: tomorrow's plan for every learner active in the last 30 days (SPEC 5), through the
// same set-based replanLearners the session-end adjustment uses. The plans are for the day after the
// day the run closes; changes are published once the run has committed.
import { addDays } from '../../domain/calendar.ts';
import { publishPlanChanges } from '../../pubsub.ts';
import { replanLearners } from '../../services/plans.ts';
import type { RunContext, StepStats } from '../context.ts';
import { activeLearnerIds } from './active-learners.ts';

/** SPEC 5: the nightly job plans for learners active in the last 30 days. */
export const planActiveDays = 30;

export async function planTomorrow(ctx: RunContext): Promise<StepStats> {
  const learners = await activeLearnerIds(ctx, planActiveDays);
  const planDate = addDays(ctx.date, 1);
  const changes = await replanLearners(
    ctx.tx,
    learners.map((userId) => ({ userId, planDate })),
    'NIGHTLY',
    { now: ctx.at, learnerModel: ctx.config.learnerModel },
  );
  ctx.afterCommit(() => {
    if (ctx.pubsub) publishPlanChanges(ctx.pubsub, changes);
  });
  return { learnersPlanned: learners.length, plansChanged: changes.length };
}
