// User.learningPatterns (SPEC 4.3) through the API and the service the nightly job calls: hours and
// days in the learner's time zone (a half-hour zone, and a day across a DST change), the session
// duration buckets, the window, and nulls instead of invented values.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { learningPatternsFor, learningPatternsForUsers } from '../../src/services/learning-patterns.ts';
import { graphql } from '../gql/index.ts';
import { createPerson, createWorld, type Person, rawId, type World } from '../support/fixtures.ts';
import { codesOf, dataOf, startTestServer, type TestServer } from '../support/server.ts';

const RecordAttempt = graphql(`
  mutation PatternsRecordAttempt($input: RecordAttemptInput!) {
    recordAttempt(input: $input) { id correct }
  }
`);

const StartSession = graphql(`
  mutation PatternsStartSession { startSession { id } }
`);

const EndSession = graphql(`
  mutation PatternsEndSession($id: ID!) { endSession(id: $id) { id summary { accuracy } } }
`);

const Patterns = graphql(`
  query Patterns($id: ID!, $days: Int) {
    user(id: $id) {
      learningPatterns(days: $days) {
        windowDays optimalSessionDurationMinutes bestHourOfDay
        difficultyProgression { date meanDifficulty accuracy attempts }
        conceptRetention { subcategory firstDate lastDate ratio }
      }
    }
  }
`);

let server: TestServer;
let world: World;
/** SQL statements sent while `counting` is on. */
const statements: string[] = [];
let counting = false;
/** externalId → question */
let question: (externalId: string) => { id: string; answer: string };

beforeAll(async () => {
  server = await startTestServer({ onQuery: (sql) => counting && statements.push(sql) });
  world = await createWorld(server);
  question = (externalId) => {
    const q = world.questions.find((x) => x.externalId === externalId)!;
    return { id: q.id, answer: q.answer };
  };
  // Difficulties as the nightly job would have left them.
  const difficulty: Record<string, number> = { 'ALG-1': 0.2, 'ALG-2': 0.5, 'ALG-3': 0.8, 'GEO-1': 0.4 };
  for (const [externalId, value] of Object.entries(difficulty)) {
    await server.db.prisma.question.update({
      where: { id: rawId(question(externalId).id) },
      data: { difficulty: value },
    });
  }
});
afterAll(async () => server?.stop());

let keyCounter = 0;

/** Practice attempts answered at the given instants. */
async function practise(
  person: Person,
  externalId: string,
  answers: { at: Date | string; correct: boolean }[],
): Promise<void> {
  const q = question(externalId);
  for (const { at, correct } of answers) {
    const answeredAt = typeof at === 'string' ? at : at.toISOString();
    const { recordAttempt } = dataOf(
      await server.request(
        RecordAttempt,
        {
          input: {
            context: 'PRACTICE',
            questionId: q.id,
            userAnswer: correct ? q.answer : 'wrong',
            timeSec: 20,
            answeredAt,
            clientAttemptId: `lp-${keyCounter++}`,
          },
        },
        person.token,
      ),
    );
    expect(recordAttempt.correct).toBe(correct);
  }
}

/** n answers a minute apart from `start`, the first `correct` of them right. */
function run(start: string, n: number, correct: number): { at: Date; correct: boolean }[] {
  return Array.from({ length: n }, (_, i) => ({ at: new Date(Date.parse(start) + i * 60_000), correct: i < correct }));
}

const dayMs = 86_400_000;
const utcDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe('learningPatterns in a half-hour time zone (Asia/Kolkata, UTC+5:30)', () => {
  let kiran: Person;
  // Two days ago and yesterday in UTC: inside the default 7-day window whatever the time of day.
  const base = utcDate(Date.now() - 2 * dayMs);
  const next = utcDate(Date.parse(`${base}T00:00:00Z`) + dayMs);

  beforeAll(async () => {
    kiran = await createPerson(server, world.admin.token, 'Kiran Kolkata', 'LEARNER', 'Asia/Kolkata');
    // `base` in IST: 09:15–09:19 (5 of 5), 15:30–15:39 (8 of 10), 16:00–16:09 (9 of 10) — the last two
    // are the same UTC hour (10) — and 23:59 (0 of 2, Geometry).
    await practise(kiran, 'ALG-1', run(`${base}T03:45:00Z`, 5, 5));
    await practise(kiran, 'ALG-2', run(`${base}T10:00:00Z`, 10, 8));
    await practise(kiran, 'ALG-3', run(`${base}T10:30:00Z`, 10, 9));
    await practise(kiran, 'GEO-1', [
      { at: `${base}T18:29:00Z`, correct: false },
      { at: `${base}T18:29:30Z`, correct: false },
    ]);
    // `next` in IST: 00:01 (which is still `base` in UTC), and 11:30–11:33 (3 of 4).
    await practise(kiran, 'GEO-1', [{ at: `${base}T18:31:00Z`, correct: true }]);
    await practise(kiran, 'ALG-1', run(`${next}T06:00:00Z`, 4, 3));
  });

  test('hours and days are the learner’s; values as worked out by hand', async () => {
    const patterns = dataOf(await server.request(Patterns, { id: kiran.id }, kiran.token)).user!.learningPatterns;
    // Hours with ≥ 10 attempts: 15 (8/10) and 16 (9/10). In UTC both would be hour 10.
    expect(patterns.bestHourOfDay).toBe(16);
    expect(patterns.windowDays).toBe(7);
    // No ended session: no duration, rather than a made-up one.
    expect(patterns.optimalSessionDurationMinutes).toBeNull();
    // base: 5 + 10 + 10 + 2 = 27 attempts, 5 + 8 + 9 + 0 = 22 correct,
    // difficulty (5·0.2 + 10·0.5 + 10·0.8 + 2·0.4) / 27;
    // next: 1 + 4 = 5 attempts, 1 + 3 = 4 correct, difficulty (0.4 + 4·0.2) / 5.
    expect(patterns.difficultyProgression).toEqual([
      { date: base, meanDifficulty: expect.closeTo(14.8 / 27, 12), accuracy: 22 / 27, attempts: 27 },
      { date: next, meanDifficulty: expect.closeTo(1.2 / 5, 12), accuracy: 4 / 5, attempts: 5 },
    ]);
    // Algebra: 22/25 on base, 3/4 on next → (3/4) / (22/25) = 75/88. Geometry: 0/2 then 1/1 → null.
    expect(patterns.conceptRetention).toEqual([
      { subcategory: 'Algebra', firstDate: base, lastDate: next, ratio: 75 / 88 },
      { subcategory: 'Geometry', firstDate: base, lastDate: next, ratio: null },
    ]);
    // The same numbers for a coach, and from the service the nightly job calls.
    expect(dataOf(await server.request(Patterns, { id: kiran.id }, world.coach.token)).user!.learningPatterns).toEqual(
      patterns,
    );
    expect(await learningPatternsFor(server.db.prisma, kiran.userId, 7)).toEqual(patterns);
  });

  test('a bounded number of statements, whatever the window holds', async () => {
    const count = async (days: number) => {
      statements.length = 0;
      counting = true;
      dataOf(await server.request(Patterns, { id: kiran.id, days }, world.coach.token));
      counting = false;
      return statements.length;
    };
    // The user row, then two aggregates (attempts by hour / day / subcategory-day, and sessions).
    const quiet = await count(1);
    expect(quiet).toBeLessThanOrEqual(3);
    expect(await count(90)).toBe(quiet);
    expect(statements.filter((sql) => /GROUPING SETS/.test(sql))).toHaveLength(1);
  });

  test('a one-day window holds only today: everything null or empty', async () => {
    const patterns = dataOf(await server.request(Patterns, { id: kiran.id, days: 1 }, kiran.token)).user!
      .learningPatterns;
    expect(patterns).toEqual({
      windowDays: 1,
      optimalSessionDurationMinutes: null,
      bestHourOfDay: null,
      difficultyProgression: [],
      conceptRetention: [],
    });
  });

  test('days is 1..90, else BAD_USER_INPUT', async () => {
    for (const days of [0, -1, 91, 1000]) {
      const response = await server.request(Patterns, { id: kiran.id, days }, kiran.token);
      expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors![0]!.message).toMatch(/1 to 90/);
    }
    expect(
      dataOf(await server.request(Patterns, { id: kiran.id, days: 90 }, kiran.token)).user!.learningPatterns
        .bestHourOfDay,
    ).toBe(16);
    expect(
      dataOf(await server.request(Patterns, { id: kiran.id, days: null }, kiran.token)).user!.learningPatterns
        .windowDays,
    ).toBe(7);
  });
});

describe('learningPatterns across a DST change (America/New_York, 2026-03-08: 02:00 EST → 03:00 EDT)', () => {
  let nia: Person;

  beforeAll(async () => {
    nia = await createPerson(server, world.admin.token, 'Nia New York', 'LEARNER', 'America/New_York');
    await practise(nia, 'ALG-2', [
      { at: '2026-03-08T04:59:00Z', correct: true }, // 2026-03-07 23:59 EST: before the window
      { at: '2026-03-08T05:00:00Z', correct: true }, // 2026-03-08 00:00 EST: the window's first instant
    ]);
    await practise(nia, 'ALG-2', run('2026-03-08T06:30:00Z', 10, 7)); // 01:30 EST
    await practise(nia, 'ALG-2', run('2026-03-08T07:30:00Z', 10, 8)); // 03:30 EDT (an hour later, one hour gone)
    await practise(nia, 'ALG-2', [
      { at: '2026-03-09T03:30:00Z', correct: true }, // 2026-03-08 23:30 EDT
      { at: '2026-03-09T04:30:00Z', correct: true }, // 2026-03-09 00:30 EDT
      { at: '2026-03-10T13:00:00Z', correct: false }, // after `now` below
    ]);
  });

  test('the 23-hour day keeps its attempts, its hours are local, and the window starts at local midnight', async () => {
    // Tuesday 2026-03-10 08:00 EDT; three days back to Sunday 2026-03-08 00:00 EST.
    const now = new Date('2026-03-10T12:00:00Z');
    const patterns = await learningPatternsFor(server.db.prisma, nia.userId, 3, now);
    // Hours ≥ 10 attempts: 1 (7/10) and 3 (8/10). With a fixed −5 offset 07:30Z would be hour 2.
    expect(patterns?.bestHourOfDay).toBe(3);
    // 2026-03-08: 1 + 10 + 10 + 1 = 22 attempts, 1 + 7 + 8 + 1 = 17 correct; 2026-03-09: 1 of 1.
    expect(patterns?.difficultyProgression).toEqual([
      { date: '2026-03-08', meanDifficulty: 0.5, accuracy: 17 / 22, attempts: 22 },
      { date: '2026-03-09', meanDifficulty: 0.5, accuracy: 1, attempts: 1 },
    ]);
    expect(patterns?.conceptRetention).toEqual([
      { subcategory: 'Algebra', firstDate: '2026-03-08', lastDate: '2026-03-09', ratio: 22 / 17 },
    ]);

    // A one-day window on Monday starts at 00:00 EDT (04:00Z) and holds the 00:30 attempt only.
    const monday = await learningPatternsFor(server.db.prisma, nia.userId, 1, new Date('2026-03-09T12:00:00Z'));
    expect(monday?.difficultyProgression).toEqual([
      { date: '2026-03-09', meanDifficulty: 0.5, accuracy: 1, attempts: 1 },
    ]);
    expect(monday?.bestHourOfDay).toBeNull();
  });

  test('the set-based variant gives each learner what the single one does; unknown ids are left out', async () => {
    const now = new Date('2026-03-10T12:00:00Z');
    const unknown = '00000000-0000-4000-8000-000000000000';
    const all = await learningPatternsForUsers(server.db.prisma, [nia.userId, world.bob.userId, unknown], 3, now);
    expect([...all.keys()].sort()).toEqual([nia.userId, world.bob.userId].sort());
    expect(all.get(nia.userId)).toEqual(await learningPatternsFor(server.db.prisma, nia.userId, 3, now));
    expect(all.get(world.bob.userId)).toEqual({
      windowDays: 3,
      optimalSessionDurationMinutes: null,
      bestHourOfDay: null,
      difficultyProgression: [],
      conceptRetention: [],
    });
    expect(await learningPatternsFor(server.db.prisma, unknown, 3, now)).toBeNull();
    await expect(learningPatternsForUsers(server.db.prisma, [nia.userId], 91, now)).rejects.toThrow(RangeError);
  });
});

describe('optimalSessionDurationMinutes', () => {
  test('the 15-minute bucket with the best mean accuracy among buckets of ≥ 2 ended sessions: its mean', async () => {
    const sam = await createPerson(server, world.admin.token, 'Sam Sessions');
    // [correct answers…], duration in seconds (set afterwards, as an import would have them).
    const sessions: [boolean[], number | null][] = [
      [[true, true], 600], // 10 min, bucket 0, accuracy 1
      [[true, false], 720], // 12 min, bucket 0, accuracy 0.5 → bucket 0: 0.75
      [[true, true], 1200], // 20 min, bucket 15, accuracy 1
      [[true, true, true, false], 1500], // 25 min, bucket 15, accuracy 0.75 → bucket 15: 0.875, mean 22.5 min
      [[true], 3000], // 50 min, accuracy 1, but alone in bucket 45
      [[], 1000], // no attempts: no accuracy, counts nowhere
      [[true, true], null], // still open: not counted
    ];
    const q = question('GEO-2');
    for (const [answers, durationSec] of sessions) {
      const { startSession } = dataOf(await server.request(StartSession, {}, sam.token));
      for (const correct of answers) {
        dataOf(
          await server.request(
            RecordAttempt,
            {
              input: {
                sessionId: startSession.id,
                questionId: q.id,
                userAnswer: correct ? q.answer : 'no',
                timeSec: 30,
                clientAttemptId: `lp-${keyCounter++}`,
              },
            },
            sam.token,
          ),
        );
      }
      if (durationSec === null) continue;
      dataOf(await server.request(EndSession, { id: startSession.id }, sam.token));
      await server.db.prisma.session.update({ where: { id: rawId(startSession.id) }, data: { durationSec } });
    }
    const patterns = dataOf(await server.request(Patterns, { id: sam.id }, sam.token)).user!.learningPatterns;
    expect(patterns.optimalSessionDurationMinutes).toBe(22.5);
    // Every attempt counts in the day buckets, the open session's included: 2 + 2 + 2 + 4 + 1 + 2.
    expect(patterns.difficultyProgression.reduce((n, p) => n + p.attempts, 0)).toBe(13);
  });
});

describe('the difficulty attempted is the difficulty the question had when the attempt was recorded', () => {
  const ImportAttempts = graphql(`
    mutation PatternsImportAttempts($input: [ImportAttemptInput!]!) {
      importAttempts(input: $input) { imported }
    }
  `);
  const setDifficulty = (externalId: string, difficulty: number) =>
    server.db.prisma.question.update({ where: { id: rawId(question(externalId).id) }, data: { difficulty } });

  test('a later rescoring leaves the day as attempted; an imported attempt reads the current difficulty', async () => {
    const ada = await createPerson(server, world.admin.token, 'Ada Attempted', 'LEARNER', 'UTC');
    const yesterday = utcDate(Date.now() - dayMs);
    await practise(ada, 'ALG-1', run(`${yesterday}T09:00:00Z`, 2, 2)); // ALG-1 at 0.2
    const before = dataOf(await server.request(Patterns, { id: ada.id }, ada.token)).user!.learningPatterns;
    expect(before.difficultyProgression).toEqual([{ date: yesterday, meanDifficulty: 0.2, accuracy: 1, attempts: 2 }]);
    // A NIGHTLY rescoring of ALG-1 does not move what was attempted.
    await setDifficulty('ALG-1', 0.9);
    expect(dataOf(await server.request(Patterns, { id: ada.id }, ada.token)).user!.learningPatterns).toEqual(before);

    // An imported attempt carries no difficulty of its own: its question's current one (ALG-3 at 0.8, then 0.6).
    const q = question('ALG-3');
    const { importAttempts } = dataOf(
      await server.request(
        ImportAttempts,
        {
          input: [
            {
              userId: ada.id,
              questionId: q.id,
              userAnswer: q.answer,
              timeSec: 20,
              answeredAt: `${yesterday}T10:00:00Z`,
              idempotencyKey: 'lp-imported-1',
            },
          ],
        },
        world.admin.token,
      ),
    );
    expect(importAttempts.imported).toBe(1);
    const imported = async () =>
      dataOf(await server.request(Patterns, { id: ada.id }, ada.token)).user!.learningPatterns.difficultyProgression;
    expect(await imported()).toEqual([
      { date: yesterday, meanDifficulty: expect.closeTo((0.2 + 0.2 + 0.8) / 3, 12), accuracy: 1, attempts: 3 },
    ]);
    await setDifficulty('ALG-3', 0.6);
    expect(await imported()).toEqual([
      { date: yesterday, meanDifficulty: expect.closeTo((0.2 + 0.2 + 0.6) / 3, 12), accuracy: 1, attempts: 3 },
    ]);
    await setDifficulty('ALG-1', 0.2);
    await setDifficulty('ALG-3', 0.8);
  });
});
