import { z } from 'zod';
import { userGone } from '../auth.ts';
import { notFound } from '../errors.ts';
import { learnerMasteries, type MasteryView } from '../services/learner-state.ts';
import { type LearnerStats, learnerStats } from '../services/learner-stats.ts';
import { masteryHistory } from '../services/mastery-history.ts';
import { createUser, maxUserUpsert, type UpsertUserResult, upsertUsers, userFields } from '../services/users.ts';
import { builder, connectionComplexity } from './builder.ts';
import { RoleEnum } from './enums.ts';

const MasteryPointRef = builder
  .objectRef<{ subcategory: string; date: Date; score: number }>('MasteryPoint')
  .implement({
    fields: (t) => ({
      subcategory: t.exposeString('subcategory'),
      date: t.expose('date', { type: 'Date' }),
      score: t.exposeFloat('score'),
    }),
  });

const MasteryRef = builder.objectRef<MasteryView>('Mastery').implement({
  description: "A learner's standing in a subcategory: the nightly score beside the live estimate.",
  fields: (t) => ({
    subcategory: t.exposeString('subcategory'),
    score: t.exposeFloat('score', {
      description:
        'Nightly EWMA mastery (SPEC 3), 0..1: history and dashboards. 0.5, the prior the EWMA starts from, ' +
        'until the first NIGHTLY after the subcategory was first practised.',
    }),
    attemptsCount: t.exposeInt('attemptsCount', { description: 'Attempts the nightly score has counted.' }),
    lastPracticedAt: t.expose('lastPracticedAt', { type: 'DateTime', nullable: true }),
    updatedAt: t.expose('updatedAt', {
      type: 'DateTime',
      description: 'When NIGHTLY last scored it (estimateUpdatedAt until it has).',
    }),
    estimate: t.exposeFloat('estimate', {
      description:
        "The live model's P(correct) on a typical question of the subcategory now, forgetting applied: " +
        'moves with every attempt. A subcategory never practised borrows the ability shown in the others.',
    }),
    estimateUpdatedAt: t.expose('estimateUpdatedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When an attempt (or the nightly replay) last changed the live state here; null: never.',
    }),
  }),
});

export const UserRef = builder.prismaNode('User', {
  id: { field: 'id' },
  authScopes: (user) => ({ readsUser: user.id }),
  fields: (t) => ({
    name: t.exposeString('name'),
    email: t.exposeString('email'),
    externalId: t.exposeString('externalId', {
      nullable: true,
      description: "The identity provider's subject: a token's sub may name the user by it.",
    }),
    role: t.expose('role', { type: RoleEnum }),
    timezone: t.exposeString('timezone', {
      description: 'IANA time zone: days and hours of the learner are counted in it.',
    }),
    dailyQuestionBudget: t.exposeInt('dailyQuestionBudget'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    masteries: t.loadableList({
      type: MasteryRef,
      complexity: { field: 1, multiplier: 10 },
      description:
        'By subcategory: every subcategory with a nightly score or a live estimate (docs/learner-model-api.md).',
      resolve: (user) => user.id,
      // Every learner of the response in one batch of statements.
      load: (userIds: string[], ctx) =>
        learnerMasteries(ctx.db.prisma, ctx.adaptation.learnerModel, userIds, new Date()),
    }),
    masteryHistory: t.field({
      type: [MasteryPointRef],
      complexity: { field: 1, multiplier: 30 },
      description: 'Oldest first; every subcategory (by name within a day) unless one is given.',
      args: {
        subcategory: t.arg.string(),
        from: t.arg({ type: 'Date' }),
        to: t.arg({ type: 'Date' }),
      },
      // Stored sparse, filled night by night (docs/nightly-incremental.md).
      resolve: (user, args, ctx) =>
        masteryHistory(ctx.db.prisma, user.id, args, ctx.jobs.mastery, ctx.jobs.historyActiveDays),
    }),
    sessions: t.relatedConnection('sessions', {
      cursor: 'id',
      complexity: connectionComplexity,
      description: 'Newest first. `from`/`to` bound startedAt (inclusive).',
      args: { from: t.arg({ type: 'DateTime' }), to: t.arg({ type: 'DateTime' }) },
      query: (args) => ({
        where: { startedAt: { gte: args.from ?? undefined, lte: args.to ?? undefined } },
        orderBy: [{ startedAt: 'desc' }, { id: 'desc' }],
      }),
    }),
  }),
});

const LearnerStatsRef = builder.objectRef<LearnerStats>('LearnerStats').implement({
  description: "A learner's practice at a glance, over every attempt and session.",
  fields: (t) => ({
    lastActiveAt: t.expose('lastActiveAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the learner last answered; null before any attempt.',
    }),
    sessions: t.exposeInt('sessions'),
    attempts: t.exposeInt('attempts'),
    accuracy: t.exposeFloat('accuracy', { nullable: true, description: 'Over every attempt; null without any.' }),
    meanMastery: t.exposeFloat('meanMastery', {
      nullable: true,
      description: 'Mean of the current mastery scores; null without any.',
    }),
    subcategories: t.exposeInt('subcategories', { description: 'Subcategories with a mastery score.' }),
  }),
});

builder.prismaObjectFields('User', (t) => ({
  stats: t.loadable({
    type: LearnerStatsRef,
    complexity: 2,
    description: 'Last activity, sessions, accuracy and mean mastery (the stats of a page of users in one query).',
    load: (ids: string[], ctx) => learnerStats(ctx.db.prisma, ids),
    resolve: (user) => user.id,
  }),
}));

const externalIdDescription = "The identity provider's subject (at most 255 characters, unique).";

const CreateUserInput = builder.inputType('CreateUserInput', {
  fields: (t) => ({
    name: t.string({ required: true, validate: userFields.name }),
    email: t.string({ required: true, validate: userFields.email }),
    role: t.field({ type: RoleEnum, defaultValue: 'LEARNER' }),
    timezone: t.string({ defaultValue: 'UTC', validate: userFields.timezone }),
    dailyQuestionBudget: t.int({ defaultValue: 30, validate: userFields.dailyQuestionBudget }),
    externalId: t.string({ validate: userFields.externalId.optional(), description: externalIdDescription }),
  }),
});

// Validated row by row by upsertUsers, so that one bad row is reported instead of failing the call.
const UserInput = builder.inputType('UserInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    email: t.string({ required: true }),
    role: t.field({ type: RoleEnum, defaultValue: 'LEARNER' }),
    timezone: t.string({ defaultValue: 'UTC' }),
    dailyQuestionBudget: t.int({ defaultValue: 30 }),
    externalId: t.string({ description: `${externalIdDescription} The key of the upsert when given.` }),
  }),
});

const UpsertOutcomeEnum = builder.enumType('UpsertOutcome', {
  values: {
    CREATED: { description: 'A new user.' },
    UPDATED: { description: 'An existing user (found by externalId, else by email), overwritten.' },
    REFUSED: { description: 'Nothing written for this row: see error.' },
  },
});

const RowErrorRef = builder.objectRef<{ code: string; message: string }>('RowError').implement({
  description: 'Why one row of a batch was refused (the other rows are written).',
  fields: (t) => ({
    code: t.exposeString('code', { description: 'BAD_USER_INPUT or CONFLICT.' }),
    message: t.exposeString('message'),
  }),
});

const UpsertUserResultRef = builder.objectRef<UpsertUserResult>('UpsertUserResult').implement({
  description: 'The outcome of one row of upsertUsers, in input order.',
  fields: (t) => ({
    index: t.exposeInt('index', { description: 'The position of the row in the input (from 0).' }),
    outcome: t.field({ type: UpsertOutcomeEnum, resolve: (r) => r.outcome }),
    user: t.field({ type: UserRef, nullable: true, resolve: (r) => r.user }),
    error: t.field({ type: RowErrorRef, nullable: true, resolve: (r) => r.error }),
  }),
});

builder.queryFields((t) => ({
  me: t.prismaField({
    type: 'User',
    nullable: true,
    description: 'The signed-in user (null for a staff token whose subject is not a stored user).',
    authScopes: { authenticated: true },
    resolve: async (query, _root, _args, ctx) => {
      if (ctx.viewer!.userId === null) return null;
      const user = await ctx.db.prisma.user.findUnique({ ...query, where: { id: ctx.viewer!.userId } });
      if (!user) throw userGone();
      return user;
    },
  }),
  user: t.prismaField({
    type: 'User',
    nullable: true,
    authScopes: { authenticated: true },
    args: { id: t.arg.globalID({ required: true, for: UserRef }) },
    resolve: async (query, _root, args, ctx) => {
      const user = await ctx.db.prisma.user.findUnique({ ...query, where: { id: args.id.id } });
      if (!user) throw notFound('This user');
      return user;
    },
  }),
  users: t.prismaConnection({
    type: 'User',
    cursor: 'id',
    complexity: connectionComplexity,
    description: 'Everyone, by name (coach/admin); `search` matches a part of the name or email, any case.',
    authScopes: { staff: true },
    args: {
      search: t.arg.string({ validate: z.string().max(200) }),
      role: t.arg({ type: RoleEnum }),
    },
    resolve: (query, _root, args, ctx) => {
      const search = args.search?.trim();
      return ctx.db.prisma.user.findMany({
        ...query,
        where: {
          role: args.role ?? undefined,
          ...(search
            ? {
                OR: [
                  { name: { contains: search, mode: 'insensitive' } },
                  { email: { contains: search, mode: 'insensitive' } },
                ],
              }
            : {}),
        },
        orderBy: [{ name: 'asc' }, { id: 'asc' }],
      });
    },
  }),
}));

builder.mutationFields((t) => ({
  createUser: t.prismaField({
    type: 'User',
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateUserInput, required: true }) },
    resolve: (query, _root, { input }, ctx) =>
      createUser(ctx.db, query, {
        name: input.name,
        email: input.email,
        role: input.role ?? 'LEARNER',
        timezone: input.timezone ?? 'UTC',
        dailyQuestionBudget: input.dailyQuestionBudget ?? 30,
        externalId: input.externalId ?? null,
      }),
  }),
  upsertUsers: t.field({
    type: [UpsertUserResultRef],
    description:
      `Creates or updates users keyed on externalId, else email (admin; at most ${maxUserUpsert} a call). ` +
      "Each row succeeds or is refused on its own: see each result's outcome and error.",
    authScopes: { admin: true },
    complexity: (args) => ({ field: 1, multiplier: Math.min(args.input.length, maxUserUpsert) }),
    args: { input: t.arg({ type: [UserInput], required: true }) },
    resolve: (_root, { input }, ctx) =>
      upsertUsers(
        ctx.db,
        input.map((row) => ({
          ...row,
          role: row.role ?? undefined,
          timezone: row.timezone ?? undefined,
          dailyQuestionBudget: row.dailyQuestionBudget ?? undefined,
        })),
      ),
  }),
}));
