import type { Viewer } from '../auth.ts';
import type { Database } from '../db/client.ts';
import { dateValue } from '../domain/calendar.ts';
import { forbidden, notFound } from '../errors.ts';
import type { PlanUnitStatus } from '../generated/prisma/client.ts';
import type { PlanUnitKey } from '../ids.ts';
import { effectivePlans, type PlanChange, planKey, targetTotal, type UnitSnapshot, unitsDigest } from './plans.ts';

/** A unit of a stored plan, as the API serves it. */
export type PlanUnit = PlanUnitKey & UnitSnapshot;

/**
 * Sets a unit's status: the learner whose plan it is, or a coach or admin. A change appends the
 * plan's next version as a MANUAL PlanAdjustment (publish it after commit); setting the status a
 * unit already has writes nothing and returns a null change.
 */
export async function setPlanUnitStatus(
  db: Database,
  viewer: Viewer,
  key: PlanUnitKey,
  status: PlanUnitStatus,
): Promise<{ unit: PlanUnit; change: PlanChange | null }> {
  if (viewer.role === 'LEARNER' && viewer.userId !== key.userId) throw forbidden('You may change only your own plan.');
  return db.prisma.$transaction(async (tx) => {
    // The same lock replanLearners takes: a replan of this learner's plans runs before or after, never between.
    await tx.$queryRaw`SELECT id FROM users WHERE id = ${key.userId}::uuid FOR NO KEY UPDATE`;
    const plan = (await effectivePlans(tx, [key])).get(planKey(key));
    const current = plan?.units.find((u) => u.subcategory === key.subcategory);
    if (!plan || !current) throw notFound('This plan unit'); // never planned, or dropped by a replan since
    // A carried day gets its first version here (before: the units it carried).
    if (current.status === status) return { unit: { ...key, ...current }, change: null };
    const after = plan.units.map((u) => (u.subcategory === key.subcategory ? { ...u, status } : u));
    const adjustment = await tx.planAdjustment.create({
      data: {
        userId: key.userId,
        planDate: dateValue(key.planDate),
        version: plan.version + 1,
        trigger: 'MANUAL',
        before: plan.units as never,
        after: after as never,
        targetTotal: targetTotal(after),
        unitsDigest: unitsDigest(after),
      },
    });
    return {
      unit: { ...key, ...current, status },
      change: { adjustmentId: adjustment.id, userId: key.userId, planDate: key.planDate, trigger: 'MANUAL' },
    };
  });
}
