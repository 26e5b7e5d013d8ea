// Daily plans: the nightly job builds tomorrow's plan for every active learner, and endSession
// adjusts the learner's plan at once. Both go through replanLearners: three set-based statements per
// chunk of learners (lock, read every input, write units and adjustments), whatever their number; the
// allocation itself is the pure learnerPlan (src/domain/plan-adjustment.ts).
// The learners' rows are locked (FOR NO KEY UPDATE, in id order) for the rest of the transaction, so
// two replans of one learner (two sessions ending at once, a session ending during the nightly run)
// run one after the other and each adjustment's `before` is the plan the other left.
// Unit ids are stable: a rebuilt plan updates the units of subcategories it keeps, so an id a client
// holds (for setPlanUnitStatus) stays valid as long as its subcategory stays in the plan.
import { dateString } from '../domain/calendar.ts';
import type { MasteryAttempt } from '../domain/mastery.ts';
import { learnerPlan } from '../domain/plan-adjustment.ts';
import type { PlanTrigger, PlanUnitStatus } from '../generated/prisma/client.ts';
import type { Transaction } from './transaction.ts';

/** A plan unit as a plan adjustment records it (before and after). */
export interface UnitSnapshot {
  subcategory: string;
  targetQuestions: number;
  priority: number;
  reason: string;
  status: PlanUnitStatus;
}

export interface PlanRequest {
  userId: string;
  /** YYYY-MM-DD in the learner's time zone. */
  planDate: string;
  /** The attempts of a session just ended: they update mastery provisionally and weigh its subcategories. */
  sessionAttempts?: readonly (MasteryAttempt & { subcategory: string })[];
}

/** A stored plan change (its units are in the PlanAdjustment row): kept small, a night makes one per learner. */
export interface PlanChange {
  adjustmentId: string;
  userId: string;
  planDate: string;
  trigger: PlanTrigger;
}

export interface ReplanOptions {
  now: Date;
  sessionId?: string | null;
}

/** Statement size: learners whose plans are read and written per statement (500 keeps a night of 100,000 learners under 1 GiB). */
const chunkSize = 500;

/**
 * Rebuilds the plans of these learners for their plan dates. Writes the units and, for every plan that
 * changed, one PlanAdjustment; returns those changes so the caller can publish them after commit
 * (publishPlanChanges in src/pubsub.ts). A plan that comes out as it was is neither written nor returned.
 */
export async function replanLearners(tx: Transaction, requests: readonly PlanRequest[], trigger: PlanTrigger, options: ReplanOptions): Promise<PlanChange[]> {
  const changes: PlanChange[] = [];
  for (let i = 0; i < requests.length; i += chunkSize) {
    changes.push(...(await replanChunk(tx, requests.slice(i, i + chunkSize), trigger, options)));
  }
  return changes;
}

interface LearnerInputs {
  importance: Map<string, number>;
  budget: Map<string, number>;
  mastery: Map<string, Map<string, number>>;
  lastPractice: Map<string, Map<string, Date>>;
  existing: Map<string, UnitSnapshot[]>;
}

async function replanChunk(tx: Transaction, requests: readonly PlanRequest[], trigger: PlanTrigger, { now, sessionId = null }: ReplanOptions): Promise<PlanChange[]> {
  const inputs = await loadInputs(tx, requests);
  const planned = requests.map((request) => {
    const units = learnerPlan({
      budget: inputs.budget.get(request.userId) ?? 0,
      planDate: request.planDate,
      importance: inputs.importance,
      mastery: inputs.mastery.get(request.userId) ?? new Map(),
      lastPractice: inputs.lastPractice.get(request.userId) ?? new Map(),
      now,
      sessionAttempts: request.sessionAttempts,
    });
    const before = inputs.existing.get(key(request)) ?? [];
    // A unit already marked DONE or SKIPPED keeps its status when the plan is rebuilt.
    const statusOf = new Map(before.map((unit) => [unit.subcategory, unit.status]));
    const after = units.map((unit): UnitSnapshot => ({ ...unit, status: statusOf.get(unit.subcategory) ?? 'PENDING' }));
    return { request, before, after };
  });
  const changed = planned.filter((p) => JSON.stringify(p.before) !== JSON.stringify(p.after));
  if (changed.length === 0) return [];
  const inserted = await writePlans(tx, changed, trigger, sessionId);
  const idOf = new Map(inserted.map((row) => [key({ userId: row.user_id, planDate: dateString(row.plan_date) }), row.id]));
  return changed.map((p) => ({
    adjustmentId: idOf.get(key(p.request))!,
    userId: p.request.userId,
    planDate: p.request.planDate,
    trigger,
  }));
}

const key = (r: { userId: string; planDate: string }) => `${r.userId}|${r.planDate}`;

type UnitRow = [userId: string, planDate: string, subcategory: string, targetQuestions: number, priority: number, reason: string, status: PlanUnitStatus];

async function loadInputs(tx: Transaction, requests: readonly PlanRequest[]): Promise<LearnerInputs> {
  const userIds = [...new Set(requests.map((r) => r.userId))];
  // The lock serialises replans of one learner (NO KEY UPDATE leaves inserts that reference the user
  // alone). It is its own statement so that the reads below see what a replan we waited for committed.
  const users = await tx.$queryRaw<{ id: string; budget: number }[]>`
    SELECT id, daily_question_budget AS budget FROM users WHERE id = ANY(${userIds}::uuid[]) ORDER BY id FOR NO KEY UPDATE`;
  // Everything else in one round trip. (JSON keeps float8 exact: PostgreSQL prints shortest round-trip digits.)
  const [row] = await tx.$queryRaw<{ importance: [string, number][]; masteries: [string, string, number][]; practice: [string, string, string][]; units: UnitRow[] }[]>`
    SELECT
      (SELECT coalesce(json_agg(json_build_array(subcategory, importance) ORDER BY subcategory), '[]')
       FROM (SELECT subcategory, avg(importance_index)::float8 AS importance FROM questions GROUP BY subcategory) i) AS importance,
      (SELECT coalesce(json_agg(json_build_array(user_id, subcategory, score)), '[]')
       FROM masteries WHERE user_id = ANY(${userIds}::uuid[])) AS masteries,
      (SELECT coalesce(json_agg(json_build_array(user_id, subcategory, last)), '[]')
       FROM (SELECT a.user_id, q.subcategory, max(COALESCE(a.answered_at, a.recorded_at)) AS last
             FROM attempts a JOIN questions q ON q.id = a.question_id
             WHERE a.user_id = ANY(${userIds}::uuid[])
             GROUP BY a.user_id, q.subcategory) p) AS practice,
      (SELECT coalesce(json_agg(json_build_array(p.user_id, p.plan_date, p.subcategory, p.target_questions, p.priority, p.reason, p.status)
                                ORDER BY p.user_id, p.plan_date, p.priority, p.subcategory), '[]')
       FROM plan_units p
       JOIN unnest(${requests.map((r) => r.userId)}::uuid[], ${requests.map((r) => r.planDate)}::date[]) AS t(u, d)
         ON p.user_id = t.u AND p.plan_date = t.d) AS units`;
  const { importance, masteries, practice, units } = row!;

  const nested = <V>(rows: [string, string, V][]) => {
    const map = new Map<string, Map<string, V>>();
    for (const [userId, subcategory, value] of rows) {
      const inner = map.get(userId) ?? new Map<string, V>();
      inner.set(subcategory, value);
      map.set(userId, inner);
    }
    return map;
  };
  const existing = new Map<string, UnitSnapshot[]>();
  for (const [userId, planDate, subcategory, targetQuestions, priority, reason, status] of units) {
    const k = key({ userId, planDate });
    const list = existing.get(k) ?? [];
    list.push({ subcategory, targetQuestions, priority, reason, status });
    existing.set(k, list);
  }
  return {
    importance: new Map(importance),
    budget: new Map(users.map((u) => [u.id, u.budget])),
    mastery: nested(masteries),
    lastPractice: nested(practice.map(([u, s, last]) => [u, s, new Date(last)] as [string, string, Date])),
    existing,
  };
}

/**
 * Writes the changed plans in one statement: units of dropped subcategories go, the others are
 * inserted or updated in place (their ids stay), and one PlanAdjustment per plan is inserted.
 */
async function writePlans(
  tx: Transaction,
  changed: { request: PlanRequest; before: UnitSnapshot[]; after: UnitSnapshot[] }[],
  trigger: PlanTrigger,
  sessionId: string | null,
): Promise<{ id: string; user_id: string; plan_date: Date }[]> {
  const rows = changed.flatMap(({ request, after }) => after.map((unit) => ({ ...unit, userId: request.userId, planDate: request.planDate })));
  const planUsers = changed.map((p) => p.request.userId);
  const planDates = changed.map((p) => p.request.planDate);
  // The sub-statements touch disjoint rows (dropped subcategories vs kept ones), as WITH requires.
  return tx.$queryRaw`
    WITH dropped AS (
      DELETE FROM plan_units p
      USING unnest(${planUsers}::uuid[], ${planDates}::date[]) AS t(u, d)
      WHERE p.user_id = t.u AND p.plan_date = t.d
        AND (p.user_id, p.plan_date, p.subcategory) NOT IN (
          SELECT * FROM unnest(${rows.map((r) => r.userId)}::uuid[], ${rows.map((r) => r.planDate)}::date[], ${rows.map((r) => r.subcategory)}::text[]))
    ), kept AS (
      INSERT INTO plan_units (user_id, plan_date, subcategory, target_questions, priority, reason, status)
      SELECT u, d, s, n, p, r, st::"PlanUnitStatus"
      FROM unnest(${rows.map((r) => r.userId)}::uuid[], ${rows.map((r) => r.planDate)}::date[], ${rows.map((r) => r.subcategory)}::text[],
                  ${rows.map((r) => r.targetQuestions)}::int[], ${rows.map((r) => r.priority)}::int[], ${rows.map((r) => r.reason)}::text[],
                  ${rows.map((r) => r.status)}::text[]) AS t(u, d, s, n, p, r, st)
      ON CONFLICT (user_id, plan_date, subcategory) DO UPDATE
        SET target_questions = EXCLUDED.target_questions, priority = EXCLUDED.priority, reason = EXCLUDED.reason,
            status = EXCLUDED.status, updated_at = now()
    )
    INSERT INTO plan_adjustments (user_id, plan_date, trigger, session_id, before, after)
    SELECT u, d, ${trigger}::"PlanTrigger", ${sessionId}::uuid, b::jsonb, a::jsonb
    FROM unnest(${planUsers}::uuid[], ${planDates}::date[],
                ${changed.map((p) => JSON.stringify(p.before))}::text[], ${changed.map((p) => JSON.stringify(p.after))}::text[]) AS t(u, d, b, a)
    RETURNING id, user_id, plan_date`;
}
