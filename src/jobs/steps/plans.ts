// NIGHTLY step 6: tomorrow's plan for every learner active in the last 30 days (SPEC 5), through the
// same set-based replanLearners the session-end adjustment uses. The plans are for the day after the
// day the run closes; changes are published once the run has committed.
// Every active learner is planned, in a full run or not: a plan reads the live estimates as of the
// run's `at`, and they forget with every hour, so no learner's inputs stay the same from one night to
// the next. What the night saves is the writing: on the newest night, a plan that comes out as the day
// before's is carried over (no version, nothing published; docs/nightly-incremental.md), and the carry
// of a learner no longer planned ends the day before.
import { addDays, dateString } from '../../domain/calendar.ts';
import { publishPlanChanges } from '../../pubsub.ts';
import { replanWithCarries } from '../../services/plans.ts';
import type { RunContext, StepStats } from '../context.ts';
import { activeLearnerIds } from './active-learners.ts';
import { refreshStaleStatistics } from './table-statistics.ts';

/** SPEC 5: the nightly job plans for learners active in the last 30 days. */
export const planActiveDays = 30;

/** What replanLearners looks up by `user_id = ANY(chunk)` (src/services/plans.ts). */
const tablesReadPerChunk = ['masteries', 'skill_states', 'learner_states'];

export async function planTomorrow(ctx: RunContext): Promise<StepStats> {
  const analysed = await refreshStaleStatistics(ctx, tablesReadPerChunk);
  const learners = await activeLearnerIds(ctx, planActiveDays);
  const planDate = addDays(ctx.date, 1);
  // The last day the nights planned before this one. A backfill of a day the nights have already
  // passed replans that day only (versions, no carries).
  const [{ planned }] = (await ctx.tx.$queryRaw<{ planned: Date | null }[]>`
    SELECT max(run_date) + 1 AS planned
    FROM job_runs WHERE job = 'NIGHTLY' AND status = 'SUCCEEDED' AND id::text <> ${ctx.runId}`) as [
    { planned: Date | null },
  ];
  const newest = planned === null || dateString(planned) < planDate;
  const { changes, carried } = await replanWithCarries(
    ctx.tx,
    learners.map((userId) => ({ userId, planDate })),
    'NIGHTLY',
    { now: ctx.at, learnerModel: ctx.config.learnerModel, carry: newest },
  );
  // A learner no longer planned keeps their carried days up to the last day a night planned.
  const carriesEnded =
    newest && planned
      ? await ctx.tx.$executeRaw`
          UPDATE plan_carries c SET through_date = ${dateString(planned)}::date
          WHERE c.through_date IS NULL
            AND NOT EXISTS (SELECT 1 FROM unnest(${learners}::uuid[]) AS l(id) WHERE l.id = c.user_id)`
      : 0;
  ctx.afterCommit(() => {
    if (ctx.pubsub) publishPlanChanges(ctx.pubsub, changes);
  });
  return {
    learnersPlanned: learners.length,
    plansChanged: changes.length,
    plansCarried: carried,
    carriesEnded,
    ...(analysed.length > 0 ? { planTablesAnalysed: analysed.length } : {}),
  };
}
