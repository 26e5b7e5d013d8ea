// No lock wait fails a learner: sessions that end while a NIGHTLY run holds every active learner
// (its plan step locks them until the run commits) end at once; their plan adjustments follow the
// run, each exactly once. The NIGHTLY test is PostgreSQL only: PGlite runs one transaction at a time.
import { expect, test } from 'vitest';
import { runJob } from '../../src/jobs/run.ts';
import { applyPendingReplans } from '../../src/services/pending-replans.ts';
import { createTestDatabase, describeOnlyOn } from '../support/database.ts';
import { createWorld } from '../support/fixtures.ts';
import { dataOf, startTestServer } from '../support/server.ts';
import { testJobsConfig } from './support.ts';

test('a pending session-end replan is applied once, however many appliers run', async () => {
  const db = await createTestDatabase();
  const server = await startTestServer({ db });
  try {
    const world = await createWorld(server);
    const { startSession } = dataOf<{ startSession: { id: string } }>(
      await server.request('mutation { startSession { id } }', {}, world.alice.token),
    );
    const sessionId = Buffer.from(startSession.id, 'base64').toString().split(':')[1]!;
    await db.prisma.session.update({ where: { id: sessionId }, data: { endedAt: new Date() } });
    await db.prisma.pendingReplan.create({
      data: { sessionId, userId: world.alice.userId, planDate: new Date('2026-12-02') },
    });
    const left = await Promise.all([1, 2, 3].map(() => applyPendingReplans(db, null)));
    expect(left).toEqual([0, 0, 0]);
    expect(await db.prisma.pendingReplan.count()).toBe(0);
    const adjustments = await db.prisma.planAdjustment.findMany({ where: { sessionId } });
    expect(adjustments.map((a) => a.trigger)).toEqual(['SESSION_END']);
  } finally {
    await server.stop();
    await db.destroy();
  }
});

const learners = 20_000;
const ending = 64;

describeOnlyOn('postgres', 'endSession during NIGHTLY', () => {
  test(`${ending} sessions end while a NIGHTLY run holds ${learners} learners`, { timeout: 300_000 }, async () => {
    const db = await createTestDatabase();
    const server = await startTestServer({ db });
    try {
      const world = await createWorld(server);
      const question = world.questions[0]!;
      await db.prisma.$executeRaw`
        INSERT INTO users (name, email) SELECT 'Learner ' || g, 'learner' || g || '@bulk.example.com'
        FROM generate_series(1, ${learners}::int) g`;
      await db.prisma.$executeRaw`
        INSERT INTO attempts (user_id, question_id, attempt_no, context, user_answer, correct, time_sec, recorded_at,
                              client_attempt_id)
        SELECT u.id, ${Buffer.from(question.id, 'base64').toString().split(':')[1]}::uuid, 1, 'PRACTICE', 'x', true, 10,
               now() - interval '3 hours', gen_random_uuid()::text
        FROM users u WHERE u.email LIKE '%@bulk.example.com'`;
      const bulk = await db.prisma.user.findMany({
        where: { email: { endsWith: '@bulk.example.com' } },
        select: { id: true },
        orderBy: { id: 'asc' },
        take: ending,
      });
      const sessions = await Promise.all(
        bulk.map(async ({ id }) => {
          const token = await server.tokenFor(id);
          const { startSession } = dataOf<{ startSession: { id: string } }>(
            await server.request('mutation { startSession { id } }', {}, token),
          );
          const answer = await server.request(
            'mutation($input: RecordAttemptInput!) { recordAttempt(input: $input) { id } }',
            {
              input: {
                sessionId: startSession.id,
                questionId: question.id,
                userAnswer: question.answer,
                timeSec: 5,
                clientAttemptId: `a-${id}`,
              },
            },
            token,
          );
          expect(answer.errors).toBeUndefined();
          return { userId: id, token, sessionId: startSession.id };
        }),
      );

      const latencies: number[] = [];
      const failures: unknown[] = [];
      const run = await runJob(
        db,
        testJobsConfig(),
        { job: 'NIGHTLY', at: new Date(Date.now() - 1_000) },
        {
          // Inside the run's transaction, every active learner locked: the sessions end now, or never.
          afterStep: async (step) => {
            if (step !== 'planTomorrow') return;
            await Promise.all(
              sessions.map(async (s) => {
                const t0 = performance.now();
                const response = await server.request(
                  'mutation($id: ID!) { endSession(id: $id) { endedAt } }',
                  { id: s.sessionId },
                  s.token,
                );
                latencies.push(performance.now() - t0);
                if (response.errors) failures.push(response.errors);
              }),
            );
          },
        },
      );
      expect(run.outcome, run.run.error ?? '').toBe('succeeded');
      expect(JSON.stringify(failures).slice(0, 1500)).toBe('[]');
      latencies.sort((a, b) => a - b);
      const p = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!);
      console.info(
        `endSession during NIGHTLY at ${learners} learners: ${latencies.length - failures.length}/${ending} ` +
          `succeeded; p50 ${p(0.5)} ms, p99 ${p(0.99)} ms, max ${p(1)} ms`,
      );

      // Every session ended; each got its adjustment once, after the night's plan.
      const ids = sessions.map((s) => Buffer.from(s.sessionId, 'base64').toString().split(':')[1]!);
      expect(await db.prisma.session.count({ where: { id: { in: ids }, endedAt: null } })).toBe(0);
      expect(await db.prisma.pendingReplan.count()).toBe(0);
      const adjustments = await db.prisma.planAdjustment.findMany({
        where: { userId: { in: sessions.map((s) => s.userId) } },
        orderBy: [{ userId: 'asc' }, { version: 'asc' }],
      });
      for (const s of sessions) {
        const own = adjustments.filter((a) => a.userId === s.userId);
        expect(own.map((a) => a.trigger)).toEqual(['NIGHTLY', 'SESSION_END']);
        expect(own[1]!.sessionId).toBe(ids[sessions.indexOf(s)]);
      }
    } finally {
      await server.stop();
      await db.destroy();
    }
  });
});
