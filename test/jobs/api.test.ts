// Jobs over GraphQL: runJob (admin only), jobRuns (coach/admin, newest first), usageStats.
import { describe, expect, test } from 'vitest';
import { graphql } from '../gql/index.ts';
import { useTestServer } from '../support/hooks.ts';
import { codesOf, dataOf } from '../support/server.ts';
import { insertAttempts } from './support.ts';

const RunJob = graphql(`
  mutation RunJob($job: JobName!, $date: Date, $at: DateTime) {
    runJob(job: $job, date: $date, at: $at) { id job slot status startedAt finishedAt stats error date watermark }
  }
`);
const JobRuns = graphql(`
  query JobRuns($job: JobName, $first: Int, $after: String) {
    jobRuns(job: $job, first: $first, after: $after) {
      edges { node { id job slot status } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);
const UsageStats = graphql(`
  query UsageStats($from: Date!, $to: Date!) {
    usageStats(from: $from, to: $to) {
      date activeUsers sessions attempts accuracy averageSessionMinutes
      byContext { context activeUsers attempts accuracy }
    }
  }
`);

const { server, world } = useTestServer();

describe('runJob', () => {
  test('a learner or a coach may not run a job; nothing is run', async () => {
    for (const token of [world.alice.token, world.coach.token]) {
      const response = await server.request(RunJob, { job: 'NIGHTLY', at: '2025-03-02T02:00:00Z' }, token);
      expect(codesOf(response)).toEqual(['FORBIDDEN']);
    }
    expect(codesOf(await server.request(RunJob, { job: 'NIGHTLY' }, null))).toEqual(['UNAUTHENTICATED']);
    expect(await server.db.prisma.jobRun.count()).toBe(0);
  });

  test('an admin runs NIGHTLY as of an instant; the same instant again is the same run', async () => {
    const question = await server.db.prisma.question.findUniqueOrThrow({ where: { externalId: 'ALG-1' } });
    await insertAttempts(server.db, [
      {
        userId: world.alice.userId,
        questionId: question.id,
        correct: true,
        recordedAt: new Date('2025-03-01T10:00:00Z'),
      },
    ]);
    const first = dataOf(
      await server.request(
        RunJob,
        { job: 'NIGHTLY', at: '2025-03-02T02:00:00Z', date: '2025-03-01' },
        world.admin.token,
      ),
    ).runJob;
    expect(first).toMatchObject({
      job: 'NIGHTLY',
      slot: '2025-03-02T02:00:00.000Z',
      status: 'SUCCEEDED',
      error: null,
      date: '2025-03-01',
      watermark: '2025-03-02T02:00:00.000Z',
    });
    expect(first.stats).toMatchObject({ masteriesUpdated: 1, masteryAttempts: 1, learnersPlanned: 1, plansChanged: 1 });
    // Alice was active: her plan for the day after the closed day sums to her budget; Bob was not.
    const plan = dataOf(
      await server.request<{ user: { plan: { units: { targetQuestions: number }[] } } }, unknown>(
        'query($id: ID!) { user(id: $id) { plan(date: "2025-03-02") { units { targetQuestions } } } }',
        { id: world.alice.id },
        world.alice.token,
      ),
    ).user.plan;
    expect(plan.units.reduce((sum, u) => sum + u.targetQuestions, 0)).toBe(30);
    expect(await server.db.prisma.planAdjustment.count({ where: { userId: world.bob.userId } })).toBe(0);
    expect(
      await server.db.prisma.planAdjustment.count({ where: { userId: world.alice.userId, trigger: 'NIGHTLY' } }),
    ).toBe(1);
    const again = dataOf(
      await server.request(RunJob, { job: 'NIGHTLY', at: '2025-03-02T02:00:00Z' }, world.admin.token),
    ).runJob;
    expect(again.id).toBe(first.id);
    const mastery = await server.db.prisma.mastery.findFirstOrThrow({ where: { userId: world.alice.userId } });
    expect(mastery).toMatchObject({ score: 0.8, attemptsCount: 1 });
  });

  test('now by default; an instant in the future is refused', async () => {
    const decay = dataOf(await server.request(RunJob, { job: 'MASTERY_DECAY' }, world.admin.token)).runJob;
    expect(decay).toMatchObject({ job: 'MASTERY_DECAY', status: 'SUCCEEDED', watermark: null });
    expect(Math.abs(Date.parse(decay.slot) - Date.now())).toBeLessThan(60_000);
    const future = await server.request(
      RunJob,
      { job: 'NIGHTLY', at: new Date(Date.now() + 3_600_000).toISOString() },
      world.admin.token,
    );
    expect(codesOf(future)).toEqual(['BAD_USER_INPUT']);
    expect(future.errors?.[0]?.message).toMatch(/future/);
    const patterns = dataOf(
      await server.request(RunJob, { job: 'PATTERNS', at: '2025-03-02T03:00:00Z' }, world.admin.token),
    ).runJob;
    expect(patterns).toMatchObject({ job: 'PATTERNS', status: 'SUCCEEDED', date: '2025-03-02' });
    // Nothing in Alice's window changed since the night: her pattern is carried, not written again.
    expect(patterns.stats).toMatchObject({ patterns: 1, patternsWritten: 0 });
    const stored = await server.db.prisma.learningPattern.findFirstOrThrow({
      where: { userId: world.alice.userId },
      orderBy: { computedAt: 'desc' },
    });
    expect(stored).toMatchObject({ windowDays: 7, computedAt: new Date('2025-03-02T02:00:00Z'), bestHourOfDay: null });
    expect(stored.difficultyProgression).toEqual([
      { date: '2025-03-01', meanDifficulty: expect.any(Number), accuracy: 1, attempts: 1 },
    ]);
  });
});

describe('jobRuns and usageStats', () => {
  test('jobRuns: newest slot first, paged, filtered by job; staff only', async () => {
    for (const at of ['2025-03-03T02:00:00Z', '2025-03-04T02:00:00Z']) {
      dataOf(await server.request(RunJob, { job: 'NIGHTLY', at }, world.admin.token));
    }
    const first = dataOf(await server.request(JobRuns, { job: 'NIGHTLY', first: 2 }, world.coach.token)).jobRuns;
    expect(first.edges.map((e) => e.node.slot)).toEqual(['2025-03-04T02:00:00.000Z', '2025-03-03T02:00:00.000Z']);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const next = dataOf(
      await server.request(JobRuns, { job: 'NIGHTLY', first: 2, after: first.pageInfo.endCursor }, world.coach.token),
    ).jobRuns;
    expect(next.edges.map((e) => e.node.slot)).toEqual(['2025-03-02T02:00:00.000Z']);
    const all = dataOf(await server.request(JobRuns, { first: 10 }, world.admin.token)).jobRuns;
    expect(new Set(all.edges.map((e) => e.node.job))).toEqual(new Set(['NIGHTLY', 'MASTERY_DECAY', 'PATTERNS']));
    expect(codesOf(await server.request(JobRuns, { first: 5 }, world.alice.token))).toEqual(['FORBIDDEN']);
  });

  test('usageStats: one entry per closed day in the range; staff only; a bad range is refused', async () => {
    const stats = dataOf(
      await server.request(UsageStats, { from: '2025-03-01', to: '2025-03-31' }, world.coach.token),
    ).usageStats;
    // Runs by hand close the day of their `at`: 03-01 (given), 03-03 and 03-04.
    expect(stats.map((s) => s.date)).toEqual(['2025-03-01', '2025-03-03', '2025-03-04']);
    expect(stats[0]).toMatchObject({ attempts: 1, activeUsers: 1, accuracy: 1 });
    expect(stats[0]!.byContext.map((c) => [c.context, c.attempts])).toEqual([
      ['SESSION', 1],
      ['PRACTICE', 0],
      ['DAILY', 0],
    ]);
    expect(
      codesOf(await server.request(UsageStats, { from: '2025-03-01', to: '2025-03-31' }, world.alice.token)),
    ).toEqual(['FORBIDDEN']);
    expect(
      codesOf(await server.request(UsageStats, { from: '2025-03-31', to: '2025-03-01' }, world.admin.token)),
    ).toEqual(['BAD_USER_INPUT']);
    expect(
      codesOf(await server.request(UsageStats, { from: '2020-01-01', to: '2025-03-01' }, world.admin.token)),
    ).toEqual(['BAD_USER_INPUT']);
  });
});
