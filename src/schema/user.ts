import { z } from 'zod';
import { isTimeZone } from '../domain/calendar.ts';
import { notFound } from '../errors.ts';
import { createUser } from '../services/users.ts';
import { builder, connectionComplexity } from './builder.ts';
import { RoleEnum } from './enums.ts';

export const UserRef = builder.prismaNode('User', {
  id: { field: 'id' },
  authScopes: (user) => ({ readsUser: user.id }),
  fields: (t) => ({
    name: t.exposeString('name'),
    email: t.exposeString('email'),
    role: t.expose('role', { type: RoleEnum }),
    timezone: t.exposeString('timezone', {
      description: 'IANA time zone: days and hours of the learner are counted in it.',
    }),
    dailyQuestionBudget: t.exposeInt('dailyQuestionBudget'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    masteries: t.relation('masteries', {
      complexity: { field: 1, multiplier: 10 },
      query: { orderBy: { subcategory: 'asc' } },
    }),
    masteryHistory: t.relation('masteryHistory', {
      complexity: { field: 1, multiplier: 30 },
      args: {
        subcategory: t.arg.string({ required: true }),
        from: t.arg({ type: 'Date' }),
        to: t.arg({ type: 'Date' }),
      },
      query: (args) => ({
        where: { subcategory: args.subcategory, date: { gte: args.from ?? undefined, lte: args.to ?? undefined } },
        orderBy: { date: 'asc' },
      }),
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

builder.prismaObject('Mastery', {
  fields: (t) => ({
    subcategory: t.exposeString('subcategory'),
    score: t.exposeFloat('score', { description: 'EWMA mastery, 0..1.' }),
    attemptsCount: t.exposeInt('attemptsCount'),
    lastPracticedAt: t.expose('lastPracticedAt', { type: 'DateTime', nullable: true }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.prismaObject('MasteryHistory', {
  name: 'MasteryPoint',
  fields: (t) => ({
    subcategory: t.exposeString('subcategory'),
    date: t.expose('date', { type: 'Date' }),
    score: t.exposeFloat('score'),
  }),
});

const CreateUserInput = builder.inputType('CreateUserInput', {
  fields: (t) => ({
    name: t.string({ required: true, validate: z.string().trim().min(1, 'must not be empty').max(200) }),
    email: t.string({
      required: true,
      validate: z.string().trim().toLowerCase().email('must be an email address').max(320),
    }),
    role: t.field({ type: RoleEnum, defaultValue: 'LEARNER' }),
    timezone: t.string({
      defaultValue: 'UTC',
      validate: z.string().refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin'),
    }),
    dailyQuestionBudget: t.int({ defaultValue: 30, validate: z.number().int().min(1).max(500) }),
  }),
});

builder.queryFields((t) => ({
  me: t.prismaField({
    type: 'User',
    nullable: true,
    description: 'The signed-in user (null for a staff token whose subject is not a stored user).',
    authScopes: { authenticated: true },
    resolve: (query, _root, _args, ctx) =>
      ctx.db.prisma.user.findUnique({ ...query, where: { id: ctx.viewer!.userId } }),
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
    description: 'Everyone, by name (coach/admin).',
    authScopes: { staff: true },
    resolve: (query, _root, _args, ctx) =>
      ctx.db.prisma.user.findMany({ ...query, orderBy: [{ name: 'asc' }, { id: 'asc' }] }),
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
      }),
  }),
}));
