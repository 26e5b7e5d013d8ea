import type { Viewer } from '../auth.ts';
import type { Database } from '../db/client.ts';
import { dateString } from '../domain/calendar.ts';
import { forbidden, notFound } from '../errors.ts';
import type { PlanUnitStatus } from '../generated/prisma/client.ts';
import type { PlanChange, UnitSnapshot } from './plans.ts';

function snapshot(unit: UnitSnapshot): UnitSnapshot {
  return { subcategory: unit.subcategory, targetQuestions: unit.targetQuestions, priority: unit.priority, reason: unit.reason, status: unit.status };
}

/**
 * Sets a unit's status: the learner whose plan it is, or a coach or admin. A change writes a MANUAL
 * PlanAdjustment in the same transaction (publish it after commit); setting the status a unit
 * already has writes nothing and returns null.
 */
export async function setPlanUnitStatus(db: Database, viewer: Viewer, unitId: string, status: PlanUnitStatus): Promise<PlanChange | null> {
  return db.prisma.$transaction(async (tx) => {
    const [owner] = await tx.$queryRaw<{ user_id: string }[]>`SELECT user_id FROM plan_units WHERE id = ${unitId}::uuid`;
    if (!owner) throw notFound('This plan unit');
    if (viewer.role === 'LEARNER' && viewer.userId !== owner.user_id) throw forbidden('You may change only your own plan.');
    // The same lock replanLearners takes: a replan of this learner's plans runs before or after, never between.
    await tx.$queryRaw`SELECT id FROM users WHERE id = ${owner.user_id}::uuid FOR NO KEY UPDATE`;
    const unit = await tx.planUnit.findUnique({ where: { id: unitId } });
    if (!unit) throw notFound('This plan unit'); // dropped by a replan that committed meanwhile
    if (unit.status === status) return null;
    const planOf = { where: { userId: unit.userId, planDate: unit.planDate }, orderBy: [{ priority: 'asc' as const }, { subcategory: 'asc' as const }] };
    const before = (await tx.planUnit.findMany(planOf)).map(snapshot);
    await tx.planUnit.update({ where: { id: unitId }, data: { status } });
    const after = before.map((u) => (u.subcategory === unit.subcategory ? { ...u, status } : u));
    const adjustment = await tx.planAdjustment.create({
      data: { userId: unit.userId, planDate: unit.planDate, trigger: 'MANUAL', before: before as never, after: after as never },
    });
    return { adjustmentId: adjustment.id, userId: unit.userId, planDate: dateString(unit.planDate), trigger: 'MANUAL' };
  });
}
