// Jobs in the API: runJob (admin), jobRuns (coach/admin), and the usage statistics NIGHTLY computes.

import { dateString } from '../domain/calendar.ts';
import { badInput, conflict } from '../errors.ts';
import { JobRequestError, runJob } from '../jobs/run.ts';
import { builder, connectionComplexity } from './builder.ts';
import { AttemptContextEnum, JobNameEnum, JobStatusEnum } from './enums.ts';

builder.prismaNode('JobRun', {
  id: { field: 'id' },
  authScopes: { staff: true },
  description: 'One run of a job for one slot; a slot runs once across all instances.',
  fields: (t) => ({
    job: t.expose('job', { type: JobNameEnum }),
    slot: t.expose('slot', {
      type: 'DateTime',
      description: 'The scheduled instant the run stands for (for a run by hand, its `at`).',
    }),
    status: t.expose('status', { type: JobStatusEnum }),
    startedAt: t.expose('startedAt', { type: 'DateTime' }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    stats: t.expose('stats', {
      type: 'JSON',
      nullable: true,
      description: 'What the run did: counts per step, its attempt window, step durations in ms.',
    }),
    error: t.exposeString('error', {
      nullable: true,
      description: 'Why a FAILED run failed; nothing of it was applied.',
    }),
    date: t.expose('runDate', {
      type: 'Date',
      nullable: true,
      description: 'The day the run closes (NIGHTLY: its MasteryHistory and UsageStat date).',
    }),
    watermark: t.expose('watermark', {
      type: 'DateTime',
      nullable: true,
      description: 'NIGHTLY: attempts recorded up to this instant have been processed.',
    }),
  }),
});

interface ContextUsageShape {
  context: 'SESSION' | 'PRACTICE' | 'DAILY';
  activeUsers: number;
  attempts: number;
  accuracy: number | null;
}

const ContextUsage = builder.objectRef<ContextUsageShape>('ContextUsage').implement({
  description: 'Usage of one attempt context on a day.',
  fields: (t) => ({
    context: t.expose('context', { type: AttemptContextEnum }),
    activeUsers: t.exposeInt('activeUsers'),
    attempts: t.exposeInt('attempts'),
    accuracy: t.exposeFloat('accuracy', { nullable: true }),
  }),
});

builder.prismaObject('UsageStat', {
  description: 'Usage of one day (in JOBS_TZ), computed by the NIGHTLY run that closes it.',
  fields: (t) => ({
    date: t.expose('date', { type: 'Date' }),
    activeUsers: t.exposeInt('activeUsers', { description: 'Learners with an attempt that day.' }),
    sessions: t.exposeInt('sessions', { description: 'Sessions started that day.' }),
    attempts: t.exposeInt('attempts', { description: 'Attempts recorded that day, every context.' }),
    accuracy: t.exposeFloat('accuracy', { nullable: true }),
    averageSessionMinutes: t.exposeFloat('averageSessionMinutes', {
      nullable: true,
      description: "Mean duration of that day's sessions that have ended.",
    }),
    byContext: t.field({ type: [ContextUsage], resolve: (stat) => stat.byContext as unknown as ContextUsageShape[] }),
    computedAt: t.expose('computedAt', { type: 'DateTime' }),
  }),
});

const dayMs = 86_400_000;
const maxUsageDays = 366;

builder.queryFields((t) => ({
  jobRuns: t.prismaConnection({
    type: 'JobRun',
    cursor: 'id',
    complexity: connectionComplexity,
    description: 'Job runs, newest slot first (coach/admin).',
    authScopes: { staff: true },
    args: { job: t.arg({ type: JobNameEnum }) },
    resolve: (query, _root, args, ctx) =>
      ctx.db.prisma.jobRun.findMany({
        ...query,
        where: args.job ? { job: args.job } : {},
        orderBy: [{ slot: 'desc' }, { id: 'desc' }],
      }),
  }),
  usageStats: t.prismaField({
    type: ['UsageStat'],
    description:
      `Usage per day from \`from\` to \`to\` (inclusive, at most ${maxUsageDays} days), oldest first; ` +
      'a day is listed once a NIGHTLY run has closed it (coach/admin).',
    authScopes: { staff: true },
    args: { from: t.arg({ type: 'Date', required: true }), to: t.arg({ type: 'Date', required: true }) },
    complexity: (args) => ({
      field: 1,
      multiplier: Math.min(
        Math.max(Math.round((args.to.getTime() - args.from.getTime()) / dayMs) + 1, 1),
        maxUsageDays,
      ),
    }),
    resolve: (query, _root, { from, to }, ctx) => {
      if (from.getTime() > to.getTime()) throw badInput(`from ${dateString(from)} is after to ${dateString(to)}.`);
      if ((to.getTime() - from.getTime()) / dayMs + 1 > maxUsageDays)
        throw badInput(`Ask for at most ${maxUsageDays} days at a time.`);
      return ctx.db.prisma.usageStat.findMany({
        ...query,
        where: { date: { gte: from, lte: to } },
        orderBy: { date: 'asc' },
      });
    },
  }),
}));

builder.mutationFields((t) => ({
  runJob: t.prismaField({
    type: 'JobRun',
    description:
      'Runs a job now and returns its run (admin). `at`: the instant the run acts as of ' +
      '(default now; it is the slot, so a second call with the same `at` returns the same run). ' +
      '`date`: the day a NIGHTLY run closes ' +
      '(default: the date of `at` in JOBS_TZ). A run that fails is returned with status FAILED and its error; ' +
      'nothing of it was applied.',
    authScopes: { admin: true },
    args: {
      job: t.arg({ type: JobNameEnum, required: true }),
      date: t.arg({ type: 'Date' }),
      at: t.arg({ type: 'DateTime' }),
    },
    resolve: async (query, _root, args, ctx) => {
      const result = await runJob(
        ctx.db,
        ctx.jobs,
        { job: args.job, at: args.at ?? undefined, date: args.date ? dateString(args.date) : undefined },
        { log: ctx.log, pubsub: ctx.pubsub },
      ).catch((error: unknown) => {
        throw error instanceof JobRequestError ? badInput(error.message) : error;
      });
      if (result.outcome === 'busy') {
        throw conflict(
          `A ${args.job} run for ${result.run.slot.toISOString()} has been running since ` +
            `${result.run.startedAt.toISOString()}: ask again when it has finished.`,
        );
      }
      return ctx.db.prisma.jobRun.findUniqueOrThrow({ ...query, where: { id: result.run.id } });
    },
  }),
}));
