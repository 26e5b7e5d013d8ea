// Daily plans: the nightly job builds tomorrow's plan for every active learner, and endSession
// adjusts the learner's plan at once. Both go through replanLearners: one statement locks every
// learner of the replan, then a fixed number of set-based statements per chunk of learners (read every
// input: the bank's importance, nightly scores, practice, the skill states' plan mastery, the stored
// plans; write units and adjustments), whatever their number;
// the allocation itself is the pure learnerPlan (src/domain/plan-adjustment.ts), its mastery the
// live estimate right after the learner's last attempt in the subcategory (skill_states.plan_mastery:
// what the learner has shown, not the clock; docs/nightly-incremental.md).
// The learners' rows are locked (FOR NO KEY UPDATE, in id order) for the rest of the transaction, so
// two replans of one learner (two sessions ending at once, a session ending during the nightly run)
// run one after the other and each adjustment's `before` is the plan the other left.
// A plan is the `after` of its latest version in plan_adjustments (prisma/schema.prisma): a change
// appends one row, the plan and its history at once. A day without a version may be carried over
// (plan_carries): NIGHTLY found it the same as the day before and stored its units once for the days
// it stays so (effectivePlans). A unit is named by (learner, date, subcategory), so an id a client
// holds (for setPlanUnitStatus) stays valid as long as its subcategory stays in the plan.
import { createHash, randomUUID } from 'node:crypto';
import { readingAhead } from '../db/in-flight.ts';
import type { SqlClient, Transaction } from '../db/types.ts';
import { addDays } from '../domain/calendar.ts';
import type { MasteryAttempt } from '../domain/mastery.ts';
import { learnerPlan } from '../domain/plan-adjustment.ts';
import { type PlanTrigger, type PlanUnitStatus, Prisma } from '../generated/prisma/client.ts';

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
  /** The attempts of a session just ended: their accuracy weighs its subcategories. */
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
  /** The instant the plans are made at: the days since practice are counted to it (review). */
  now: Date;
  sessionId?: string | null;
  /**
   * Given, learners another transaction holds (a job run planning them) are not waited for: their
   * requests are pushed here, unplanned, for the caller to apply later (src/services/pending-replans.ts).
   */
  skippedLocked?: PlanRequest[];
  /**
   * NIGHTLY's newest night: a plan with no version for its day that comes out as the day before's
   * (statuses aside) is carried over (plan_carries) instead of getting a version.
   */
  carry?: boolean;
}

/**
 * Statement size: learners whose plans are read and written per statement (500 keeps a night of 100,000 learners under
 * 1 GiB).
 */
const chunkSize = 500;

/**
 * Rebuilds the plans of these learners for their plan dates. Appends, for every plan that changed,
 * its next version; returns those changes so the caller can publish them after commit
 * (publishPlanChanges in src/pubsub.ts). A plan that comes out as it was is neither written nor returned.
 */
export async function replanLearners(
  tx: Transaction,
  requests: readonly PlanRequest[],
  trigger: PlanTrigger,
  options: ReplanOptions,
): Promise<PlanChange[]> {
  return (await replanWithCarries(tx, requests, trigger, options)).changes;
}

/** replanLearners, also counting the plans carried over (with `carry`). */
export async function replanWithCarries(
  tx: Transaction,
  requests: readonly PlanRequest[],
  trigger: PlanTrigger,
  options: ReplanOptions,
): Promise<{ changes: PlanChange[]; carried: number }> {
  const changes: PlanChange[] = [];
  let carried = 0;
  if (requests.length === 0) return { changes, carried };
  const budget = await lockLearners(tx, requests, options.skippedLocked !== undefined);
  const locked = options.skippedLocked ? requests.filter((request) => budget.has(request.userId)) : requests;
  options.skippedLocked?.push(...requests.filter((request) => !budget.has(request.userId)));
  const chunks: PlanRequest[][] = [];
  for (let i = 0; i < locked.length; i += chunkSize) chunks.push(locked.slice(i, i + chunkSize));
  const carry = options.carry ?? false;
  // Read ahead: the next chunk's inputs are read while this chunk's plans are made, and received while
  // they are written, so PostgreSQL and the allocation work at once instead of in turn. Not when the two
  // chunks share a learner: a chunk's inputs must see what the chunk before wrote for the same learner
  // (another day's plan, the day before of this one). The bank's importance is read with the first
  // chunk's inputs and kept for the others.
  await readingAhead(
    chunks,
    (chunk, previous: LearnerInputs | undefined) => readInputs(tx, chunk, carry, previous?.importance),
    async (chunk, inputs) => {
      const result = await planChunk(tx, chunk, inputs, budget, trigger, options);
      changes.push(...result.changes);
      carried += result.carried;
    },
    (chunk, following) => !sharesLearner(chunk, following),
  );
  return { changes, carried };
}

function sharesLearner(a: readonly PlanRequest[], b: readonly PlanRequest[]): boolean {
  const ids = new Set(a.map((request) => request.userId));
  return b.some((request) => ids.has(request.userId));
}

interface LearnerInputs {
  importance: Map<string, number>;
  mastery: Map<string, Map<string, number>>;
  lastPractice: Map<string, Map<string, Date>>;
  /** Each request's plan for its day (by planKey). */
  plans: Map<string, StoredPlan>;
  /** With `carry`, each request's plan for the day before, as a digest of its units (by planKey of that day). */
  previous: Map<string, PlanDigest>;
}

/** A stored plan as replanning compares it: its units' unitsDigest, and whether it is carried. */
interface PlanDigest {
  digest: string;
  carried: StoredPlan['carried'];
}

/** A day's plan: its latest version, or the carry-over that covers it (its units in priority order). */
export interface StoredPlan {
  /** The latest version; 0 for a carried plan (no version for the day yet). */
  version: number;
  units: UnitSnapshot[];
  /** Carried: 'open' while the carry extends each night, 'closed' when it ends; null for a version. */
  carried: 'open' | 'closed' | null;
}

/** Makes the plans of a chunk of locked learners from their inputs, and writes those that changed. */
async function planChunk(
  tx: Transaction,
  requests: readonly PlanRequest[],
  inputs: LearnerInputs,
  budget: ReadonlyMap<string, number>,
  trigger: PlanTrigger,
  { now, sessionId = null, carry = false }: ReplanOptions,
): Promise<{ changes: PlanChange[]; carried: number }> {
  const planned = requests.map((request) => {
    const units = learnerPlan({
      budget: budget.get(request.userId) ?? 0,
      planDate: request.planDate,
      importance: inputs.importance,
      mastery: inputs.mastery.get(request.userId) ?? new Map(),
      lastPractice: inputs.lastPractice.get(request.userId) ?? new Map(),
      now,
      sessionAttempts: request.sessionAttempts,
    });
    const stored = inputs.plans.get(planKey(request));
    const before = stored?.units ?? [];
    // A unit already marked DONE or SKIPPED keeps its status when the plan is rebuilt.
    const statusOf = new Map(before.map((unit) => [unit.subcategory, unit.status]));
    const after = units.map((unit): UnitSnapshot => ({ ...unit, status: statusOf.get(unit.subcategory) ?? 'PENDING' }));
    const previous =
      stored || !carry ? undefined : inputs.previous.get(planKey({ ...request, planDate: dayBefore(request) }));
    return { request, version: (stored?.version ?? 0) + 1, before, after, digest: unitsDigest(after), previous };
  });
  // The day before's plan again (statuses aside) on a day without a version: carried, not versioned.
  // A carry already open extends by itself; otherwise one starts here.
  const carried = new Set(planned.filter((p) => p.previous && p.previous.digest === p.digest));
  const carries = [...carried].filter((p) => p.previous!.carried !== 'open');
  if (carries.length > 0) await startCarries(tx, carries);
  // Ids made here rather than returned by the INSERT: nothing to read back.
  const changed = planned
    .filter((p) => !carried.has(p) && JSON.stringify(p.before) !== JSON.stringify(p.after))
    .map((p) => ({ ...p, id: randomUUID() }));
  if (changed.length > 0) await writePlans(tx, changed, trigger, sessionId);
  return {
    changes: changed.map((p) => ({
      adjustmentId: p.id,
      userId: p.request.userId,
      planDate: p.request.planDate,
      trigger,
    })),
    carried: carried.size,
  };
}

const dayBefore = (request: PlanRequest) => addDays(request.planDate, -1);

/**
 * A plan's units in order, whatever their statuses (a carried day starts with every unit PENDING), as
 * an md5 digest. Every writer stores it with the plan (units_digest; the migration that added it fills
 * older plans with the same in SQL), so a night compares the day before's plans without reading their units.
 */
export function unitsDigest(units: readonly Omit<UnitSnapshot, 'status'>[]): string {
  const text = units.map((u) => [u.subcategory, u.targetQuestions, u.priority, u.reason].join('|')).join('\n');
  return createHash('md5').update(text).digest('hex');
}

/**
 * Carries these plans over from their day: the learner's open carry (if any) ends the day before, so
 * a learner's carries never overlap and a day has at most one.
 */
async function startCarries(
  tx: Transaction,
  plans: { request: PlanRequest; after: UnitSnapshot[]; digest: string }[],
): Promise<void> {
  const rows = JSON.stringify(
    plans.map((p) => ({
      user_id: p.request.userId,
      from_date: p.request.planDate,
      units: p.after,
      target_total: targetTotal(p.after),
      units_digest: p.digest,
    })),
  );
  // The open carries found by a lookup per learner (OFFSET 0 keeps it one), then updated by their key:
  // a join of the two would scan every carry for each chunk when the table's statistics are from
  // before this night's carries (a night after a full one starts tens of thousands).
  await tx.$executeRaw`
    UPDATE plan_carries c SET through_date = o.through
    FROM (SELECT r.user_id, x.from_date, r.from_date - 1 AS through
          FROM json_to_recordset(${rows}::json) AS r(user_id uuid, from_date date)
          CROSS JOIN LATERAL (SELECT x.from_date FROM plan_carries x
                              WHERE x.user_id = r.user_id AND x.through_date IS NULL AND x.from_date < r.from_date
                              OFFSET 0) x) o
    WHERE c.user_id = o.user_id AND c.from_date = o.from_date`;
  await tx.$executeRaw`
    INSERT INTO plan_carries (user_id, from_date, through_date, units, target_total, units_digest)
    SELECT r.user_id, r.from_date, NULL, r.units, r.target_total, r.units_digest
    FROM json_to_recordset(${rows}::json)
      AS r(user_id uuid, from_date date, units json, target_total int, units_digest text)
    ON CONFLICT (user_id, from_date) DO UPDATE
    SET through_date = NULL, units = EXCLUDED.units, target_total = EXCLUDED.target_total,
        units_digest = EXCLUDED.units_digest`;
}

/**
 * The bank's importance per subcategory as plans use it, a JSON array [[subcategory, importance], …]
 * in subcategory order: the mean importanceIndex of the subcategory's questions, rounded to 1e-9.
 * Rank-normalised indices average to 0.5 within a subcategory up to float noise in the last bits,
 * which a rescoring moves; rounded, it moves only when the bank really changes, so a night compares
 * it with the day before's (plan_nights) to know whether every plan must be made again.
 */
export const bankImportance = Prisma.sql`
  (SELECT coalesce(json_agg(json_build_array(subcategory, importance) ORDER BY subcategory), '[]')
   FROM (SELECT subcategory, round(avg(importance_index)::numeric, 9)::float8 AS importance
         FROM questions GROUP BY subcategory) i)`;

/**
 * A nightly score `m` that a plan takes as the subcategory's mastery: the model holds no plan mastery
 * there yet (history from before the learner's state existed, until NIGHTLY replays it).
 */
export const scoredWithoutPlanMastery = Prisma.sql`NOT EXISTS (
  SELECT 1 FROM skill_states k
  WHERE k.user_id = m.user_id AND k.subcategory = m.subcategory AND k.plan_mastery IS NOT NULL)`;

/** A plan's questions in all (stored with each version and carry, so NIGHTLY's budget check reads no units). */
export const targetTotal = (units: readonly UnitSnapshot[]) =>
  units.reduce((total, unit) => total + unit.targetQuestions, 0);

export const planKey = (r: { userId: string; planDate: string }) => `${r.userId}|${r.planDate}`;

/**
 * Locks the learners of a replan, every one before any plan is read: the lock serialises replans of one
 * learner (NO KEY UPDATE leaves inserts that reference the user alone), and the reads after it see what
 * a replan we waited for committed. Returns the budget of each learner locked (with `skipLocked`, those
 * another transaction holds are left out; ids that are not users are always absent).
 */
async function lockLearners(
  tx: Transaction,
  requests: readonly PlanRequest[],
  skipLocked: boolean,
): Promise<Map<string, number>> {
  const userIds = [...new Set(requests.map((r) => r.userId))];
  // A join on the ids, not id = ANY(ids): for 500 ids the planner scans the whole table.
  const users = await tx.$queryRaw<{ id: string; budget: number }[]>`
    SELECT u.id, u.daily_question_budget AS budget FROM unnest(${userIds}::uuid[]) AS t(id) JOIN users u ON u.id = t.id
    ORDER BY u.id
    FOR NO KEY UPDATE OF u ${skipLocked ? Prisma.sql`SKIP LOCKED` : Prisma.empty}`;
  return new Map(users.map((u) => [u.id, u.budget]));
}

/** The inputs of a chunk of locked learners, in one statement. */
async function readInputs(
  tx: Transaction,
  requests: readonly PlanRequest[],
  carry: boolean,
  /** Read already (an earlier chunk of the same replan): not read again. */
  knownImportance: Map<string, number> | undefined,
): Promise<LearnerInputs> {
  const userIds = [...new Set(requests.map((r) => r.userId))];
  const dayBefores = requests.map((r) => ({ ...r, planDate: dayBefore(r) }));
  // One JSON document (JSON keeps float8 exact: PostgreSQL prints shortest round-trip digits).
  // Mastery is the plan mastery where the model holds state; the nightly score elsewhere (history
  // from before the learner's state existed, until NIGHTLY replays it). The last practice per
  // subcategory is the model's too (skill_states.last_attempt_at, the latest answeredAt it applied):
  // one row per subcategory instead of every attempt the learner ever made; an imported attempt
  // counts from the NIGHTLY that replays it, which runs before the night's plans. Where the model has
  // no state, the nightly score's last practice stands in, as its score does for the mastery.
  const [row] = await tx.$queryRaw<
    {
      importance: [string, number][] | null;
      masteries: [string, string, number][];
      practice: [string, string, string][];
      plans: PlanRow<UnitSnapshot[]>[];
      previous: PlanRow<string>[] | null;
    }[]
  >`
    SELECT ${knownImportance ? Prisma.sql`NULL::json` : bankImportance} AS importance,
      (SELECT coalesce(json_agg(json_build_array(user_id, subcategory, mastery)), '[]')
       FROM (SELECT k.user_id, k.subcategory, k.plan_mastery AS mastery FROM skill_states k
             WHERE k.user_id = ANY(${userIds}::uuid[]) AND k.plan_mastery IS NOT NULL
             UNION ALL
             SELECT m.user_id, m.subcategory, m.score FROM masteries m
             WHERE m.user_id = ANY(${userIds}::uuid[])
               AND ${scoredWithoutPlanMastery}) s)
        AS masteries,
      (SELECT coalesce(json_agg(json_build_array(user_id, subcategory, last)), '[]')
       FROM (SELECT k.user_id, k.subcategory, k.last_attempt_at AS last FROM skill_states k
             WHERE k.user_id = ANY(${userIds}::uuid[]) AND k.last_attempt_at IS NOT NULL
             UNION ALL
             SELECT m.user_id, m.subcategory, m.last_practiced_at FROM masteries m
             WHERE m.user_id = ANY(${userIds}::uuid[]) AND m.last_practiced_at IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM skill_states k WHERE k.user_id = m.user_id
                               AND k.subcategory = m.subcategory AND k.last_attempt_at IS NOT NULL)) p)
        AS practice,
      ${effectivePlanRows(requests, 'units')} AS plans,
      ${carry ? effectivePlanRows(dayBefores, 'digest') : Prisma.sql`NULL::json`} AS previous`;
  const { importance, masteries, practice, plans, previous } = row!;

  const nested = <V>(rows: [string, string, V][]) => {
    const map = new Map<string, Map<string, V>>();
    for (const [userId, subcategory, value] of rows) {
      const inner = map.get(userId) ?? new Map<string, V>();
      inner.set(subcategory, value);
      map.set(userId, inner);
    }
    return map;
  };
  return {
    importance: knownImportance ?? new Map(importance),
    mastery: nested(masteries),
    lastPractice: nested(practice.map(([u, s, last]) => [u, s, new Date(last)] as [string, string, Date])),
    plans: storedPlans(plans),
    previous: new Map(
      (previous ?? []).map(([userId, planDate, , digest, carried]) => [
        planKey({ userId, planDate }),
        { digest, carried },
      ]),
    ),
  };
}

/**
 * Each of these days' plan, by `${userId}|${planDate}`: its latest version, else the carry-over that
 * covers the day, else absent (never planned). A carry covers its days from fromDate through
 * throughDate, or while open through the last day NIGHTLY has planned (the day after the latest
 * successful run's date), so a day the nights have not reached yet is not planned by a carry.
 */
export async function effectivePlans(
  client: SqlClient,
  plans: readonly { userId: string; planDate: string }[],
): Promise<Map<string, StoredPlan>> {
  const [row] = await client.$queryRaw<{ plans: PlanRow<UnitSnapshot[]>[] }[]>`
    SELECT ${effectivePlanRows(plans, 'units')} AS plans`;
  return storedPlans(row!.plans);
}

/** A day's plan as effectivePlanRows gives it: [userId, planDate, version, the units or their unitsDigest, carried]. */
type PlanRow<Units> = [string, string, number, Units, StoredPlan['carried']];

const storedPlans = (rows: PlanRow<UnitSnapshot[]>[]) =>
  new Map(
    rows.map(([userId, planDate, version, units, carried]) => [
      planKey({ userId, planDate }),
      { version, units, carried },
    ]),
  );

/** effectivePlans' rows as a JSON array (a scalar subquery): one document rather than a driver row per plan. */
function effectivePlanRows(plans: readonly { userId: string; planDate: string }[], read: 'units' | 'digest') {
  const units = read === 'units' ? Prisma.sql`COALESCE(p.after, c.units)` : Prisma.sql`COALESCE(p.digest, c.digest)`;
  return Prisma.sql`(
    WITH planned AS (
      SELECT max(run_date) + 1 AS through FROM job_runs WHERE job = 'NIGHTLY' AND status = 'SUCCEEDED'
    )
    SELECT coalesce(json_agg(json_build_array(
             t.u, t.d, COALESCE(p.version, 0), ${units},
             CASE WHEN p.version IS NOT NULL THEN NULL WHEN c.through_date IS NULL THEN 'open' ELSE 'closed' END)),
           '[]')
    FROM planned,
         unnest(${plans.map((r) => r.userId)}::uuid[], ${plans.map((r) => r.planDate)}::date[]) AS t(u, d)
    LEFT JOIN LATERAL (SELECT a.version, a.after, a.units_digest AS digest FROM plan_adjustments a
                       WHERE a.user_id = t.u AND a.plan_date = t.d ORDER BY a.version DESC LIMIT 1) p ON true
    LEFT JOIN LATERAL (SELECT x.units, x.units_digest AS digest, x.through_date FROM plan_carries x
                       WHERE p.version IS NULL AND x.user_id = t.u AND x.from_date <= t.d
                         AND t.d <= COALESCE(x.through_date, planned.through)
                       ORDER BY x.from_date DESC LIMIT 1) c ON true
    WHERE p.version IS NOT NULL OR c.units IS NOT NULL)`;
}

/** Appends the next version of every changed plan, in one statement. */
async function writePlans(
  tx: Transaction,
  changed: {
    id: string;
    request: PlanRequest;
    version: number;
    before: UnitSnapshot[];
    after: UnitSnapshot[];
    digest: string;
  }[],
  trigger: PlanTrigger,
  sessionId: string | null,
): Promise<void> {
  // One JSON document rather than arrays of JSON strings: nothing to escape on the way.
  const rows = JSON.stringify(
    changed.map((p) => ({
      id: p.id,
      user_id: p.request.userId,
      plan_date: p.request.planDate,
      version: p.version,
      before: p.before,
      after: p.after,
      target_total: targetTotal(p.after),
      units_digest: p.digest,
    })),
  );
  await tx.$executeRaw`
    INSERT INTO plan_adjustments (id, user_id, plan_date, version, trigger, session_id, before, after, target_total,
                                  units_digest)
    SELECT r.id, r.user_id, r.plan_date, r.version, ${trigger}::"PlanTrigger", ${sessionId}::uuid, r.before, r.after,
           r.target_total, r.units_digest
    FROM json_to_recordset(${rows}::json) AS r(id uuid, user_id uuid, plan_date date, version int, before json,
                                               after json, target_total int, units_digest text)`;
}
