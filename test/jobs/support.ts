// Helpers of the job tests: a small world written straight into the database, attempts with the
// recordedAt a test chooses, the jobs' configuration without waiting, and table snapshots.
import { randomUUID } from 'node:crypto';
import type { Database } from '../../src/db/client.ts';
import { answerKey } from '../../src/domain/grading.ts';
import { type JobsConfig, loadJobsConfig } from '../../src/jobs/config.ts';

export function testJobsConfig(overrides: Partial<JobsConfig> = {}): JobsConfig {
  return loadJobsConfig({}, { settleMs: 0, ...overrides });
}

export interface QuestionSpec {
  externalId: string;
  subcategory: string;
  band?: 'EASY' | 'MEDIUM' | 'HARD';
}

export async function createQuestions(db: Database, specs: readonly QuestionSpec[]): Promise<Map<string, string>> {
  await db.prisma.question.createMany({
    data: specs.map((q) => ({
      externalId: q.externalId,
      category: 'Quantitative',
      subcategory: q.subcategory,
      difficultyBand: q.band ?? 'MEDIUM',
      answer: 'right',
      answerKey: answerKey('right'),
    })),
  });
  const rows = await db.prisma.question.findMany({
    where: { externalId: { in: specs.map((q) => q.externalId) } },
    select: { id: true, externalId: true },
  });
  return new Map(rows.map((r) => [r.externalId, r.id]));
}

export async function createLearners(
  db: Database,
  names: readonly string[],
  timezone = 'UTC',
): Promise<Map<string, string>> {
  const tag = randomUUID().slice(0, 8);
  await db.prisma.user.createMany({
    data: names.map((name) => ({ name, email: `${name.toLowerCase()}.${tag}@example.com`, timezone })),
  });
  const rows = await db.prisma.user.findMany({
    where: { email: { endsWith: `.${tag}@example.com` } },
    select: { id: true, name: true },
  });
  return new Map(rows.map((r) => [r.name, r.id]));
}

export interface AttemptSpec {
  userId: string;
  questionId: string;
  correct: boolean;
  recordedAt: Date;
  hintUsed?: boolean;
  context?: 'SESSION' | 'PRACTICE' | 'DAILY';
  sessionId?: string | null;
  answeredAt?: Date | null;
  timeSec?: number;
  masteryAtAttempt?: number | null;
}

/** Inserts attempts as recordAttempt would store them, with the recordedAt given. */
export async function insertAttempts(db: Database, attempts: readonly AttemptSpec[]): Promise<void> {
  if (attempts.length === 0) return;
  const counts = await db.prisma.attempt.groupBy({ by: ['userId', 'questionId'], _max: { attemptNo: true } });
  const next = new Map(counts.map((c) => [`${c.userId}/${c.questionId}`, c._max.attemptNo ?? 0]));
  await db.prisma.attempt.createMany({
    data: attempts.map((a) => {
      const key = `${a.userId}/${a.questionId}`;
      const attemptNo = (next.get(key) ?? 0) + 1;
      next.set(key, attemptNo);
      return {
        userId: a.userId,
        questionId: a.questionId,
        sessionId: a.sessionId ?? null,
        attemptNo,
        context: a.context ?? 'SESSION',
        userAnswer: a.correct ? 'right' : 'wrong',
        correct: a.correct,
        timeSec: a.timeSec ?? 30,
        hintUsed: a.hintUsed ?? false,
        answeredAt: a.answeredAt ?? a.recordedAt,
        recordedAt: a.recordedAt,
        clientAttemptId: randomUUID(),
        masteryAtAttempt: a.masteryAtAttempt ?? null,
      };
    }),
  });
}

export const hours = (n: number) => n * 3_600_000;
export const at = (iso: string) => new Date(iso);
export const plus = (date: Date, ms: number) => new Date(date.getTime() + ms);

/** Rows of the tables a run writes, in a stable order, for before/after comparisons. */
export async function derivedState(db: Database) {
  return {
    masteries: await db.prisma.mastery.findMany({ orderBy: [{ userId: 'asc' }, { subcategory: 'asc' }] }),
    questions: await db.prisma.question.findMany({ orderBy: { externalId: 'asc' } }),
    history: await db.prisma.masteryHistory.findMany({
      orderBy: [{ userId: 'asc' }, { subcategory: 'asc' }, { date: 'asc' }],
    }),
    sessions: await db.prisma.session.findMany({ orderBy: { id: 'asc' } }),
    summaries: await db.prisma.sessionSummary.count(),
    usage: await db.prisma.usageStat.findMany({ orderBy: { date: 'asc' }, omit: { computedAt: true } }),
    activity: await db.prisma.dailyActivity.findMany({
      orderBy: [{ date: 'asc' }, { userId: 'asc' }, { subcategory: 'asc' }],
    }),
    cohortDays: await db.prisma.dailyCohortActivity.findMany({ orderBy: { date: 'asc' } }),
  };
}

/** Empties every table (not the migration history): tests of one file share a database. */
export async function emptyDatabase(db: Database): Promise<void> {
  const tables = await db.prisma.$queryRaw<{ tablename: string }[]>`
    SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> '_prisma_migrations'`;
  if (tables.length > 0)
    await db.prisma.$executeRawUnsafe(`TRUNCATE TABLE ${tables.map((t) => `"${t.tablename}"`).join(', ')} CASCADE`);
}
