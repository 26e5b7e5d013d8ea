import { dateString } from '../domain/calendar.ts';
import { parsePlanUnitId, planUnitId } from '../ids.ts';
import { publishPlanChanges } from '../pubsub.ts';
import { type PlanUnit, setPlanUnitStatus } from '../services/plan-units.ts';
import { effectivePlans, planKey, type UnitSnapshot } from '../services/plans.ts';
import { builder, connectionComplexity } from './builder.ts';
import { PlanTriggerEnum, PlanUnitStatusEnum } from './enums.ts';
import { UserRef } from './user.ts';

export const PlanUnitRef = builder.objectRef<PlanUnit>('PlanUnit');

builder.node(PlanUnitRef, {
  // Named by its place (learner, date, subcategory): the id stays valid while the subcategory stays in the plan.
  id: { resolve: (unit) => planUnitId(unit) },
  authScopes: (unit) => ({ readsUser: unit.userId }),
  fields: (t) => ({
    subcategory: t.exposeString('subcategory'),
    targetQuestions: t.exposeInt('targetQuestions'),
    priority: t.exposeInt('priority', { description: '1 = most needed.' }),
    status: t.expose('status', { type: PlanUnitStatusEnum }),
    reason: t.exposeString('reason', { description: 'Why this unit is in the plan.' }),
    planDate: t.field({ type: 'Date', resolve: (unit) => unit.planDate }),
  }),
});

interface DailyPlanShape {
  userId: string;
  date: string;
}

const DailyPlan = builder.objectRef<DailyPlanShape>('DailyPlan').implement({
  description: "A learner's plan for one day: units summing to the daily question budget.",
  fields: (t) => ({
    date: t.field({ type: 'Date', resolve: (plan) => plan.date }),
    units: t.loadableList({
      type: PlanUnitRef,
      complexity: { field: 1, multiplier: 12 },
      description: 'In priority order; empty for a day without a plan.',
      resolve: (plan) => ({ userId: plan.userId, planDate: plan.date }),
      // The plans of every DailyPlan in the response in one query.
      loaderOptions: { cacheKeyFn: planKey },
      load: async (plans: { userId: string; planDate: string }[], ctx) => {
        const stored = await effectivePlans(ctx.db.prisma, plans);
        return plans.map((plan) => (stored.get(planKey(plan))?.units ?? []).map((unit) => ({ ...plan, ...unit })));
      },
    }),
  }),
});

const PlanUnitSnapshot = builder.objectRef<UnitSnapshot>('PlanUnitSnapshot').implement({
  description: 'A plan unit as it was before or after an adjustment.',
  fields: (t) => ({
    subcategory: t.exposeString('subcategory'),
    targetQuestions: t.exposeInt('targetQuestions'),
    priority: t.exposeInt('priority'),
    reason: t.exposeString('reason'),
    status: t.expose('status', { type: PlanUnitStatusEnum }),
  }),
});

export const PlanAdjustmentRef = builder.prismaNode('PlanAdjustment', {
  id: { field: 'id' },
  authScopes: (adjustment) => ({ readsUser: adjustment.userId }),
  fields: (t) => ({
    user: t.relation('user'),
    planDate: t.expose('planDate', { type: 'Date' }),
    trigger: t.expose('trigger', { type: PlanTriggerEnum }),
    session: t.relation('session', { nullable: true, description: 'The session whose end caused it (SESSION_END).' }),
    before: t.field({ type: [PlanUnitSnapshot], resolve: (a) => a.before as unknown as UnitSnapshot[] }),
    after: t.field({ type: [PlanUnitSnapshot], resolve: (a) => a.after as unknown as UnitSnapshot[] }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.prismaObjectFields('User', (t) => ({
  plan: t.field({
    type: DailyPlan,
    description: "The plan for a day (the learner's tomorrow is adjusted at every session end).",
    args: { date: t.arg({ type: 'Date', required: true }) },
    resolve: (user, args) => ({ userId: user.id, date: dateString(args.date) }),
  }),
  planAdjustments: t.relatedConnection('planAdjustments', {
    cursor: 'id',
    complexity: connectionComplexity,
    description: 'Every change to the plans, newest first.',
    query: () => ({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
  }),
}));

builder.mutationFields((t) => ({
  setPlanUnitStatus: t.field({
    type: PlanUnitRef,
    description: 'Marks a unit done or skipped (the learner, or a coach). Publishes a MANUAL adjustment.',
    authScopes: { authenticated: true },
    args: {
      id: t.arg.globalID({ required: true, for: PlanUnitRef }),
      status: t.arg({ type: PlanUnitStatusEnum, required: true }),
    },
    resolve: async (_root, args, ctx) => {
      const key = parsePlanUnitId(args.id.id)!; // the ID's shape was checked when it was decoded
      const { unit, change } = await setPlanUnitStatus(ctx.db, ctx.viewer!, key, args.status);
      // Published after the transaction committed.
      if (change) publishPlanChanges(ctx.pubsub, [change]);
      return unit;
    },
  }),
}));

builder.subscriptionFields((t) => ({
  planAdjusted: t.field({
    type: PlanAdjustmentRef,
    description: "Changes to a learner's plans as they happen (a learner may watch only their own).",
    args: { userId: t.arg.globalID({ required: true, for: UserRef }) },
    authScopes: (_root, args) => ({ readsUser: args.userId.id }),
    subscribe: (_root, args, ctx) => ctx.pubsub.subscribe('plan-adjusted', args.userId.id),
    resolve: (payload, _args, ctx) =>
      ctx.db.prisma.planAdjustment.findUniqueOrThrow({ where: { id: payload.adjustmentId } }),
  }),
}));
