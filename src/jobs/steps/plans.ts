// NIGHTLY step 6: tomorrow's plan for every learner active in the last 30 days (SPEC 5), through the
// same set-based replanLearners the session-end adjustment uses. The plans are for the day after the
// day the run closes; changes are published once the run has committed.
// A plan is made from what the learner has shown, not from the clock (docs/nightly-incremental.md):
// its mastery is the estimate right after the learner's last attempt in the subcategory, and the
// clock enters only through review (7+ days since practice). So on the newest night only the
// learners whose inputs may have moved since the day before's plan are planned again (selectReplans);
// every other active learner keeps that plan, carried over in SQL (carryVersions), which is what
// planning them again would give. A full run, a night whose day before was not planned by a newest
// night, or a bank whose importance moved plans everyone. A planned plan that comes out as the day
// before's is carried too (no version, nothing published), and the carry of a learner no longer
// planned ends the day before.
import { addDays, dateString } from '../../domain/calendar.ts';
import { planDefaults } from '../../domain/plan.ts';
import { Prisma } from '../../generated/prisma/client.ts';
import { publishPlanChanges } from '../../pubsub.ts';
import { bankImportance, replanWithCarries, scoredWithoutPlanMastery } from '../../services/plans.ts';
import type { RunContext, StepStats } from '../context.ts';
import { activeLearnerIds, activeLearnersSql } from './active-learners.ts';
import { refreshStaleStatistics } from './table-statistics.ts';

/** SPEC 5: the nightly job plans for learners active in the last 30 days. */
export const planActiveDays = 30;

/**
 * What replanLearners looks up per chunk of learners (src/services/plans.ts): their inputs, and their
 * plans, which the nights before this one wrote (the carries of a night after a full one are tens of
 * thousands the statistics have not seen: the lookups of each chunk would scan them all).
 */
const tablesReadPerChunk = ['masteries', 'skill_states', 'plan_adjustments', 'plan_carries'];

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
  const bank = await recordPlanNight(ctx, planDate, newest);
  const { replan, keep } =
    newest && !ctx.full && bank.previousAt !== null && bank.same
      ? await selectReplans(ctx, planDate, bank.previousAt)
      : { replan: learners, keep: [] };
  const { changes, carried } = await replanWithCarries(
    ctx.tx,
    replan.map((userId) => ({ userId, planDate })),
    'NIGHTLY',
    { now: ctx.at, carry: newest },
  );
  if (keep.length > 0) await carryVersions(ctx, keep, planDate);
  // A learner no longer planned keeps their carried days up to the last day a night planned. Found as a
  // difference of two scans (hashed), not by looking every open carry's learner up among the active.
  const carriesEnded =
    newest && planned
      ? await ctx.tx.$executeRaw`
          UPDATE plan_carries c SET through_date = ${dateString(planned)}::date
          FROM (SELECT user_id FROM plan_carries WHERE through_date IS NULL
                EXCEPT SELECT id FROM ${await activeLearnersSql(ctx, planActiveDays)} l) gone
          WHERE c.user_id = gone.user_id AND c.through_date IS NULL`
      : 0;
  ctx.afterCommit(() => {
    if (ctx.pubsub) publishPlanChanges(ctx.pubsub, changes);
  });
  const skipped = learners.length - replan.length;
  return {
    learnersPlanned: learners.length,
    plansSkipped: skipped,
    plansChanged: changes.length,
    plansCarried: carried + skipped,
    carriesEnded,
    ...(analysed.length > 0 ? { planTablesAnalysed: analysed.length } : {}),
  };
}

/**
 * Records what the newest night plans its day with (plan_nights: its `at` and the bank), and tells
 * whether the day before was planned by a newest night (its `at`, else null) with the same bank.
 * A backfill removes its day's row instead: the next night then plans everyone, since the day's
 * plans were made as of another instant.
 */
async function recordPlanNight(
  ctx: RunContext,
  planDate: string,
  newest: boolean,
): Promise<{ previousAt: Date | null; same: boolean }> {
  const dayBefore = addDays(planDate, -1);
  // The bank as plans see it: its importances. Which question is in which subcategory is no input: a
  // plan's last practice per subcategory is the model's (skill_states), which a moved question leaves.
  const [row] = await ctx.tx.$queryRaw<{ previous_at: Date | null; same: boolean }[]>`
    SELECT p.at AS previous_at, p.bank::jsonb = ${bankImportance}::jsonb AS same
    FROM (SELECT 1) one LEFT JOIN plan_nights p ON p.plan_date = ${dayBefore}::date`;
  if (newest) {
    await ctx.tx.$executeRaw`
      WITH old AS (DELETE FROM plan_nights WHERE plan_date < ${dayBefore}::date)
      INSERT INTO plan_nights (plan_date, at, bank)
      VALUES (${planDate}::date, ${ctx.at}::timestamptz, ${bankImportance})
      ON CONFLICT (plan_date) DO UPDATE SET at = EXCLUDED.at, bank = EXCLUDED.bank`;
  } else {
    await ctx.tx.$executeRaw`DELETE FROM plan_nights WHERE plan_date = ${planDate}::date`;
  }
  return { previousAt: row?.previous_at ?? null, same: row?.same ?? false };
}

/**
 * Of the active learners, those whose plan for planDate may differ from their day before's plan
 * (`replan`), and those who keep it with the day before a version (`keep`: carried over from it).
 * The rest keep it through their open carry, which extends by itself. Planned again are the learners
 *  - with an attempt recorded since the previous run's watermark (late syncs, the replay, and
 *    attempts recorded after the window that the plans already read);
 *  - with a subcategory whose last practice (its skill state's lastAttemptAt) falls due for review
 *    between the previous night's `at` and this one's (floor(days) reaching reviewAfterDays);
 *  - with a nightly score in a subcategory without a plan mastery (the score moves every night);
 *  - whose day has a version already (a session ended since), whose day before was adjusted at a
 *    session's end (its session accuracy is no input of a nightly plan), has no plan or only a closed
 *    carry, or whose day before's targets do not add up to their budget (the budget changed).
 */
async function selectReplans(
  ctx: RunContext,
  planDate: string,
  previousAt: Date,
): Promise<{ replan: string[]; keep: string[] }> {
  const dayBefore = addDays(planDate, -1);
  const review = Prisma.sql`${planDefaults.reviewAfterDays}::int * interval '1 day'`;
  // Set-based: the day before's versions (as many as the last night wrote) and the open carries are
  // joined to the learners, so no learner costs an index lookup of their own; versions and carries
  // keep their targets' total, so no units are read (nor sorted with the versions).
  const rows = await ctx.tx.$queryRaw<{ id: string; replan: boolean }[]>`
    WITH recent AS (
      SELECT DISTINCT a.user_id FROM attempts a
      WHERE a.recorded_at > COALESCE(${ctx.windowStart}::timestamptz, '-infinity')),
    crossed AS (
      SELECT DISTINCT k.user_id FROM skill_states k
      WHERE k.last_attempt_at > ${previousAt}::timestamptz - ${review}
        AND k.last_attempt_at <= ${ctx.at}::timestamptz - ${review}),
    unscored AS (
      SELECT DISTINCT m.user_id FROM masteries m WHERE ${scoredWithoutPlanMastery}),
    adjusted AS (
      SELECT DISTINCT a.user_id FROM plan_adjustments a
      WHERE (a.plan_date = ${dayBefore}::date AND a.trigger = 'SESSION_END') OR a.plan_date = ${planDate}::date),
    versions AS (
      SELECT DISTINCT ON (a.user_id) a.user_id, a.target_total
      FROM plan_adjustments a WHERE a.plan_date = ${dayBefore}::date ORDER BY a.user_id, a.version DESC),
    carries AS (
      SELECT c.user_id, c.target_total, c.through_date FROM plan_carries c
      WHERE c.from_date <= ${dayBefore}::date AND (c.through_date IS NULL OR c.through_date >= ${dayBefore}::date)),
    decided AS MATERIALIZED (
      SELECT l.id, v.user_id IS NOT NULL AS versioned,
             l.id IN (SELECT user_id FROM recent) OR l.id IN (SELECT user_id FROM crossed)
             OR l.id IN (SELECT user_id FROM unscored) OR l.id IN (SELECT user_id FROM adjusted)
             OR (v.user_id IS NULL AND (c.user_id IS NULL OR c.through_date IS NOT NULL))
             OR u.daily_question_budget <> COALESCE(v.target_total, c.target_total) AS replan
      FROM ${await activeLearnersSql(ctx, planActiveDays)} l JOIN users u ON u.id = l.id
      LEFT JOIN versions v ON v.user_id = l.id
      LEFT JOIN carries c ON v.user_id IS NULL AND c.user_id = l.id)
    SELECT id::text, replan FROM decided WHERE replan OR versioned ORDER BY id`;
  return {
    replan: rows.filter((r) => r.replan).map((r) => r.id),
    keep: rows.filter((r) => !r.replan).map((r) => r.id),
  };
}

/**
 * These learners' day before is a version they keep: a carry starts at planDate with its units, every
 * unit PENDING (as startCarries writes the plan a replan finds unchanged), and their open carry ends
 * the day before. One statement.
 */
async function carryVersions(ctx: RunContext, userIds: readonly string[], planDate: string): Promise<void> {
  const dayBefore = addDays(planDate, -1);
  // The statuses (PENDING, DONE, SKIPPED) reset in the text: versions are JSON.stringify's output (no
  // spaces), and no other string of theirs holds a quote. Each version is looked up by its key: sorting
  // the day's versions with their JSON to keep the latest spills to disk.
  await ctx.tx.$executeRaw`
    WITH kept AS (SELECT l.id FROM unnest(${userIds}::uuid[]) AS l(id)),
    ended AS (
      UPDATE plan_carries c SET through_date = ${dayBefore}::date FROM kept l
      WHERE c.user_id = l.id AND c.through_date IS NULL AND c.from_date < ${planDate}::date)
    INSERT INTO plan_carries (user_id, from_date, through_date, units, target_total, units_digest)
    SELECT l.id, ${planDate}::date, NULL,
           replace(replace(v.after::text, '"status":"DONE"', '"status":"PENDING"'),
                   '"status":"SKIPPED"', '"status":"PENDING"')::json,
           v.target_total, v.units_digest
    FROM kept l
    CROSS JOIN LATERAL (SELECT a.after, a.target_total, a.units_digest FROM plan_adjustments a
                        WHERE a.user_id = l.id AND a.plan_date = ${dayBefore}::date
                        ORDER BY a.version DESC LIMIT 1) v
    ON CONFLICT (user_id, from_date) DO UPDATE
    SET through_date = NULL, units = EXCLUDED.units, target_total = EXCLUDED.target_total,
        units_digest = EXCLUDED.units_digest`;
}
