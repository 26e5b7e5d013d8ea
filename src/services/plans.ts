// Daily plans: the nightly job builds tomorrow's plan for every active learner, and endSession
// adjusts the learner's plan at once. Both go through replanLearners: a few set-based statements for
// any number of learners, the allocation itself in the pure allocatePlan (src/domain/plan.ts).
import { dateString } from '../domain/calendar.ts';
import { provisionalMastery, type MasteryAttempt } from '../domain/mastery.ts';
import { allocatePlan, type SubcategoryState } from '../domain/plan.ts';
import { accuracyBySubcategory } from '../domain/session-summary.ts';
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

export interface PlanChange {
  adjustmentId: string;
  userId: string;
  planDate: string;
  trigger: PlanTrigger;
  before: UnitSnapshot[];
  after: UnitSnapshot[];
}

export interface ReplanOptions {
  now: Date;
  sessionId?: string | null;
}

/** Statement size: learners whose plans are read and written per statement. */
const chunkSize = 2_000;
const dayMs = 86_400_000;

/**
 * Rebuilds the plans of these learners for their plan dates. Writes the units and, for every plan that
 * changed, one PlanAdjustment; returns those changes so the caller can publish them after commit.
 */
export async function replanLearners(tx: Transaction, requests: readonly PlanRequest[], trigger: PlanTrigger, options: ReplanOptions): Promise<PlanChange[]> {
  if (requests.length === 0) return [];
  const importance = await subcategoryImportance(tx);
  const changes: PlanChange[] = [];
  for (let i = 0; i < requests.length; i += chunkSize) {
    changes.push(...(await replanChunk(tx, requests.slice(i, i + chunkSize), importance, trigger, options)));
  }
  return changes;
}

async function subcategoryImportance(tx: Transaction): Promise<Map<string, number>> {
  const rows = await tx.$queryRaw<{ subcategory: string; importance: number }[]>`
    SELECT subcategory, avg(importance_index)::float8 AS importance FROM questions GROUP BY subcategory ORDER BY subcategory`;
  return new Map(rows.map((r) => [r.subcategory, r.importance]));
}

interface LearnerInputs {
  budget: Map<string, number>;
  mastery: Map<string, Map<string, number>>;
  lastPractice: Map<string, Map<string, Date>>;
  existing: Map<string, UnitSnapshot[]>;
}

async function replanChunk(
  tx: Transaction,
  requests: readonly PlanRequest[],
  importance: Map<string, number>,
  trigger: PlanTrigger,
  { now, sessionId = null }: ReplanOptions,
): Promise<PlanChange[]> {
  const inputs = await loadInputs(tx, requests);
  const planned = requests.map((request) => {
    const units = allocatePlan({
      budget: inputs.budget.get(request.userId) ?? 0,
      planDate: request.planDate,
      subcategories: subcategoryStates(request, importance, inputs, now),
    });
    const before = inputs.existing.get(key(request)) ?? [];
    // A unit already marked DONE or SKIPPED keeps its status when the plan is rebuilt.
    const statusOf = new Map(before.map((unit) => [unit.subcategory, unit.status]));
    const after = units.map((unit): UnitSnapshot => ({ ...unit, status: statusOf.get(unit.subcategory) ?? 'PENDING' }));
    return { request, before, after };
  });
  await writeUnits(tx, planned);
  const changed = planned.filter((p) => JSON.stringify(p.before) !== JSON.stringify(p.after));
  if (changed.length === 0) return [];
  const before = changed.map((p) => p.before);
  const after = changed.map((p) => p.after);
  const inserted = await tx.$queryRaw<{ id: string; user_id: string; plan_date: Date }[]>`
    INSERT INTO plan_adjustments (user_id, plan_date, trigger, session_id, before, after)
    SELECT u, d, ${trigger}::"PlanTrigger", ${sessionId}::uuid, b::jsonb, a::jsonb
    FROM unnest(${changed.map((p) => p.request.userId)}::uuid[], ${changed.map((p) => p.request.planDate)}::date[],
                ${before.map((b) => JSON.stringify(b))}::text[], ${after.map((a) => JSON.stringify(a))}::text[])
         AS t(u, d, b, a)
    RETURNING id, user_id, plan_date`;
  const idOf = new Map(inserted.map((row) => [key({ userId: row.user_id, planDate: dateString(row.plan_date) }), row.id]));
  return changed.map((p, i) => ({
    adjustmentId: idOf.get(key(p.request))!,
    userId: p.request.userId,
    planDate: p.request.planDate,
    trigger,
    before: before[i]!,
    after: after[i]!,
  }));
}

const key = (r: { userId: string; planDate: string }) => `${r.userId}|${r.planDate}`;

async function loadInputs(tx: Transaction, requests: readonly PlanRequest[]): Promise<LearnerInputs> {
  const userIds = [...new Set(requests.map((r) => r.userId))];
  const users = await tx.$queryRaw<{ id: string; budget: number }[]>`
    SELECT id, daily_question_budget AS budget FROM users WHERE id = ANY(${userIds}::uuid[])`;
  const masteries = await tx.$queryRaw<{ user_id: string; subcategory: string; score: number }[]>`
    SELECT user_id, subcategory, score FROM masteries WHERE user_id = ANY(${userIds}::uuid[])`;
  const practice = await tx.$queryRaw<{ user_id: string; subcategory: string; last: Date }[]>`
    SELECT a.user_id, q.subcategory, max(COALESCE(a.answered_at, a.recorded_at)) AS last
    FROM attempts a JOIN questions q ON q.id = a.question_id
    WHERE a.user_id = ANY(${userIds}::uuid[])
    GROUP BY a.user_id, q.subcategory`;
  const units = await tx.$queryRaw<{ user_id: string; plan_date: Date; subcategory: string; target_questions: number; priority: number; reason: string; status: PlanUnitStatus }[]>`
    SELECT p.user_id, p.plan_date, p.subcategory, p.target_questions, p.priority, p.reason, p.status
    FROM plan_units p
    JOIN unnest(${requests.map((r) => r.userId)}::uuid[], ${requests.map((r) => r.planDate)}::date[]) AS t(u, d)
      ON p.user_id = t.u AND p.plan_date = t.d
    ORDER BY p.priority, p.subcategory`;

  const nested = <V>(rows: { user_id: string; subcategory: string }[], value: (row: never) => V) => {
    const map = new Map<string, Map<string, V>>();
    for (const row of rows) {
      const inner = map.get(row.user_id) ?? new Map<string, V>();
      inner.set(row.subcategory, value(row as never));
      map.set(row.user_id, inner);
    }
    return map;
  };
  const existing = new Map<string, UnitSnapshot[]>();
  for (const row of units) {
    const k = key({ userId: row.user_id, planDate: dateString(row.plan_date) });
    const list = existing.get(k) ?? [];
    list.push({ subcategory: row.subcategory, targetQuestions: row.target_questions, priority: row.priority, reason: row.reason, status: row.status });
    existing.set(k, list);
  }
  return {
    budget: new Map(users.map((u) => [u.id, u.budget])),
    mastery: nested(masteries, (r: { score: number }) => r.score),
    lastPractice: nested(practice, (r: { last: Date }) => r.last),
    existing,
  };
}

function subcategoryStates(request: PlanRequest, importance: Map<string, number>, inputs: LearnerInputs, now: Date): SubcategoryState[] {
  const stored = inputs.mastery.get(request.userId) ?? new Map<string, number>();
  const session = request.sessionAttempts ?? [];
  const mastery = session.length > 0 ? provisionalMastery(stored, session) : stored;
  const sessionAccuracy = accuracyBySubcategory(session);
  const practised = inputs.lastPractice.get(request.userId) ?? new Map<string, Date>();
  return [...importance].map(([subcategory, weight]) => {
    const last = practised.get(subcategory);
    return {
      subcategory,
      importance: weight,
      mastery: mastery.get(subcategory) ?? null,
      daysSincePractice: last ? Math.max(0, Math.floor((now.getTime() - last.getTime()) / dayMs)) : null,
      sessionAccuracy: sessionAccuracy.get(subcategory) ?? null,
    };
  });
}

async function writeUnits(tx: Transaction, planned: { request: PlanRequest; after: UnitSnapshot[] }[]): Promise<void> {
  await tx.$executeRaw`
    DELETE FROM plan_units p
    USING unnest(${planned.map((p) => p.request.userId)}::uuid[], ${planned.map((p) => p.request.planDate)}::date[]) AS t(u, d)
    WHERE p.user_id = t.u AND p.plan_date = t.d`;
  const rows = planned.flatMap(({ request, after }) => after.map((unit) => ({ ...unit, userId: request.userId, planDate: request.planDate })));
  if (rows.length === 0) return;
  await tx.$executeRaw`
    INSERT INTO plan_units (user_id, plan_date, subcategory, target_questions, priority, reason, status)
    SELECT u, d, s, n, p, r, st::"PlanUnitStatus"
    FROM unnest(${rows.map((r) => r.userId)}::uuid[], ${rows.map((r) => r.planDate)}::date[], ${rows.map((r) => r.subcategory)}::text[],
                ${rows.map((r) => r.targetQuestions)}::int[], ${rows.map((r) => r.priority)}::int[], ${rows.map((r) => r.reason)}::text[],
                ${rows.map((r) => r.status)}::text[]) AS t(u, d, s, n, p, r, st)`;
}
