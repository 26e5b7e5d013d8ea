import { z } from 'zod';
import { notFound } from '../errors.ts';
import { publishPlanChanges, publishSessionEnded } from '../pubsub.ts';
import { retryPendingReplan } from '../services/pending-replans.ts';
import { endSession, startSession } from '../services/sessions.ts';
import { builder } from './builder.ts';
import { DifficultyBandEnum } from './enums.ts';
import { UserRef } from './user.ts';

export const SessionRef = builder.prismaNode('Session', {
  id: { field: 'id' },
  authScopes: (session) => ({ readsUser: session.userId }),
  fields: (t) => ({
    user: t.relation('user'),
    startedAt: t.expose('startedAt', { type: 'DateTime' }),
    endedAt: t.expose('endedAt', { type: 'DateTime', nullable: true }),
    durationSec: t.exposeInt('durationSec', { nullable: true }),
    units: t.exposeStringList('units', { description: 'The plan units (subcategories) the session covers.' }),
    notes: t.exposeString('notes', { nullable: true }),
    clientSessionId: t.exposeString('clientSessionId', { nullable: true }),
    attempts: t.relation('attempts', {
      complexity: { field: 1, multiplier: 30 },
      description: 'In the order the server recorded them.',
      query: { orderBy: [{ recordedAt: 'asc' }, { id: 'asc' }] },
    }),
    summary: t.relation('summary', { nullable: true, description: 'Stored when the session ends.' }),
    analytics: t.relation('analytics', { nullable: true, description: 'Stored when the session ends.' }),
  }),
});

interface DifficultyDistributionShape {
  easy: number;
  medium: number;
  hard: number;
}

const DifficultyDistribution = builder.objectRef<DifficultyDistributionShape>('DifficultyDistribution').implement({
  description: 'Attempt counts per difficulty band.',
  fields: (t) => ({ easy: t.exposeInt('easy'), medium: t.exposeInt('medium'), hard: t.exposeInt('hard') }),
});

builder.prismaObject('SessionSummary', {
  fields: (t) => ({
    questionsAttempted: t.exposeInt('questionsAttempted'),
    questionsCorrect: t.exposeInt('questionsCorrect'),
    accuracy: t.exposeFloat('accuracy', { nullable: true }),
    averageTimePerQuestion: t.exposeFloat('averageTimePerQuestion', { nullable: true, description: 'Mean timeSec.' }),
    topicsCovered: t.exposeStringList('topicsCovered', { description: 'Subcategories in first-seen order.' }),
    difficultyDistribution: t.field({
      type: DifficultyDistribution,
      resolve: (s) => ({ easy: s.easyCount, medium: s.mediumCount, hard: s.hardCount }),
    }),
  }),
});

builder.prismaObject('SessionAnalytics', {
  fields: (t) => ({
    learningVelocity: t.exposeFloat('learningVelocity', {
      nullable: true,
      description: 'Slope of running accuracy per 10 attempts; null under 3 attempts.',
    }),
    conceptSwitches: t.exposeInt('conceptSwitches'),
    attentionSpanMinutes: t.exposeFloat('attentionSpanMinutes', {
      nullable: true,
      description: 'Null under 5 attempts.',
    }),
    optimalDifficultyRange: t.field({ type: [DifficultyBandEnum], resolve: (a) => a.optimalDifficultyRange }),
  }),
});

const StartSessionInput = builder.inputType('StartSessionInput', {
  fields: (t) => ({
    units: t.stringList({ validate: z.array(z.string().trim().min(1).max(200)).max(100) }),
    notes: t.string({ validate: z.string().max(10_000) }),
    clientSessionId: t.string({
      validate: z.string().trim().min(1).max(200),
      description: 'Idempotency key: a retry returns the same session.',
    }),
    startedAt: t.field({
      type: 'DateTime',
      description:
        'When the session started on the device (an offline app syncing later); default now. Not in the future.',
    }),
  }),
});

builder.queryFields((t) => ({
  session: t.prismaField({
    type: 'Session',
    nullable: true,
    authScopes: { authenticated: true },
    args: { id: t.arg.globalID({ required: true, for: SessionRef }) },
    resolve: async (query, _root, args, ctx) => {
      const session = await ctx.db.prisma.session.findUnique({ ...query, where: { id: args.id.id } });
      if (!session) throw notFound('This session');
      return session;
    },
  }),
}));

builder.mutationFields((t) => ({
  startSession: t.prismaField({
    type: 'Session',
    description: 'Starts a session for the signed-in user.',
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: StartSessionInput }) },
    resolve: (query, _root, { input }, ctx) =>
      startSession(ctx.db, query, ctx.viewer!, {
        units: input?.units ?? [],
        notes: input?.notes ?? null,
        clientSessionId: input?.clientSessionId ?? null,
        startedAt: input?.startedAt ?? null,
      }),
  }),
  endSession: t.prismaField({
    type: 'Session',
    description: 'Ends a session, storing its summary and analytics. A second call changes nothing.',
    authScopes: { authenticated: true },
    args: {
      id: t.arg.globalID({ required: true, for: SessionRef }),
      endedAt: t.arg({
        type: 'DateTime',
        description:
          'When it ended on the device (a session synced later): not in the future, not before its last answer.',
      }),
    },
    resolve: async (query, _root, args, ctx) => {
      const ended = await endSession(ctx.db, ctx.viewer!, args.id.id, args.endedAt ?? null);
      // Published after the transaction committed: subscribers never hear of what might roll back.
      if (ended.planChange) publishPlanChanges(ctx.pubsub, [ended.planChange]);
      if (ended.replanPending) {
        retryPendingReplan(ctx.db, ctx.pubsub, ended.sessionId, ctx.log);
      }
      if (ended.changed) publishSessionEnded(ctx.pubsub, ended);
      return ctx.db.prisma.session.findUniqueOrThrow({ ...query, where: { id: ended.sessionId } });
    },
  }),
}));

builder.subscriptionFields((t) => ({
  sessionEnded: t.field({
    type: SessionRef,
    description:
      "Sessions as they end, with summary and analytics: one learner's, or (coach/admin, no userId) everyone's.",
    args: { userId: t.arg.globalID({ for: UserRef }) },
    authScopes: (_root, args) => (args.userId ? { readsUser: args.userId.id } : { staff: true }),
    subscribe: (_root, args, ctx) =>
      args.userId ? ctx.pubsub.subscribe('session-ended', args.userId.id) : ctx.pubsub.subscribe('session-ended-all'),
    resolve: (payload, _args, ctx) => ctx.db.prisma.session.findUniqueOrThrow({ where: { id: payload.sessionId } }),
  }),
}));
