// The demo data a new user sees: the simulation (pure) and its load into an empty database, on
// in-memory PGlite and, in the 'postgres' project, on a fresh PostgreSQL database.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type DemoHistoryResult, processDemoHistory } from '../src/demo/history.ts';
import { DEMO_SEED, type DemoLoadResult, loadDemoData } from '../src/demo/load.ts';
import { DEMO_LEARNER_EMAIL, type DemoData, simulateDemo } from '../src/demo/simulation.ts';
import { answerKey } from '../src/domain/grading.ts';
import { loadJobsConfig } from '../src/jobs/config.ts';
import { createTestDatabase, type TestDatabase, testDatabaseKind } from './support/database.ts';

const DAY_MS = 86_400_000;
const now = new Date('2025-11-11T15:30:00Z');

describe('simulateDemo', () => {
  const demo = simulateDemo({ seed: DEMO_SEED, now });

  test('the same seed gives the same data, another seed other data', () => {
    expect(simulateDemo({ seed: DEMO_SEED, now })).toEqual(demo);
    expect(simulateDemo({ seed: DEMO_SEED + 1, now }).attempts).not.toEqual(demo.attempts);
  });

  test('a cohort of an admin, a coach and six learners, the demo learner first', () => {
    expect(demo.users.map((u) => u.role)).toEqual([
      'ADMIN',
      'COACH',
      'LEARNER',
      'LEARNER',
      'LEARNER',
      'LEARNER',
      'LEARNER',
      'LEARNER',
    ]);
    expect(demo.users[2]).toMatchObject({ email: DEMO_LEARNER_EMAIL, name: 'Lena Learner' });
    expect(new Set(demo.users.map((u) => u.name)).size).toBe(8);
    expect(new Set(demo.users.map((u) => u.timezone)).size).toBeGreaterThanOrEqual(5);
  });

  test('a bank of about 200 questions over 4 categories of 3 subcategories, 40/40/20 by band', () => {
    const { questions } = demo;
    expect(questions.length).toBeGreaterThanOrEqual(180);
    expect(questions.length).toBeLessThanOrEqual(220);
    expect(new Set(questions.map((q) => q.category)).size).toBe(4);
    expect(new Set(questions.map((q) => q.subcategory)).size).toBe(12);
    expect(new Set(questions.map((q) => q.externalId)).size).toBe(questions.length);
    const share = (band: string) => questions.filter((q) => q.difficultyBand === band).length / questions.length;
    expect(share('EASY')).toBeCloseTo(0.4, 1);
    expect(share('MEDIUM')).toBeCloseTo(0.4, 1);
    expect(share('HARD')).toBeCloseTo(0.2, 1);
    for (const q of questions) {
      expect(q.options).toHaveLength(4);
      expect(q.options).toContain(q.answer);
      // No wrong option may grade as the answer.
      expect(new Set(q.options.map(answerKey)).size).toBe(4);
    }
  });

  test('3,000 to 5,000 attempts in sessions of 10 to 40, graded as the server grades them', () => {
    expect(demo.attempts.length).toBeGreaterThanOrEqual(3000);
    expect(demo.attempts.length).toBeLessThanOrEqual(5000);
    const answers = new Map(demo.questions.map((q) => [q.externalId, q.answer]));
    for (const a of demo.attempts)
      expect(a.correct).toBe(answerKey(a.userAnswer) === answerKey(answers.get(a.questionExternalId)!));
    // Lenient grading shows: some correct answers were typed differently from the key.
    expect(demo.attempts.some((a) => a.correct && a.userAnswer !== answers.get(a.questionExternalId))).toBe(true);
    for (const s of demo.sessions.filter((s) => s.endedAt)) {
      const size = demo.attempts.filter((a) => a.clientSessionId === s.clientSessionId).length;
      expect(size).toBeGreaterThanOrEqual(10);
      expect(size).toBeLessThanOrEqual(40);
    }
    const contexts = new Set(demo.attempts.map((a) => a.context));
    expect(contexts).toEqual(new Set(['SESSION', 'PRACTICE', 'DAILY']));
  });

  // Different times of day catch the edges: a sitting under way at `now`, a day not yet started.
  test.each(['2025-11-11T15:30:00Z', '2025-11-11T06:40:00Z', '2025-11-11T23:55:00Z', '2026-03-29T01:30:00Z'])(
    'at %s nothing lies in the future and no two sessions of a learner overlap',
    (at) => {
      const data = simulateDemo({ seed: DEMO_SEED, now: new Date(at) });
      expectConsistentTimeline(data, new Date(at));
    },
  );
});

function expectConsistentTimeline(data: DemoData, at: Date): void {
  const nowMs = at.getTime();
  for (const a of data.attempts) {
    expect(a.recordedAt.getTime()).toBeLessThanOrEqual(nowMs);
    expect(a.recordedAt.getTime()).toBeGreaterThan(a.answeredAt.getTime());
  }
  const open = data.sessions.filter((s) => s.endedAt === null);
  expect(open.every((s) => s.userEmail === DEMO_LEARNER_EMAIL)).toBe(true);
  expect(open.length).toBeLessThanOrEqual(1);
  for (const s of data.sessions) {
    const mine = data.attempts.filter((a) => a.clientSessionId === s.clientSessionId);
    for (const a of mine) {
      expect(a.answeredAt.getTime()).toBeGreaterThan(s.startedAt.getTime());
      if (s.endedAt) expect(a.recordedAt.getTime()).toBeLessThan(s.endedAt.getTime());
    }
    if (s.endedAt) expect(s.endedAt.getTime()).toBeLessThanOrEqual(nowMs);
  }
  for (const user of data.users) {
    const sessions = data.sessions
      .filter((s) => s.userEmail === user.email)
      .sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());
    for (const [i, s] of sessions.slice(1).entries()) {
      expect(s.startedAt.getTime()).toBeGreaterThan(sessions[i]!.endedAt!.getTime());
    }
  }
}

describe(`loadDemoData on ${testDatabaseKind}`, () => {
  let db: TestDatabase;
  let loaded: DemoLoadResult | null;

  beforeAll(async () => {
    db = await createTestDatabase();
    loaded = await loadDemoData(db, now);
  });

  afterAll(async () => {
    await db?.destroy();
  });

  const count = async (sql: TemplateStringsArray, ...values: unknown[]) => {
    const [row] = await db.prisma.$queryRaw<{ n: number }[]>(sql, ...values);
    return row!.n;
  };

  test('loads the cohort once: a database with users is left alone', async () => {
    expect(loaded).toMatchObject({ users: 8, questions: 204 });
    expect(loaded!.sessions).toBeGreaterThan(60);
    expect(loaded!.attempts).toBeGreaterThanOrEqual(3000);
    expect(loaded!.attempts).toBeLessThanOrEqual(5000);
    expect(await count`SELECT count(*)::int AS n FROM attempts`).toBe(loaded!.attempts);
    expect(await loadDemoData(db, now)).toBeNull();
    expect(await count`SELECT count(*)::int AS n FROM users`).toBe(8);
    expect(await count`SELECT count(*)::int AS n FROM attempts`).toBe(loaded!.attempts);
  });

  test('every ended session has its summary, analytics and duration, as endSession leaves them', async () => {
    const ended = simulateDemo({ seed: DEMO_SEED, now }).sessions.filter((s) => s.endedAt !== null).length;
    expect(await count`SELECT count(*)::int AS n FROM sessions WHERE ended_at IS NOT NULL`).toBe(ended);
    expect(await count`SELECT count(*)::int AS n FROM session_summaries`).toBe(ended);
    const wrong = await count`
      SELECT count(*)::int AS n
      FROM sessions s
      LEFT JOIN session_summaries ss ON ss.session_id = s.id
      LEFT JOIN session_analytics sa ON sa.session_id = s.id
      WHERE s.ended_at IS NOT NULL
        AND (ss.session_id IS NULL OR sa.session_id IS NULL
             OR ss.questions_attempted <> (SELECT count(*) FROM attempts a WHERE a.session_id = s.id)
             OR s.duration_sec <> round(extract(epoch FROM s.ended_at - s.started_at)))`;
    expect(wrong).toBe(0);
    // The open session is the demo learner's, without derived rows yet.
    const [open] = await db.prisma.session.findMany({
      where: { endedAt: null },
      include: { user: true, summary: true },
    });
    expect(open).toMatchObject({ user: { email: DEMO_LEARNER_EMAIL }, summary: null, durationSec: null });
  });

  test("attemptNo numbers each user's attempts on a question 1..n in recordedAt order", async () => {
    const misnumbered = await count`
      SELECT count(*)::int AS n FROM (
        SELECT attempt_no, row_number() OVER (PARTITION BY user_id, question_id ORDER BY recorded_at, id) AS expected
        FROM attempts) numbered
      WHERE attempt_no <> expected`;
    expect(misnumbered).toBe(0);
    expect(await count`SELECT max(attempt_no)::int AS n FROM attempts`).toBeGreaterThan(1);
  });

  test('correct is what grading gives, and mastery is left to the nightly job', async () => {
    const rows = await db.prisma.attempt.findMany({
      select: { userAnswer: true, correct: true, masteryAtAttempt: true, question: { select: { answer: true } } },
    });
    for (const row of rows) {
      expect(row.correct).toBe(answerKey(row.userAnswer) === answerKey(row.question.answer));
      expect(row.masteryAtAttempt).toBeNull();
    }
    expect(await count`SELECT count(*)::int AS n FROM masteries`).toBe(0);
  });

  test('the demo learner practised on at least 10 distinct days of their own calendar', async () => {
    const days = await count`
      SELECT count(DISTINCT (s.started_at AT TIME ZONE u.timezone)::date)::int AS n
      FROM sessions s JOIN users u ON u.id = s.user_id
      WHERE u.email = ${DEMO_LEARNER_EMAIL}`;
    expect(days).toBeGreaterThanOrEqual(10);
  });

  test('most learners are more accurate in the last 4 days than in the first 4', async () => {
    const firstEnd = new Date(now.getTime() - 10 * DAY_MS);
    const lastStart = new Date(now.getTime() - 4 * DAY_MS);
    const rows = await db.prisma.$queryRaw<{ email: string; first: number; last: number }[]>`
      SELECT u.email,
             avg(a.correct::int) FILTER (WHERE a.answered_at < ${firstEnd})::float8 AS first,
             avg(a.correct::int) FILTER (WHERE a.answered_at >= ${lastStart})::float8 AS last
      FROM attempts a JOIN users u ON u.id = a.user_id
      GROUP BY u.email`;
    expect(rows).toHaveLength(6);
    const improved = rows.filter((r) => r.last >= r.first);
    expect(improved.length).toBeGreaterThanOrEqual(4);
  });
});

describe(`the demo history processed as the scheduler would have, on ${testDatabaseKind}`, () => {
  let db: TestDatabase;
  let processed: DemoHistoryResult;
  const jobs = loadJobsConfig({}, { timezone: 'UTC' });

  beforeAll(async () => {
    db = await createTestDatabase();
    await loadDemoData(db, now);
    processed = await processDemoHistory(db, jobs, now);
  }, 120_000);

  afterAll(async () => {
    await db?.destroy();
  });

  const count = async (sql: TemplateStringsArray, ...values: unknown[]) => {
    const [row] = await db.prisma.$queryRaw<{ n: number }[]>(sql, ...values);
    return row!.n;
  };

  test('a NIGHTLY for every demo day and the decay runs every 6 hours, all succeeded', async () => {
    expect(processed.failed).toBe(0);
    // 14 days back from 15:30 (the first attempt after 02:00): 14 nightly slots, 4 decay slots a day.
    expect(processed.nightly).toBe(14);
    expect(processed.decay).toBeGreaterThanOrEqual(13 * 4);
    expect(await count`SELECT count(*)::int AS n FROM job_runs WHERE status <> 'SUCCEEDED'`).toBe(0);
    expect(await count`SELECT count(*)::int AS n FROM job_runs WHERE job = 'NIGHTLY'`).toBe(14);
    // Run again: every slot is done, nothing runs twice.
    expect(await processDemoHistory(db, jobs, now)).toEqual({ nightly: 14, decay: processed.decay, failed: 0 });
    expect(await count`SELECT count(*)::int AS n FROM job_runs`).toBe(processed.nightly + processed.decay);
  });

  test('masteries, their history, question statistics, plans, usage and patterns hold real values', async () => {
    // Every learner has scores in the subcategories they practised (SESSION attempts), not all 0.5.
    expect(await count`SELECT count(DISTINCT user_id)::int AS n FROM masteries`).toBe(6);
    expect(await count`SELECT count(DISTINCT round(score::numeric, 3))::int AS n FROM masteries`).toBeGreaterThan(10);
    expect(await count`SELECT count(DISTINCT date)::int AS n FROM mastery_history`).toBeGreaterThanOrEqual(13);
    // Question statistics moved off their defaults.
    expect(await count`SELECT count(*)::int AS n FROM questions WHERE difficulty <> 0.5`).toBeGreaterThan(150);
    expect(await count`SELECT count(DISTINCT importance_index)::int AS n FROM questions`).toBeGreaterThan(10);
    expect(await count`SELECT count(*)::int AS n FROM questions WHERE learning_impact IS NOT NULL`).toBeGreaterThan(0);
    // Today's plan for every learner (a version, or the day before's carried over), usage for the days
    // closed, patterns for each learner.
    expect(
      await count`
        SELECT count(DISTINCT user_id)::int AS n FROM (
          SELECT user_id FROM plan_adjustments WHERE plan_date = ${'2025-11-11'}::date
          UNION ALL
          SELECT user_id FROM plan_carries
          WHERE ${'2025-11-11'}::date BETWEEN from_date AND COALESCE(through_date, ${'2025-11-11'}::date)
        ) planned`,
    ).toBe(6);
    expect(await count`SELECT count(*)::int AS n FROM usage_stats`).toBe(14);
    expect(await count`SELECT count(DISTINCT user_id)::int AS n FROM learning_patterns`).toBe(6);
  });
});
