// Session summary and analytics through the API (SPEC 4.1, 4.2) against values worked out by hand,
// stored once and read back unchanged; the recompute command; User.activity; and who may read the
// new fields.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { recomputeMissingSessionAnalytics } from '../../src/services/recompute-analytics.ts';
import { graphql } from '../gql/index.ts';
import {
  createPerson,
  createWorld,
  type Person,
  rawId,
  UpsertQuestionsDocument,
  type World,
} from '../support/fixtures.ts';
import { codesOf, dataOf, startTestServer, type TestServer } from '../support/server.ts';

const StartSession = graphql(`
  mutation AnalyticsStartSession($input: StartSessionInput) {
    startSession(input: $input) { id }
  }
`);

const RecordAttempt = graphql(`
  mutation AnalyticsRecordAttempt($input: RecordAttemptInput!) {
    recordAttempt(input: $input) { id correct attemptNo }
  }
`);

const EndSession = graphql(`
  mutation AnalyticsEndSession($id: ID!) {
    endSession(id: $id) {
      id endedAt durationSec
      summary {
        questionsAttempted questionsCorrect accuracy averageTimePerQuestion topicsCovered
        difficultyDistribution { easy medium hard }
      }
      analytics { learningVelocity conceptSwitches attentionSpanMinutes optimalDifficultyRange }
    }
  }
`);

const ReadSession = graphql(`
  query AnalyticsReadSession($id: ID!) {
    session(id: $id) {
      id endedAt durationSec
      summary {
        questionsAttempted questionsCorrect accuracy averageTimePerQuestion topicsCovered
        difficultyDistribution { easy medium hard }
      }
      analytics { learningVelocity conceptSwitches attentionSpanMinutes optimalDifficultyRange }
    }
  }
`);

const Activity = graphql(`
  query AnalyticsActivity($id: ID!, $from: Date!, $to: Date!) {
    user(id: $id) { activity(from: $from, to: $to) { date sessions minutes attempts accuracy } }
  }
`);

const root = path.resolve(import.meta.dirname, '../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');

let server: TestServer;
let world: World;
/** Questions of this file, by externalId: their bands change in the "read again later" test. */
const questions = new Map<string, { id: string; answer: string }>();

const bank = [
  { externalId: 'AN-ALG-E', subcategory: 'Algebra', difficultyBand: 'EASY', answer: 'a' },
  { externalId: 'AN-ALG-M', subcategory: 'Algebra', difficultyBand: 'MEDIUM', answer: 'b' },
  { externalId: 'AN-ALG-H', subcategory: 'Algebra', difficultyBand: 'HARD', answer: 'c' },
  { externalId: 'AN-GEO-E', subcategory: 'Geometry', difficultyBand: 'EASY', answer: 'd' },
  { externalId: 'AN-GEO-M', subcategory: 'Geometry', difficultyBand: 'MEDIUM', answer: 'e' },
  { externalId: 'AN-GEO-H', subcategory: 'Geometry', difficultyBand: 'HARD', answer: 'f' },
] as const;

async function upsertBank(bands: Record<string, string> = {}) {
  const input = bank.map((q) => ({
    ...q,
    category: 'Quantitative',
    difficultyBand: (bands[q.externalId] ?? q.difficultyBand) as 'EASY',
    options: ['a', 'b', 'c', 'd', 'e', 'f'],
  }));
  const { upsertQuestions } = dataOf(await server.request(UpsertQuestionsDocument, { input }, world.admin.token));
  for (const q of upsertQuestions) questions.set(q.externalId, { id: q.id, answer: q.answer ?? '' });
}

beforeAll(async () => {
  server = await startTestServer();
  world = await createWorld(server);
  await upsertBank();
});
afterAll(async () => server?.stop());

interface Step {
  externalId: (typeof bank)[number]['externalId'];
  correct: boolean;
  timeSec: number;
  context?: 'SESSION' | 'PRACTICE';
  answeredAt?: string;
}

let keyCounter = 0;

/** Records the steps in order (one request after another, so recordedAt follows the list). */
async function record(person: Person, sessionId: string | null, steps: readonly Step[]): Promise<void> {
  for (const step of steps) {
    const question = questions.get(step.externalId)!;
    const { recordAttempt } = dataOf(
      await server.request(
        RecordAttempt,
        {
          input: {
            ...(sessionId ? { sessionId } : { context: 'PRACTICE' as const }),
            questionId: question.id,
            userAnswer: step.correct ? question.answer : 'wrong',
            timeSec: step.timeSec,
            clientAttemptId: `an-${keyCounter++}`,
            ...(step.answeredAt ? { answeredAt: step.answeredAt } : {}),
          },
        },
        person.token,
      ),
    );
    expect(recordAttempt.correct).toBe(step.correct);
  }
}

async function sessionWith(person: Person, steps: readonly Step[]) {
  const { startSession } = dataOf(await server.request(StartSession, {}, person.token));
  await record(person, startSession.id, steps);
  return dataOf(await server.request(EndSession, { id: startSession.id }, person.token)).endSession;
}

// A fatigue session: 12 attempts over two subcategories and three bands, slowing down and getting
// things wrong after a good start.
//   i  question   band   subcat    c  timeSec
//   1  AN-ALG-E   EASY   Algebra   1  10
//   2  AN-ALG-M   MEDIUM Algebra   1  10
//   3  AN-GEO-E   EASY   Geometry  1  10   switch
//   4  AN-GEO-M   MEDIUM Geometry  1  10
//   5  AN-ALG-H   HARD   Algebra   0  10   switch
//   6  AN-ALG-E   EASY   Algebra   1  12   (a retry of question 1: counts again)
//   7  AN-GEO-H   HARD   Geometry  0  20   switch
//   8  AN-GEO-M   MEDIUM Geometry  0  25
//   9  AN-ALG-M   MEDIUM Algebra   1  15   switch
//  10  AN-ALG-H   HARD   Algebra   0  30
//  11  AN-GEO-E   EASY   Geometry  1   8   switch
//  12  AN-ALG-E   EASY   Algebra   1   9   switch
const fatigue: Step[] = [
  { externalId: 'AN-ALG-E', correct: true, timeSec: 10 },
  { externalId: 'AN-ALG-M', correct: true, timeSec: 10 },
  { externalId: 'AN-GEO-E', correct: true, timeSec: 10 },
  { externalId: 'AN-GEO-M', correct: true, timeSec: 10 },
  { externalId: 'AN-ALG-H', correct: false, timeSec: 10 },
  { externalId: 'AN-ALG-E', correct: true, timeSec: 12 },
  { externalId: 'AN-GEO-H', correct: false, timeSec: 20 },
  { externalId: 'AN-GEO-M', correct: false, timeSec: 25 },
  { externalId: 'AN-ALG-M', correct: true, timeSec: 15 },
  { externalId: 'AN-ALG-H', correct: false, timeSec: 30 },
  { externalId: 'AN-GEO-E', correct: true, timeSec: 8 },
  { externalId: 'AN-ALG-E', correct: true, timeSec: 9 },
];

// Worked by hand.
// Summary: 8 of 12 correct; time 10·5 + 12 + 20 + 25 + 15 + 30 + 8 + 9 = 169 s; bands E 5 (1,3,6,11,12),
// M 4 (2,4,8,9), H 3 (5,7,10).
const fatigueSummary = {
  questionsAttempted: 12,
  questionsCorrect: 8,
  accuracy: 8 / 12,
  averageTimePerQuestion: 169 / 12,
  topicsCovered: ['Algebra', 'Geometry'],
  difficultyDistribution: { easy: 5, medium: 4, hard: 3 },
};
// Velocity: r_i = 1, 1, 1, 1, 4/5, 5/6, 5/7, 5/8, 6/9, 6/10, 7/11, 8/12; i − mean(i) = i − 6.5;
// Σ(i − 6.5)² = 12·(12² − 1)/12 = 143; slope = Σ(i − 6.5)·r_i / 143, times 10.
const fatigueVelocity =
  ((-5.5 * 1 -
    4.5 * 1 -
    3.5 * 1 -
    2.5 * 1 -
    1.5 * (4 / 5) -
    0.5 * (5 / 6) +
    0.5 * (5 / 7) +
    1.5 * (5 / 8) +
    2.5 * (6 / 9) +
    3.5 * (6 / 10) +
    4.5 * (7 / 11) +
    5.5 * (8 / 12)) /
    143) *
  10;
// Attention span: baseline window 1–5 has 4/5 correct (a_0 = 0.8, threshold 0.56) and mean time 10
// (threshold 15). Window 2–6: 4/5, mean 10.4; window 3–7: 3/5 = 0.6, mean 12.4; window 4–8: 2/5 =
// 0.4 < 0.56, so the span ends at k = 8: 10·5 + 12 + 20 + 25 = 107 s.
// Switches at i = 3, 5, 7, 9, 11, 12. Bands: EASY 5/5 = 1, MEDIUM 3/4 = 0.75, HARD 0/3: only MEDIUM
// lies in [0.6, 0.85].
const fatigueAnalytics = {
  conceptSwitches: 6,
  attentionSpanMinutes: 107 / 60,
  optimalDifficultyRange: ['MEDIUM'],
};

describe('session summary and analytics through the API', () => {
  test('a fatigue session: summary and analytics as worked out by hand, stored once, read back unchanged', async () => {
    const ended = await sessionWith(world.alice, fatigue);
    expect(ended.summary).toEqual(fatigueSummary);
    expect(ended.analytics).toMatchObject(fatigueAnalytics);
    expect(ended.analytics!.attentionSpanMinutes).toBe(107 / 60);
    expect(ended.analytics!.learningVelocity).toBeCloseTo(fatigueVelocity, 12);
    expect(ended.analytics!.learningVelocity).toBeLessThan(0);

    // Later: more practice, another session, and the question bank re-graded (bands changed). What
    // was stored for the session stays as it was.
    await record(world.alice, null, [{ externalId: 'AN-ALG-E', correct: false, timeSec: 5 }]);
    await sessionWith(world.alice, fatigue.slice(0, 3));
    await upsertBank({ 'AN-ALG-E': 'HARD', 'AN-GEO-M': 'EASY' });
    const later = dataOf(await server.request(ReadSession, { id: ended.id }, world.alice.token)).session;
    expect(later).toEqual(ended);
    const again = dataOf(await server.request(EndSession, { id: ended.id }, world.alice.token)).endSession;
    expect(again).toEqual(ended);
    // A coach reads the same stored values.
    expect(dataOf(await server.request(ReadSession, { id: ended.id }, world.coach.token)).session).toEqual(ended);
    await upsertBank();
  });

  test('an all-wrong session: velocity 0, the span is the whole session, the easier of equidistant bands', async () => {
    const ended = await sessionWith(world.bob, [
      { externalId: 'AN-GEO-M', correct: false, timeSec: 4 },
      { externalId: 'AN-GEO-E', correct: false, timeSec: 6 },
      { externalId: 'AN-ALG-E', correct: false, timeSec: 5 },
      { externalId: 'AN-ALG-M', correct: false, timeSec: 7 },
      { externalId: 'AN-ALG-M', correct: false, timeSec: 8 },
    ]);
    expect(ended.summary).toEqual({
      questionsAttempted: 5,
      questionsCorrect: 0,
      accuracy: 0,
      averageTimePerQuestion: 30 / 5,
      topicsCovered: ['Geometry', 'Algebra'],
      difficultyDistribution: { easy: 2, medium: 3, hard: 0 },
    });
    // r_i = 0 throughout: slope 0. n = 5: no window ends after attempt 5, so the span is all 30 s.
    // EASY 0/2 and MEDIUM 0/3 are both 0.6 below the range: the tie goes to EASY.
    expect(ended.analytics).toEqual({
      learningVelocity: 0,
      conceptSwitches: 1,
      attentionSpanMinutes: 0.5,
      optimalDifficultyRange: ['EASY'],
    });
  });

  test('an empty session: zero counts, nulls and an empty range', async () => {
    const ended = await sessionWith(world.bob, []);
    expect(ended.summary).toEqual({
      questionsAttempted: 0,
      questionsCorrect: 0,
      accuracy: null,
      averageTimePerQuestion: null,
      topicsCovered: [],
      difficultyDistribution: { easy: 0, medium: 0, hard: 0 },
    });
    expect(ended.analytics).toEqual({
      learningVelocity: null,
      conceptSwitches: 0,
      attentionSpanMinutes: null,
      optimalDifficultyRange: [],
    });
  });
});

describe('recompute-analytics', () => {
  test('stores what endSession would have for ended sessions that lack it, in chunks; the rest is kept', async () => {
    const carol = await createPerson(server, world.admin.token, 'Carol Imported');
    const ended = [
      await sessionWith(carol, fatigue),
      await sessionWith(carol, fatigue.slice(0, 4)),
      await sessionWith(carol, []),
    ];
    const kept = await sessionWith(carol, fatigue.slice(0, 2));
    const ids = ended.map((s) => rawId(s.id));
    // As if imported from elsewhere: ended, but without summary or analytics (one keeps its summary).
    await server.db.prisma.sessionAnalytics.deleteMany({ where: { sessionId: { in: ids } } });
    await server.db.prisma.sessionSummary.deleteMany({ where: { sessionId: { in: ids.slice(0, 2) } } });
    const keptSummary = await server.db.prisma.sessionSummary.findUniqueOrThrow({
      where: { sessionId: rawId(kept.id) },
    });
    const open = dataOf(await server.request(StartSession, {}, carol.token)).startSession;

    const chunks: number[] = [];
    let total = -1;
    const result = await recomputeMissingSessionAnalytics(server.db, {
      chunkSize: 2,
      onStart: (n) => (total = n),
      onChunk: (p) => chunks.push(p.sessions),
    });
    expect(total).toBe(3);
    expect(result).toEqual({ sessions: 3, summaries: 2, analytics: 3, chunks: 2 });
    expect(chunks).toEqual([2, 3]);
    for (const session of ended) {
      expect(dataOf(await server.request(ReadSession, { id: session.id }, carol.token)).session).toEqual(session);
    }
    expect(await server.db.prisma.sessionSummary.findUniqueOrThrow({ where: { sessionId: rawId(kept.id) } })).toEqual(
      keptSummary,
    );
    expect(await server.db.prisma.sessionSummary.count({ where: { sessionId: rawId(open.id) } })).toBe(0);
    // Nothing left to do.
    expect(await recomputeMissingSessionAnalytics(server.db)).toEqual({
      sessions: 0,
      summaries: 0,
      analytics: 0,
      chunks: 0,
    });
  });

  test('npm run analytics:recompute reports its counts', { timeout: 120_000 }, async () => {
    const carol = await createPerson(server, world.admin.token, 'Carol Command');
    const ended = await sessionWith(carol, fatigue.slice(0, 6));
    await server.db.prisma.sessionAnalytics.delete({ where: { sessionId: rawId(ended.id) } });
    // On PostgreSQL the command works on this test's database; PGlite in memory cannot be shared
    // with another process, so there it runs on an empty data directory.
    const dataDir = await mkdtemp(path.join(tmpdir(), 'learnloop-recompute-'));
    try {
      const env = { ...process.env, DATABASE_URL: server.db.url ?? '', DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
      const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(tsx, ['src/cli.ts', 'recompute-analytics', '--chunk-size', '10'], { cwd: root, env });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        child.once('exit', (code) => resolve({ code, stdout, stderr }));
      });
      expect(run.code, run.stderr).toBe(0);
      if (server.db.url) {
        expect(run.stdout).toMatch(/^recompute-analytics: 1 sessions in 1 chunks: 0 summaries and 1 analytics stored/);
        expect(dataOf(await server.request(ReadSession, { id: ended.id }, carol.token)).session).toEqual(ended);
      } else {
        expect(run.stdout).toMatch(/^recompute-analytics: 0 sessions in 0 chunks: 0 summaries and 0 analytics stored/);
      }
      const bad = await new Promise<number | null>((resolve) => {
        spawn(tsx, ['src/cli.ts', 'recompute-analytics', '--chunk-size', '0'], { cwd: root, env }).once(
          'exit',
          resolve,
        );
      });
      expect(bad).toBe(2);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('User.activity', () => {
  test('one point per day in the learner’s time zone, zero days included, across New York’s DST changes', async () => {
    const nia = await createPerson(server, world.admin.token, 'Nia New York', 'LEARNER', 'America/New_York');
    const at = (answeredAt: string, correct = true): Step => ({
      externalId: 'AN-ALG-M',
      correct,
      timeSec: 30,
      answeredAt,
    });
    await record(nia, null, [
      at('2026-03-08T04:59:00Z'), // 2026-03-07 23:59 EST
      at('2026-03-08T05:00:00Z'), // 2026-03-08 00:00 EST
      at('2026-03-08T06:30:00Z', false), // 01:30 EST
      at('2026-03-08T07:30:00Z'), // 03:30 EDT: the day has 23 hours
      at('2026-03-09T03:59:00Z', false), // 2026-03-08 23:59 EDT
      at('2026-03-09T04:00:00Z'), // 2026-03-09 00:00 EDT
      at('2026-11-01T04:00:00Z'), // 2026-11-01 00:00 EDT
      at('2026-11-01T05:30:00Z'), // 01:30 EDT
      at('2026-11-01T06:30:00Z', false), // 01:30 EST, the second time
      at('2026-11-02T04:59:00Z'), // 2026-11-01 23:59 EST: the day has 25 hours
      at('2026-11-02T05:00:00Z'), // 2026-11-02 00:00 EST
    ]);
    const march = dataOf(
      await server.request(Activity, { id: nia.id, from: '2026-03-06', to: '2026-03-10' }, nia.token),
    ).user!.activity;
    expect(march).toEqual([
      { date: '2026-03-06', sessions: 0, minutes: 0, attempts: 0, accuracy: null },
      { date: '2026-03-07', sessions: 0, minutes: 0, attempts: 1, accuracy: 1 },
      { date: '2026-03-08', sessions: 0, minutes: 0, attempts: 4, accuracy: 2 / 4 },
      { date: '2026-03-09', sessions: 0, minutes: 0, attempts: 1, accuracy: 1 },
      { date: '2026-03-10', sessions: 0, minutes: 0, attempts: 0, accuracy: null },
    ]);
    const november = dataOf(
      await server.request(Activity, { id: nia.id, from: '2026-10-31', to: '2026-11-02' }, nia.token),
    ).user!.activity;
    expect(november.map((p) => [p.date, p.attempts, p.accuracy])).toEqual([
      ['2026-10-31', 0, null],
      ['2026-11-01', 4, 3 / 4],
      ['2026-11-02', 1, 1],
    ]);
  });

  test('sessions and their minutes on the day they started, in a half-hour zone', async () => {
    const kiran = await createPerson(server, world.admin.token, 'Kiran Kolkata', 'LEARNER', 'Asia/Kolkata');
    await record(kiran, null, [
      // 23:59 IST on the 10th, then 00:00 IST on the 11th
      { externalId: 'AN-GEO-E', correct: true, timeSec: 10, answeredAt: '2026-01-10T18:29:00Z' },
      { externalId: 'AN-GEO-E', correct: false, timeSec: 10, answeredAt: '2026-01-10T18:30:00Z' },
    ]);
    const points = dataOf(
      await server.request(Activity, { id: kiran.id, from: '2026-01-10', to: '2026-01-11' }, kiran.token),
    ).user!.activity;
    expect(points).toEqual([
      { date: '2026-01-10', sessions: 0, minutes: 0, attempts: 1, accuracy: 1 },
      { date: '2026-01-11', sessions: 0, minutes: 0, attempts: 1, accuracy: 0 },
    ]);

    // Two sessions today: their durations set as an import would (whole seconds), one still open.
    const first = await sessionWith(kiran, fatigue.slice(0, 3));
    const second = await sessionWith(kiran, []);
    await server.db.prisma.session.update({ where: { id: rawId(first.id) }, data: { durationSec: 600 } });
    await server.db.prisma.session.update({ where: { id: rawId(second.id) }, data: { durationSec: 90 } });
    dataOf(await server.request(StartSession, {}, kiran.token));
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Kolkata' }).format(new Date());
    const yesterday = new Date(Date.parse(`${today}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    const tomorrow = new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    // The range runs a day either side so that a test started just before local midnight still
    // finds everything.
    const recent = dataOf(
      await server.request(Activity, { id: kiran.id, from: yesterday, to: tomorrow }, world.coach.token),
    ).user!.activity;
    expect(recent.map((p) => p.date)).toEqual([yesterday, today, tomorrow]);
    const total = recent.reduce(
      (sum, p) => ({
        sessions: sum.sessions + p.sessions,
        minutes: sum.minutes + p.minutes,
        attempts: sum.attempts + p.attempts,
      }),
      { sessions: 0, minutes: 0, attempts: 0 },
    );
    expect(total).toEqual({ sessions: 3, minutes: 690 / 60, attempts: 3 });
  });

  test('a range runs forward and spans at most 366 days', async () => {
    const ask = (from: string, to: string) =>
      server.request(Activity, { id: world.alice.id, from, to }, world.alice.token);
    expect(dataOf(await ask('2024-01-01', '2024-12-31')).user!.activity).toHaveLength(366);
    expect(dataOf(await ask('2026-05-05', '2026-05-05')).user!.activity).toHaveLength(1);
    for (const [from, to] of [
      ['2026-05-05', '2026-05-04'],
      ['2025-01-01', '2026-01-02'],
    ] as const) {
      const response = await ask(from, to);
      expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors![0]!.message).toMatch(/from|366/);
    }
    // Not a date at all: refused while the variables are read, before any resolver runs.
    const notADate = await ask('2026-02-30', '2026-03-01');
    expect(notADate.errors?.[0]?.message).toMatch(/Date/);
    expect(notADate.data ?? null).toBeNull();
  });
});

describe('who may read the new fields', () => {
  type Caller = 'anonymous' | 'alice' | 'bob' | 'coach' | 'admin';
  const callers: Caller[] = ['anonymous', 'alice', 'bob', 'coach', 'admin'];
  const tokenOf = (caller: Caller) =>
    caller === 'anonymous' ? null : caller === 'admin' ? world.admin.token : world[caller].token;
  const ownData = { anonymous: 'UNAUTHENTICATED', alice: null, bob: 'FORBIDDEN', coach: null, admin: null };
  const staffOnly = { anonymous: 'UNAUTHENTICATED', alice: 'FORBIDDEN', bob: 'FORBIDDEN', coach: null, admin: null };
  let aliceSession: string;

  beforeAll(async () => {
    aliceSession = (await sessionWith(world.alice, fatigue.slice(0, 5))).id;
  });

  const cases: {
    name: string;
    query: () => { query: string; variables: Record<string, unknown> };
    expect: Record<Caller, string | null>;
  }[] = [
    {
      name: "Alice's learningPatterns",
      query: () => ({
        query: 'query($id: ID!) { user(id: $id) { learningPatterns(days: 30) { windowDays bestHourOfDay } } }',
        variables: { id: world.alice.id },
      }),
      expect: ownData,
    },
    {
      name: "Alice's activity",
      query: () => ({
        query: 'query($id: ID!) { user(id: $id) { activity(from: "2026-01-01", to: "2026-01-31") { date attempts } } }',
        variables: { id: world.alice.id },
      }),
      expect: ownData,
    },
    {
      name: "Alice's session summary and analytics",
      query: () => ({
        query: 'query($id: ID!) { session(id: $id) { summary { accuracy } analytics { conceptSwitches } } }',
        variables: { id: aliceSession },
      }),
      expect: ownData,
    },
    {
      name: 'cohortOverview',
      query: () => ({
        query:
          '{ cohortOverview(from: "2026-01-01", to: "2026-01-31") ' +
          '{ from subcategories { subcategory } atRisk { reason user { id } } } }',
        variables: {},
      }),
      expect: staffOnly,
    },
  ];

  for (const c of cases) {
    test.each(callers)(`${c.name}: %s`, async (caller) => {
      const { query, variables } = c.query();
      const response = await server.request(query, variables, tokenOf(caller));
      const expected = c.expect[caller];
      if (expected === null) {
        expect(response.errors).toBeUndefined();
        expect(response.data).toBeTruthy();
      } else {
        // One error per refused field (a refused session's summary and analytics each say so), all alike.
        expect(codesOf(response).length).toBeGreaterThan(0);
        expect(new Set(codesOf(response))).toEqual(new Set([expected]));
        expect(JSON.stringify(response.data ?? null)).not.toMatch(
          /bestHourOfDay|accuracy|attempts|conceptSwitches|subcategory/,
        );
      }
    });
  }

  test('a learner reads their own through me', async () => {
    const response = await server.request(
      '{ me { learningPatterns { windowDays } activity(from: "2026-01-01", to: "2026-01-02") { date } } }',
      {},
      world.bob.token,
    );
    expect(dataOf(response)).toEqual({
      me: { learningPatterns: { windowDays: 7 }, activity: [{ date: '2026-01-01' }, { date: '2026-01-02' }] },
    });
  });
});
