// NIGHTLY step 6: cleanup of derived rows past their retention. Attempts and sessions are the
// record and are never deleted here.
//   plans              plan date more than 90 days before the run's date: every version (the
//                      plan_adjustments rows) of the plan goes at once, so no plan loses its latest;
//                      carry-overs lose those days too (one that ended before goes, one that started
//                      before starts at the first day kept)
//   learning patterns  computed more than 90 days before the run's `at`, except a learner's latest row
//                      (their stored pattern, carried while it does not change) while the learner has an
//                      attempt recorded in those 90 days
//   job runs           slot more than 180 days before `at`, finished (never a RUNNING one), and never
//                      a job's latest successful run: its watermark is where the next run starts.
import type { RunContext, StepStats } from '../context.ts';

export async function cleanup(ctx: RunContext): Promise<StepStats> {
  const { tx, at, date, config } = ctx;
  const { planDays, learningPatternDays, jobRunDays } = config.retention;
  const planAdjustmentsDeleted = await tx.$executeRaw`
    DELETE FROM plan_adjustments WHERE plan_date < ${date}::date - ${planDays}::int`;
  const planCarriesDeleted = await tx.$executeRaw`
    DELETE FROM plan_carries WHERE through_date < ${date}::date - ${planDays}::int`;
  // A learner's carries never overlap (startCarries), so moving the start keeps them apart.
  await tx.$executeRaw`
    UPDATE plan_carries SET from_date = ${date}::date - ${planDays}::int
    WHERE from_date < ${date}::date - ${planDays}::int`;
  const learningPatternsDeleted = await tx.$executeRaw`
    DELETE FROM learning_patterns p
    WHERE p.computed_at < ${at}::timestamptz - ${learningPatternDays}::int * interval '1 day'
      AND (EXISTS (SELECT 1 FROM learning_patterns n WHERE n.user_id = p.user_id AND n.computed_at > p.computed_at)
           OR NOT EXISTS (SELECT 1 FROM attempts a
                          WHERE a.user_id = p.user_id AND a.recorded_at <= ${at}::timestamptz
                            AND a.recorded_at > ${at}::timestamptz - ${learningPatternDays}::int * interval '1 day'))`;
  const jobRunsDeleted = await tx.$executeRaw`
    DELETE FROM job_runs j
    WHERE j.slot < ${at}::timestamptz - ${jobRunDays}::int * interval '1 day'
      AND j.status <> 'RUNNING'
      AND j.id NOT IN (SELECT DISTINCT ON (job) id FROM job_runs
                       WHERE status = 'SUCCEEDED'
                       ORDER BY job, watermark DESC NULLS LAST, slot DESC)`;
  return { planAdjustmentsDeleted, planCarriesDeleted, learningPatternsDeleted, jobRunsDeleted };
}
