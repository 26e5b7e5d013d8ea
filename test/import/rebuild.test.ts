// The rebuild against the world it stands for: the same history lived through the services —
// sessions started, answered and ended at their times, NIGHTLY and MASTERY_DECAY run at every slot
// in between — and imported then rebuilt. Every derived value must agree.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type LegacyLearner,
  legacyLearner,
  legacyQuestions,
  type SeedExportOptions,
  writeSeedExport,
} from '../../src/demo/seed-export.ts';
import { answerKey } from '../../src/domain/grading.ts';
import { rebuildDerivedState } from '../../src/import/rebuild.ts';
import { importTables } from '../../src/import/run.ts';
import { csvDirectory } from '../../src/import/sources.ts';
import { runJob } from '../../src/jobs/run.ts';
import { cronSlots, scheduledRunDate } from '../../src/jobs/slots.ts';
import { recordAttempt } from '../../src/services/attempts.ts';
import { masteryHistory } from '../../src/services/mastery-history.ts';
import { endSession, startSession } from '../../src/services/sessions.ts';
import { testJobsConfig } from '../jobs/support.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const now = new Date();
const options: SeedExportOptions = {
  learners: 10,
  attempts: 180,
  days: 9,
  end: new Date(now.getTime() - 3_600_000),
  seed: 5,
  historyShare: 0,
  questions: 48,
};
const questions = legacyQuestions(options.seed, options.questions);
const learners: LegacyLearner[] = Array.from({ length: options.learners }, (_, i) =>
  legacyLearner(i, questions, options),
);
const config = testJobsConfig();

let live: TestDatabase;
let imported: TestDatabase;
let dir: string;

/** The history as it happened: every session, answer and job run in time order, through the services. */
async function liveWorld(db: TestDatabase): Promise<void> {
  await db.prisma.question.createMany({
    data: questions.map((q) => ({
      externalId: q.id,
      category: q.category,
      subcategory: q.subcategory,
      difficultyBand: q.difficultyBand.toUpperCase() as 'EASY',
      answer: q.answer,
      answerKey: answerKey(q.answer),
      options: q.options,
    })),
  });
  const questionId = new Map(
    (await db.prisma.question.findMany({ select: { id: true, externalId: true } })).map((q) => [q.externalId, q.id]),
  );
  type Event = { at: number; order: number; run: () => Promise<unknown> };
  const events: Event[] = [];
  for (const learner of learners) {
    const user = await db.prisma.user.create({
      data: { name: learner.name, email: learner.email, timezone: learner.timezone },
    });
    const viewer = { subject: user.id, userId: user.id, role: 'LEARNER' as const };
    const sessionIds = new Map<string, string>();
    for (const s of learner.sessions) {
      events.push({
        at: s.startedAt.getTime(),
        order: 0,
        run: async () => {
          const started = await startSession(db, {}, viewer, {
            units: s.units,
            notes: null,
            clientSessionId: s.id,
            startedAt: s.startedAt,
          });
          sessionIds.set(s.id, started.id);
        },
      });
      events.push({
        at: s.endedAt.getTime(),
        order: 2,
        run: () => endSession(db, viewer, sessionIds.get(s.id)!, s.endedAt),
      });
    }
    for (const a of learner.attempts) {
      events.push({
        at: a.createdAt.getTime(),
        order: 1,
        run: async () => {
          const stored = await recordAttempt(
            db,
            viewer,
            {
              sessionId: a.sessionId ? sessionIds.get(a.sessionId)! : null,
              questionId: questionId.get(a.questionId)!,
              userAnswer: a.userAnswer,
              options: questions.find((q) => q.id === a.questionId)!.options,
              timeSec: a.timeSec,
              hintUsed: a.hintUsed,
              context: a.context.toUpperCase() as 'SESSION',
              answeredAt: a.createdAt,
              clientAttemptId: a.id,
            },
            config.learnerModel,
          );
          // Live, the server records it as it is answered.
          await db.prisma.attempt.update({ where: { id: stored.id }, data: { recordedAt: a.createdAt } });
        },
      });
    }
  }
  const first = new Date(Math.min(...events.map((e) => e.at)) - 1);
  for (const slot of cronSlots(config.nightlyCron, config.timezone, first, now)) {
    const date = scheduledRunDate(slot, config.timezone);
    events.push({ at: slot.getTime(), order: 3, run: () => runJob(db, config, { job: 'NIGHTLY', at: slot, date }) });
  }
  for (const slot of cronSlots(config.decayCron, config.timezone, first, now))
    events.push({ at: slot.getTime(), order: 4, run: () => runJob(db, config, { job: 'MASTERY_DECAY', at: slot }) });
  events.sort((a, b) => a.at - b.at || a.order - b.order);
  for (const event of events) await event.run();
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'learnloop-rebuild-'));
  await writeSeedExport(dir, options);
  live = await createTestDatabase();
  imported = await createTestDatabase();
  await liveWorld(live);
  const report = await importTables(imported, csvDirectory(dir));
  expect(report.refusals).toEqual([]);
}, 240_000);
afterAll(async () => {
  await live?.destroy();
  await imported?.destroy();
  await rm(dir, { recursive: true, force: true });
});

/** Numbers to 9 decimals, deep: sums taken in another order differ in the last bits. */
function rounded<T>(value: T): T {
  return JSON.parse(JSON.stringify(value), (_key, v) => (typeof v === 'number' ? Number(v.toFixed(9)) : v));
}

const close = (a: number | null, b: number | null) => {
  if (a === null || b === null) expect(a).toBe(b);
  else expect(a).toBeCloseTo(b, 9);
};

describe('rebuild', () => {
  test('derived state equals what live recording and the nightly runs produced', async () => {
    const report = await rebuildDerivedState(imported, { config, now, chunkSize: 3 });
    expect(report.learners).toBe(learners.length);

    const masteries = async (db: TestDatabase) =>
      (await db.prisma.mastery.findMany({ include: { user: true } }))
        .map((m) => ({ ...m, key: `${m.user.email}/${m.subcategory}` }))
        .sort((a, b) => a.key.localeCompare(b.key));
    const [liveScores, rebuiltScores] = [await masteries(live), await masteries(imported)];
    expect(rebuiltScores.map((m) => m.key)).toEqual(liveScores.map((m) => m.key));
    expect(liveScores.length).toBeGreaterThan(10);
    liveScores.forEach((l, i) => {
      const r = rebuiltScores[i]!;
      close(r.score, l.score);
      expect([r.attemptsCount, r.lastPracticedAt, r.updatedAt, r.decayedAt]).toEqual([
        l.attemptsCount,
        l.lastPracticedAt,
        l.updatedAt,
        l.decayedAt,
      ]);
    });

    // The history as read (stored sparse: the points where the score moved, filled between).
    const history = async (db: TestDatabase) => {
      const entries = [];
      for (const user of await db.prisma.user.findMany())
        for (const h of await masteryHistory(db.prisma, user.id, {}, config.mastery, config.historyActiveDays))
          entries.push({ key: `${user.email}/${h.subcategory}/${h.date.toISOString()}`, score: h.score });
      return entries.sort((a, b) => a.key.localeCompare(b.key));
    };
    const [liveHistory, rebuiltHistory] = [await history(live), await history(imported)];
    expect(rebuiltHistory.map((h) => h.key)).toEqual(liveHistory.map((h) => h.key));
    for (const [i, l] of liveHistory.entries()) close(rebuiltHistory[i]!.score, l.score);
    expect(await imported.prisma.masteryHistory.count()).toBeLessThan(rebuiltHistory.length);

    const attempts = async (db: TestDatabase) =>
      (await db.prisma.attempt.findMany())
        .map((a) => ({ ...a, key: a.clientAttemptId.replace(/^legacy:/, '') }))
        .sort((a, b) => a.key.localeCompare(b.key));
    const [liveAttempts, rebuiltAttempts] = [await attempts(live), await attempts(imported)];
    expect(rebuiltAttempts.map((a) => [a.key, a.attemptNo, a.correct])).toEqual(
      liveAttempts.map((a) => [a.key, a.attemptNo, a.correct]),
    );
    expect(liveAttempts.filter((a) => a.masteryAtAttempt !== null).length).toBeGreaterThan(20);
    for (const [i, l] of liveAttempts.entries()) close(rebuiltAttempts[i]!.masteryAtAttempt, l.masteryAtAttempt);
    // The difficulty recordAttempt stored (the question's of the night before), replayed for the imported
    // log: it moved from night to night.
    expect(new Set(liveAttempts.map((a) => a.difficultyAtAttempt)).size).toBeGreaterThan(5);
    for (const [i, l] of liveAttempts.entries()) close(rebuiltAttempts[i]!.difficultyAtAttempt, l.difficultyAtAttempt);

    const stats = async (db: TestDatabase) => db.prisma.question.findMany({ orderBy: { externalId: 'asc' } });
    const [liveStats, rebuiltStats] = [await stats(live), await stats(imported)];
    liveStats.forEach((l, i) => {
      const r = rebuiltStats[i]!;
      expect([r.externalId, r.attemptsCount, r.correctCount, r.masteryN, r.followUpN, r.followUpCorrect]).toEqual([
        l.externalId,
        l.attemptsCount,
        l.correctCount,
        l.masteryN,
        l.followUpN,
        l.followUpCorrect,
      ]);
      for (const field of ['difficulty', 'discrimination', 'learningImpact', 'importanceIndex'] as const)
        close(r[field], l[field]);
    });

    const sessions = async (db: TestDatabase) =>
      (await db.prisma.session.findMany({ include: { summary: true, analytics: true } }))
        .map((s) => ({
          key: s.clientSessionId!.replace(/^legacy:/, ''),
          span: [s.startedAt, s.endedAt, s.durationSec],
          summary: s.summary && { ...s.summary, sessionId: null, computedAt: null },
          analytics: s.analytics && { ...s.analytics, sessionId: null, computedAt: null },
        }))
        .sort((a, b) => a.key.localeCompare(b.key));
    expect(await sessions(imported)).toEqual(await sessions(live));

    // Each learner's current pattern, their latest row (a night writes a row only where it changed). A
    // learner whose window has emptied has an empty latest row live and none after the rebuild: the same.
    const patterns = async (db: TestDatabase) =>
      (
        await db.prisma.learningPattern.findMany({
          include: { user: true },
          where: { computedAt: { lte: new Date(report.asOf) } },
          orderBy: { computedAt: 'desc' },
          distinct: ['userId'],
        })
      )
        .filter((p) => p.bestHourOfDay !== null || (p.difficultyProgression as unknown[]).length > 0)
        .map(({ id: _, userId: __, computedAt: ___, user, ...p }) => rounded({ email: user.email, ...p }))
        .sort((a, b) => a.email.localeCompare(b.email));
    expect((await patterns(imported)).length).toBeGreaterThan(0);
    expect(await patterns(imported)).toEqual(await patterns(live));

    // The next NIGHTLY goes on from the rebuild's slot.
    const ledger = await imported.prisma.jobRun.findFirstOrThrow({ where: { job: 'NIGHTLY' } });
    expect(ledger.watermark?.toISOString()).toBe(report.asOf);
  }, 120_000);

  test('a second rebuild changes nothing', async () => {
    const before = await imported.prisma.mastery.findMany({ orderBy: [{ userId: 'asc' }, { subcategory: 'asc' }] });
    const report = await rebuildDerivedState(imported, { config, now });
    expect(report.masteryAtAttemptUpdated).toBe(0);
    expect(await imported.prisma.mastery.findMany({ orderBy: [{ userId: 'asc' }, { subcategory: 'asc' }] })).toEqual(
      before,
    );
  }, 60_000);
});
