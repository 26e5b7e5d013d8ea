import { z } from 'zod';
import { badInput, notFound } from '../errors.ts';
import { upsertQuestions } from '../services/questions.ts';
import { builder, connectionComplexity } from './builder.ts';
import { DifficultyBandEnum } from './enums.ts';

export const QuestionRef = builder.prismaNode('Question', {
  id: { field: 'id' },
  fields: (t) => ({
    externalId: t.exposeString('externalId', { description: 'The id in the question bank.' }),
    category: t.exposeString('category'),
    subcategory: t.exposeString('subcategory'),
    difficultyBand: t.expose('difficultyBand', { type: DifficultyBandEnum }),
    options: t.expose('options', { type: 'JSON', nullable: true, description: 'The choices as the bank gave them.' }),
    answer: t.exposeString('answer', {
      nullable: true,
      authScopes: { admin: true },
      description: 'The correct answer (admins only).',
    }),
    attemptsCount: t.exposeInt('attemptsCount'),
    correctCount: t.exposeInt('correctCount'),
    difficulty: t.exposeFloat('difficulty', { description: '(wrong + 1) / (attempts + 2), 0..1.' }),
    discrimination: t.exposeFloat('discrimination', {
      nullable: true,
      description: 'Point-biserial correlation of correctness with mastery; null until defined.',
    }),
    learningImpact: t.exposeFloat('learningImpact', { nullable: true }),
    importanceIndex: t.exposeFloat('importanceIndex', { description: 'Rank within its subcategory, 0..1.' }),
    statsUpdatedAt: t.expose('statsUpdatedAt', { type: 'DateTime', nullable: true }),
  }),
});

const maxImport = 1000;

const QuestionInput = builder.inputType('QuestionInput', {
  fields: (t) => ({
    externalId: t.string({ required: true, validate: z.string().trim().min(1).max(200) }),
    category: t.string({ required: true, validate: z.string().trim().min(1).max(200) }),
    subcategory: t.string({ required: true, validate: z.string().trim().min(1).max(200) }),
    difficultyBand: t.field({ type: DifficultyBandEnum, required: true }),
    answer: t.string({ required: true, validate: z.string().trim().min(1, 'must not be empty').max(10_000) }),
    options: t.field({ type: 'JSON' }),
  }),
});

builder.queryFields((t) => ({
  question: t.prismaField({
    type: 'Question',
    nullable: true,
    authScopes: { authenticated: true },
    args: { id: t.arg.globalID({ required: true, for: QuestionRef }) },
    resolve: async (query, _root, args, ctx) => {
      const question = await ctx.db.prisma.question.findUnique({ ...query, where: { id: args.id.id } });
      if (!question) throw notFound('This question');
      return question;
    },
  }),
  questions: t.prismaConnection({
    type: 'Question',
    cursor: 'id',
    complexity: connectionComplexity,
    description: 'The question bank by externalId, optionally one subcategory.',
    authScopes: { authenticated: true },
    args: { subcategory: t.arg.string() },
    resolve: (query, _root, args, ctx) =>
      ctx.db.prisma.question.findMany({
        ...query,
        where: args.subcategory ? { subcategory: args.subcategory } : {},
        orderBy: { externalId: 'asc' },
      }),
  }),
}));

builder.mutationFields((t) => ({
  upsertQuestions: t.prismaField({
    type: ['Question'],
    description: `Imports questions keyed on externalId (at most ${maxImport} a call); statistics are kept.`,
    authScopes: { admin: true },
    args: { input: t.arg({ type: [QuestionInput], required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      if (input.length > maxImport) throw badInput(`At most ${maxImport} questions a call; split the import.`);
      const seen = new Set<string>();
      for (const q of input) {
        if (seen.has(q.externalId)) throw badInput(`externalId ${q.externalId} appears twice in one import.`);
        seen.add(q.externalId);
      }
      return upsertQuestions(
        ctx.db,
        query,
        input.map((q) => ({ ...q, options: q.options ?? undefined })),
      );
    },
  }),
}));
