import type { Database } from '../db/client.ts';
import { dateString } from '../domain/calendar.ts';
import type { PlanUnitStatus } from '../generated/prisma/client.ts';
import type { PlanChange, UnitSnapshot } from './plans.ts';

function snapshot(unit: UnitSnapshot): UnitSnapshot {
  return { subcategory: unit.subcategory, targetQuestions: unit.targetQuestions, priority: unit.priority, reason: unit.reason, status: unit.status };
}

/**
 * Sets a unit's status. A change writes a MANUAL PlanAdjustment in the same transaction; setting the
 * status a unit already has writes nothing.
 */
export async function setPlanUnitStatus(db: Database, unitId: string, status: PlanUnitStatus): Promise<PlanChange | null> {
  return db.prisma.$transaction(async (tx) => {
    const unit = await tx.planUnit.findUniqueOrThrow({ where: { id: unitId } });
    if (unit.status === status) return null;
    const planOf = { where: { userId: unit.userId, planDate: unit.planDate }, orderBy: [{ priority: 'asc' as const }, { subcategory: 'asc' as const }] };
    const before = (await tx.planUnit.findMany(planOf)).map(snapshot);
    await tx.planUnit.update({ where: { id: unitId }, data: { status } });
    const after = (await tx.planUnit.findMany(planOf)).map(snapshot);
    const adjustment = await tx.planAdjustment.create({
      data: { userId: unit.userId, planDate: unit.planDate, trigger: 'MANUAL', before: before as never, after: after as never },
    });
    return { adjustmentId: adjustment.id, userId: unit.userId, planDate: dateString(unit.planDate), trigger: 'MANUAL', before, after };
  });
}
