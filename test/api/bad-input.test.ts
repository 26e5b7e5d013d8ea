// Bad input is refused at the boundary with a code and writes nothing (docs/security.md).
import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { Prisma } from '../../src/generated/prisma/client.ts';
import { ceilToMillisecond } from '../../src/services/sessions.ts';
import { useTestServer } from '../support/hooks.ts';
import { codesOf, dataOf } from '../support/server.ts';

const { server, world } = useTestServer();

async function rowCounts(): Promise<Record<string, number>> {
  const [users, questions, sessions, attempts] = await Promise.all([
    server.db.prisma.user.count(),
    server.db.prisma.question.count(),
    server.db.prisma.session.count(),
    server.db.prisma.attempt.count(),
  ]);
  return { users, questions, sessions, attempts };
}

/** Sends a request that must be refused with `code`, and checks that it wrote nothing. */
async function refused(query: string, variables: Record<string, unknown>, code = 'BAD_USER_INPUT', token?: string) {
  const before = await rowCounts();
  const response = await server.request(query, variables, token ?? world.admin.token);
  expect(response.status).toBeLessThan(500);
  expect(codesOf(response), JSON.stringify(response.errors)).toEqual([code]);
  expect(await rowCounts()).toEqual(before);
  return response;
}

const nul = 'a\u0000b';
const loneHigh = 'x\uD800y';
const loneLow = '\uDC00';

describe('NUL characters and lone surrogates', () => {
  test.each([
    ['a NUL in a name', nul],
    ['a lone high surrogate in a name', loneHigh],
    ['a lone low surrogate in a name', loneLow],
  ])('%s is BAD_USER_INPUT', async (_name, name) => {
    const response = await refused('mutation($input: CreateUserInput!) { createUser(input: $input) { id } }', {
      input: { name, email: `${randomUUID()}@example.com` },
    });
    expect(response.errors?.[0]?.message).toMatch(/\$variables\.input\.name/);
  });

  test('a lone surrogate in upsertQuestions.externalId writes no question', async () => {
    await refused('mutation($input: [QuestionInput!]!) { upsertQuestions(input: $input) { id } }', {
      input: [{ externalId: `Q-${loneHigh}`, category: 'C', subcategory: 'S', difficultyBand: 'EASY', answer: 'a' }],
    });
  });

  test('in JSON: a value or a key of recordAttempt.options', async () => {
    for (const options of [[nul], { [loneLow]: 1 }, { nested: [{ deep: loneHigh }] }]) {
      await refused(
        'mutation($input: RecordAttemptInput!) { recordAttempt(input: $input) { id } }',
        {
          input: {
            questionId: world.questions[0]!.id,
            userAnswer: 'x',
            timeSec: 1,
            context: 'PRACTICE',
            options,
            clientAttemptId: randomUUID(),
          },
        },
        'BAD_USER_INPUT',
        world.alice.token,
      );
    }
  });

  test('in a literal of the document, and in a subcategory argument', async () => {
    await refused(
      `mutation { startSession(input: { units: ["A\\u0000"] }) { id } }`,
      {},
      'BAD_USER_INPUT',
      world.alice.token,
    );
    await refused('query($s: String) { questions(subcategory: $s) { edges { node { id } } } }', { s: nul });
  });

  test('paired surrogates (an emoji) are text like any other', async () => {
    const { createUser } = dataOf<{ createUser: { name: string } }>(
      await server.request(
        'mutation($input: CreateUserInput!) { createUser(input: $input) { name } }',
        { input: { name: 'Emoji 🎓', email: `${randomUUID()}@example.com` } },
        world.admin.token,
      ),
    );
    expect(createUser).toEqual({ name: 'Emoji 🎓' });
  });
});

describe('dates are bounded to the years 1900–2999', () => {
  test.each(['0000-01-01', '1899-12-31', '3000-01-01'])('runJob date %s', async (date) => {
    await refused('mutation($date: Date) { runJob(job: NIGHTLY, date: $date) { id } }', { date });
  });

  test('masteryHistory from/to and a DateTime, as variables and literals', async () => {
    await refused(
      'query($id: ID!, $from: Date) { user(id: $id) { masteryHistory(subcategory: "A", from: $from) { score } } }',
      { id: world.alice.id, from: '0000-01-01' },
    );
    await refused('mutation { runJob(job: NIGHTLY, at: "0001-01-01T00:00:00Z") { id } }', {});
  });
});

describe('every error has a code', () => {
  test.each([
    ['an invalid cursor', '{ users(first: 2, after: "not-a-cursor") { edges { node { id } } } }'],
    ['first: -1', '{ users(first: -1) { edges { node { id } } } }'],
    ['before with first', '{ users(first: 2, before: "YXJyYXljb25uZWN0aW9uOjA=") { edges { node { id } } } }'],
  ])('%s', async (_name, query) => {
    await refused(query, {});
  });

  test('an id of the wrong type', async () => {
    await refused('query($id: ID!) { user(id: $id) { id } }', { id: world.questions[0]!.id });
  });
});

describe('recordAttempt idempotency', () => {
  test('a retry with other options is a CONFLICT; with the same (keys in any order) the first attempt', async () => {
    const input = {
      questionId: world.questions[0]!.id,
      userAnswer: 'x = 2',
      timeSec: 4,
      context: 'PRACTICE',
      options: { shown: ['x = 1', 'x = 2'], seed: 7 },
      clientAttemptId: randomUUID(),
    };
    const record = 'mutation($input: RecordAttemptInput!) { recordAttempt(input: $input) { id } }';
    const first = dataOf(await server.request(record, { input }, world.alice.token)) as {
      recordAttempt: { id: string };
    };
    const again = await server.request(
      record,
      { input: { ...input, options: { seed: 7, shown: ['x = 1', 'x = 2'] } } },
      world.alice.token,
    );
    expect(dataOf(again)).toEqual(first);
    await refused(
      record,
      { input: { ...input, options: { shown: ['x = 3'], seed: 7 } } },
      'CONFLICT',
      world.alice.token,
    );
  });
});

describe("endSession's endedAt", () => {
  test('is rounded up to the millisecond, never before an attempt recorded with microseconds', async () => {
    const [row] = await server.db.prisma.$queryRaw<{ ceiled: Date; exact: boolean }[]>`
      SELECT ${ceilToMillisecond(Prisma.sql`'2026-03-01 10:00:00.123201+00'::timestamptz`)} AS ceiled,
             ${ceilToMillisecond(Prisma.sql`'2026-03-01 10:00:00.123000+00'::timestamptz`)}
               = '2026-03-01 10:00:00.123+00'::timestamptz AS exact`;
    expect(row).toEqual({ ceiled: new Date('2026-03-01T10:00:00.124Z'), exact: true });
  });

  test('of sessions ended while their attempts are being recorded is never before an attempt', async () => {
    const record = 'mutation($input: RecordAttemptInput!) { recordAttempt(input: $input) { id } }';
    for (let i = 0; i < 10; i++) {
      const { startSession } = dataOf(
        await server.request('mutation { startSession { id } }', {}, world.alice.token),
      ) as { startSession: { id: string } };
      await Promise.all([
        server.request(
          record,
          {
            input: {
              sessionId: startSession.id,
              questionId: world.questions[0]!.id,
              userAnswer: 'x',
              timeSec: 1,
              clientAttemptId: randomUUID(),
            },
          },
          world.alice.token,
        ),
        server.request('mutation($id: ID!) { endSession(id: $id) { id } }', { id: startSession.id }, world.alice.token),
      ]);
    }
    const [late] = await server.db.prisma.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM attempts a JOIN sessions s ON s.id = a.session_id
      WHERE a.recorded_at > s.ended_at`;
    expect(late!.n).toBe(0);
  });
});
