// NIGHTLY step 6: cleanup of derived rows past their retention. Attempts and sessions are the
// record and are never deleted here.
//   plans              plan date more than 90 days before the run's date: every version (the
//                      plan_adjustments rows) of the plan goes at once, so no plan loses its latest
//   learning patterns  computed more than 90 days before the run's `at` (one a night per learner)
//   job runs           slot more than 180 days before `at`, finished (never a RUNNING one), and never
//                      a job's latest successful run: its watermark is where the next run starts.
import type { RunContext, StepStats } from '../context.ts';

export async function cleanup(ctx: RunContext): Promise<StepStats> {
  const { tx, at, date, config } = ctx;
  const { planDays, learningPatternDays, jobRunDays } = config.retention;
  const planAdjustmentsDeleted = await tx.$executeRaw`
    DELETE FROM plan_adjustments WHERE plan_date < ${date}::date - ${planDays}::int`;
  const learningPatternsDeleted = await tx.$executeRaw`
    DELETE FROM learning_patterns
    WHERE computed_at < ${at}::timestamptz - ${learningPatternDays}::int * interval '1 day'`;
  const jobRunsDeleted = await tx.$executeRaw`
    DELETE FROM job_runs j
    WHERE j.slot < ${at}::timestamptz - ${jobRunDays}::int * interval '1 day'
      AND j.status <> 'RUNNING'
      AND j.id NOT IN (SELECT DISTINCT ON (job) id FROM job_runs
                       WHERE status = 'SUCCEEDED'
                       ORDER BY job, watermark DESC NULLS LAST, slot DESC)`;
  return { planAdjustmentsDeleted, learningPatternsDeleted, jobRunsDeleted };
}
