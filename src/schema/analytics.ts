// How a learner learns (SPEC 4.3) and what dashboards chart: User.learningPatterns, User.activity,
// and Query.cohortOverview for coaches and admins. The numbers come from set-based SQL in
// src/services/learning-patterns.ts and src/services/activity.ts.
import { createContextCache } from '@pothos/core';
import DataLoader from 'dataloader';
import { z } from 'zod';
import type { Context } from '../context.ts';
import { dateString } from '../domain/calendar.ts';
import type {
  ConceptRetention,
  DifficultyProgressionPoint,
  LearningPatternsResult,
} from '../domain/learning-patterns.ts';
import { badInput, notFound } from '../errors.ts';
import { learnerDaysPerPoint } from '../limits.ts';
import {
  type ActivityPoint,
  type AtRiskLearner,
  activityFor,
  type CohortDay,
  type CohortLearners,
  type CohortSubcategory,
  cohortDays,
  cohortLearners,
  MASTERY_QUANTILES,
  MAX_RANGE_DAYS,
  rangeProblem,
} from '../services/activity.ts';
import {
  DEFAULT_PATTERN_DAYS,
  learningPatternsFor,
  MAX_PATTERN_DAYS,
  MIN_PATTERN_DAYS,
} from '../services/learning-patterns.ts';
import { builder } from './builder.ts';

const DifficultyProgressionPointRef = builder
  .objectRef<DifficultyProgressionPoint>('DifficultyProgressionPoint')
  .implement({
    description: 'One day with attempts in the window.',
    fields: (t) => ({
      date: t.field({ type: 'Date', description: "In the learner's time zone.", resolve: (p) => p.date }),
      meanDifficulty: t.exposeFloat('meanDifficulty', {
        nullable: true,
        description:
          'Mean difficulty (0..1) of the questions attempted that day, as each stood when attempted ' +
          '(Question.difficulty of the night before; an imported attempt not yet rebuilt: the current one).',
      }),
      accuracy: t.exposeFloat('accuracy'),
      attempts: t.exposeInt('attempts'),
    }),
  });

const ConceptRetentionRef = builder.objectRef<ConceptRetention>('ConceptRetention').implement({
  description: 'A subcategory practised on two or more days of the window: the last day against the first.',
  fields: (t) => ({
    subcategory: t.exposeString('subcategory'),
    firstDate: t.field({ type: 'Date', resolve: (c) => c.firstDate }),
    lastDate: t.field({ type: 'Date', resolve: (c) => c.lastDate }),
    ratio: t.exposeFloat('ratio', {
      nullable: true,
      description: "Last day's accuracy ÷ first day's; null when the first day's accuracy is 0.",
    }),
  }),
});

const LearningPatternsRef = builder.objectRef<LearningPatternsResult>('LearningPatterns').implement({
  description:
    "How a learner learns best over the last windowDays calendar days (in the learner's time zone, today included). " +
    'Fields with too little data are null or empty, never invented.',
  fields: (t) => ({
    windowDays: t.exposeInt('windowDays'),
    optimalSessionDurationMinutes: t.exposeFloat('optimalSessionDurationMinutes', {
      nullable: true,
      description:
        'Mean duration of the sessions in the 15-minute duration bucket with the best mean accuracy ' +
        '(buckets of at least 2 ended sessions; ties: the shorter).',
    }),
    bestHourOfDay: t.exposeInt('bestHourOfDay', {
      nullable: true,
      description:
        "0–23 in the learner's time zone: the hour with the best accuracy among hours with at least 10 attempts " +
        '(ties: the earlier).',
    }),
    difficultyProgression: t.field({
      type: [DifficultyProgressionPointRef],
      complexity: { field: 1, multiplier: 7 },
      resolve: (p) => p.difficultyProgression,
    }),
    conceptRetention: t.field({
      type: [ConceptRetentionRef],
      complexity: { field: 1, multiplier: 8 },
      resolve: (p) => p.conceptRetention,
    }),
  }),
});

const ActivityPointRef = builder.objectRef<ActivityPoint>('ActivityPoint').implement({
  description: "A learner's day, in the learner's time zone.",
  fields: (t) => ({
    date: t.field({ type: 'Date', resolve: (p) => p.date }),
    sessions: t.exposeInt('sessions', { description: 'Sessions started that day.' }),
    minutes: t.exposeFloat('minutes', { description: 'Total duration of the ended sessions started that day.' }),
    attempts: t.exposeInt('attempts', { description: 'Attempts answered that day, in any context.' }),
    accuracy: t.exposeFloat('accuracy', { nullable: true, description: 'Null on a day without attempts.' }),
  }),
});

const CohortSubcategoryRef = builder.objectRef<CohortSubcategory>('CohortSubcategory').implement({
  fields: (t) => ({
    subcategory: t.exposeString('subcategory'),
    learners: t.exposeInt('learners', { description: 'Learners with an attempt in the subcategory in the range.' }),
    attempts: t.exposeInt('attempts'),
    accuracy: t.exposeFloat('accuracy'),
    meanMastery: t.exposeFloat('meanMastery', {
      nullable: true,
      description: 'Mean current mastery of those learners (null when none has one yet).',
    }),
    masteryQuantiles: t.exposeFloatList('masteryQuantiles', {
      description: `The current mastery of those learners at the quantiles ${MASTERY_QUANTILES.join(', ')} \
(minimum, quartiles, maximum); empty when none has one yet.`,
    }),
  }),
});

const CohortDayRef = builder.objectRef<CohortDay>('CohortDay').implement({
  description: "One day of the cohort (each learner's own calendar day).",
  fields: (t) => ({
    date: t.field({ type: 'Date', resolve: (d) => d.date }),
    attempts: t.exposeInt('attempts', { description: 'Attempts answered that day, in any context.' }),
    accuracy: t.exposeFloat('accuracy', { nullable: true, description: 'Null on a day without attempts.' }),
    activeLearners: t.exposeInt('activeLearners', { description: 'Learners with an attempt that day.' }),
    sessions: t.exposeInt('sessions', { description: 'Sessions started that day.' }),
  }),
});

const AtRiskLearnerRef = builder.objectRef<AtRiskLearner>('AtRiskLearner').implement({
  description: 'A learner whose accuracy or activity dropped from the first half of the range to the second.',
  fields: (t) => ({
    user: t.prismaField({
      type: 'User',
      resolve: (query, learner, _args, ctx) =>
        ctx.db.prisma.user.findUniqueOrThrow({ ...query, where: { id: learner.userId } }),
    }),
    reason: t.exposeString('reason'),
    accuracyDrop: t.exposeFloat('accuracyDrop', {
      nullable: true,
      description:
        "First half's accuracy minus the second's (0.2 = 20 points lower); null unless both halves have 5 attempts.",
    }),
    activityDrop: t.exposeFloat('activityDrop', {
      nullable: true,
      description:
        "1 − second half's attempts ÷ first half's (1 = stopped); null unless the first half has 5 attempts.",
    }),
  }),
});

interface CohortRange {
  from: string;
  to: string;
}

/**
 * The figures of cohortLearners per range, once per request: subcategories and atRisk share one
 * statement (and so one pass over every learner's rows), whichever field asks first.
 */
const cohortLearnersOf = createContextCache(
  (ctx: Context) =>
    new DataLoader<string, CohortLearners>((ranges) =>
      Promise.all(
        ranges.map((range) => {
          const [from, to] = range.split('..') as [string, string];
          return ctx.heavy.run(heavyUser(ctx), () => cohortLearners(ctx.db.prisma, from, to));
        }),
      ),
    ),
);

const CohortOverviewRef = builder.objectRef<CohortRange>('CohortOverview').implement({
  description: "All learners over a range of days (each learner's days in their own time zone).",
  fields: (t) => ({
    from: t.field({ type: 'Date', resolve: (r) => r.from }),
    to: t.field({ type: 'Date', resolve: (r) => r.to }),
    days: t.field({
      type: [CohortDayRef],
      complexity: { field: 5, multiplier: 30 },
      description: 'Every day of the range, days without activity as zeros.',
      resolve: (r, _args, ctx) => ctx.heavy.run(heavyUser(ctx), () => cohortDays(ctx.db.prisma, r.from, r.to)),
    }),
    subcategories: t.field({
      type: [CohortSubcategoryRef],
      complexity: { field: 5, multiplier: 10 },
      description: 'Every subcategory practised in the range, by name.',
      resolve: async (r, _args, ctx) => (await cohortLearnersOf(ctx).load(`${r.from}..${r.to}`)).subcategories,
    }),
    atRisk: t.field({
      type: [AtRiskLearnerRef],
      complexity: { field: 5, multiplier: 10 },
      description:
        'At most 10 learners whose accuracy (−15 points or more) or attempts (half or fewer) dropped most ' +
        'from the first half of the range to the second, worst first, each with the reason.',
      resolve: async (r, _args, ctx) => (await cohortLearnersOf(ctx).load(`${r.from}..${r.to}`)).atRisk,
    }),
  }),
});

/** Whose turn a heavy field takes (staff only: there is a viewer). */
const heavyUser = (ctx: Context) => ctx.viewer!.userId ?? ctx.viewer!.subject;

/** Days in a range, inclusive (at least 1, for pricing before the range is checked). */
function rangeDays(args: { from: Date; to: Date }): number {
  const days = Math.round((args.to.getTime() - args.from.getTime()) / 86_400_000) + 1;
  return Number.isFinite(days) ? Math.min(Math.max(days, 1), MAX_RANGE_DAYS) : 1;
}

/** The range of a query as YYYY-MM-DD strings, or BAD_USER_INPUT. */
function checkedRange(args: { from: Date; to: Date }): CohortRange {
  const range = { from: dateString(args.from), to: dateString(args.to) };
  const problem = rangeProblem(range.from, range.to);
  if (problem) throw badInput(problem);
  return range;
}

const daysMessage = `must be a whole number of days from ${MIN_PATTERN_DAYS} to ${MAX_PATTERN_DAYS}`;

builder.prismaObjectFields('User', (t) => ({
  learningPatterns: t.field({
    type: LearningPatternsRef,
    authScopes: (user) => ({ readsUser: user.id }),
    // One learner × the window's days, like activity.
    complexity: (args) => 5 + Math.ceil((args.days ?? DEFAULT_PATTERN_DAYS) / 10),
    description:
      'How this learner learns best over the last `days` days ' +
      `(${MIN_PATTERN_DAYS}..${MAX_PATTERN_DAYS}, default ${DEFAULT_PATTERN_DAYS}).`,
    args: {
      days: t.arg.int({
        defaultValue: DEFAULT_PATTERN_DAYS,
        validate: z
          .number()
          .int(daysMessage)
          .min(MIN_PATTERN_DAYS, daysMessage)
          .max(MAX_PATTERN_DAYS, daysMessage)
          .nullish(),
      }),
    },
    resolve: async (user, args, ctx) => {
      const patterns = await learningPatternsFor(ctx.db.prisma, user.id, args.days ?? DEFAULT_PATTERN_DAYS);
      if (!patterns) throw notFound('This user');
      return patterns;
    },
  }),
  activity: t.field({
    type: [ActivityPointRef],
    authScopes: (user) => ({ readsUser: user.id }),
    complexity: { field: 5, multiplier: 30 },
    description:
      `One point per day from \`from\` to \`to\` (inclusive, at most ${MAX_RANGE_DAYS} days, ` +
      "in the learner's time zone); days without activity are zeros.",
    args: { from: t.arg({ type: 'Date', required: true }), to: t.arg({ type: 'Date', required: true }) },
    resolve: (user, args, ctx) => {
      const { from, to } = checkedRange(args);
      return activityFor(ctx.db.prisma, user.id, from, to);
    },
  }),
}));

builder.queryFields((t) => ({
  cohortOverview: t.field({
    type: CohortOverviewRef,
    authScopes: { staff: true },
    // Priced by the work it does: every learner's attempts over every day of the range.
    complexity: (args, ctx) => ({
      field: 1 + Math.ceil((ctx.heavy.learners() * rangeDays(args)) / learnerDaysPerPoint),
      multiplier: 1,
    }),
    description:
      "Coaches and admins: every learner's practice per subcategory over a range " +
      `(at most ${MAX_RANGE_DAYS} days), and who is at risk.`,
    args: { from: t.arg({ type: 'Date', required: true }), to: t.arg({ type: 'Date', required: true }) },
    resolve: (_root, args) => checkedRange(args),
  }),
}));
