// Who may do what: every query, field and mutation against every kind of caller.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, test } from 'vitest';
import { graphql } from '../gql/index.ts';
import { sampleQuestions } from '../support/fixtures.ts';
import { useTestServer } from '../support/hooks.ts';
import { codesOf, dataOf, testKey } from '../support/server.ts';

let aliceSession: string;
let aliceOpenSession: string;

const StartSession = graphql(`mutation AuthStartSession { startSession { id } }`);

const { server, world } = useTestServer();
beforeAll(async () => {
  aliceSession = dataOf(await server.request(StartSession, {}, world.alice.token)).startSession.id;
  aliceOpenSession = dataOf(await server.request(StartSession, {}, world.alice.token)).startSession.id;
});

type Caller = 'anonymous' | 'alice' | 'bob' | 'coach' | 'admin';
const callers: Caller[] = ['anonymous', 'alice', 'bob', 'coach', 'admin'];

function tokenOf(caller: Caller): string | null {
  if (caller === 'anonymous') return null;
  if (caller === 'admin') return world.admin.token;
  return world[caller].token;
}

/** null: allowed; otherwise the error code expected. */
type Expectation = Record<Caller, string | null>;

interface Case {
  name: string;
  operation: () => { query: string; variables?: Record<string, unknown> };
  expect: Expectation;
}

const ownData: Expectation = { anonymous: 'UNAUTHENTICATED', alice: null, bob: 'FORBIDDEN', coach: null, admin: null };
const anyoneSignedIn: Expectation = { anonymous: 'UNAUTHENTICATED', alice: null, bob: null, coach: null, admin: null };
const staffOnly: Expectation = {
  anonymous: 'UNAUTHENTICATED',
  alice: 'FORBIDDEN',
  bob: 'FORBIDDEN',
  coach: null,
  admin: null,
};
const adminOnly: Expectation = {
  anonymous: 'UNAUTHENTICATED',
  alice: 'FORBIDDEN',
  bob: 'FORBIDDEN',
  coach: 'FORBIDDEN',
  admin: null,
};
const ownerWrites: Expectation = {
  anonymous: 'UNAUTHENTICATED',
  alice: null,
  bob: 'FORBIDDEN',
  coach: 'FORBIDDEN',
  admin: null,
};

let counter = 0;
const cases: Case[] = [
  { name: 'me', operation: () => ({ query: '{ me { id } }' }), expect: anyoneSignedIn },
  {
    name: 'user(id)',
    operation: () => ({
      query: 'query($id: ID!) { user(id: $id) { id name email } }',
      variables: { id: world.alice.id },
    }),
    expect: ownData,
  },
  {
    name: 'User.masteries, masteryHistory, sessions',
    operation: () => ({
      query:
        'query($id: ID!) { user(id: $id) { masteries { score } masteryHistory(subcategory: "Algebra") { score } ' +
        'sessions(first: 5) { edges { node { id } } } } }',
      variables: { id: world.alice.id },
    }),
    expect: ownData,
  },
  { name: 'users', operation: () => ({ query: '{ users(first: 5) { edges { node { id } } } }' }), expect: staffOnly },
  {
    name: 'session(id)',
    operation: () => ({
      query: 'query($id: ID!) { session(id: $id) { id attempts { id } summary { accuracy } } }',
      variables: { id: aliceSession },
    }),
    expect: ownData,
  },
  {
    name: 'question(id)',
    operation: () => ({
      query: 'query($id: ID!) { question(id: $id) { id difficulty } }',
      variables: { id: world.questions[0]!.id },
    }),
    expect: anyoneSignedIn,
  },
  {
    name: 'questions',
    operation: () => ({ query: '{ questions(first: 3) { edges { node { id } } } }' }),
    expect: anyoneSignedIn,
  },
  {
    name: 'Question.answer',
    operation: () => ({
      query: 'query($id: ID!) { question(id: $id) { answer } }',
      variables: { id: world.questions[0]!.id },
    }),
    expect: adminOnly,
  },
  {
    name: 'createUser',
    operation: () => ({
      query: 'mutation($input: CreateUserInput!) { createUser(input: $input) { id } }',
      variables: { input: { name: 'N', email: `n${counter++}@example.com` } },
    }),
    expect: adminOnly,
  },
  {
    name: 'upsertQuestions',
    operation: () => ({
      query: 'mutation($input: [QuestionInput!]!) { upsertQuestions(input: $input) { id } }',
      variables: { input: [{ ...sampleQuestions[0], options: null }] },
    }),
    expect: adminOnly,
  },
  {
    name: 'recordAttempt into alice’s session',
    operation: () => ({
      query: 'mutation($input: RecordAttemptInput!) { recordAttempt(input: $input) { id } }',
      variables: {
        input: {
          sessionId: aliceOpenSession,
          questionId: world.questions[0]!.id,
          userAnswer: 'x',
          timeSec: 3,
          clientAttemptId: randomUUID(),
        },
      },
    }),
    expect: { anonymous: 'UNAUTHENTICATED', alice: null, bob: 'FORBIDDEN', coach: 'FORBIDDEN', admin: 'FORBIDDEN' },
  },
  {
    name: 'endSession of alice’s session',
    operation: () => ({ query: 'mutation($id: ID!) { endSession(id: $id) { id } }', variables: { id: aliceSession } }),
    expect: ownerWrites,
  },
];

describe.each(cases)('$name', (c) => {
  test.each(callers)('%s', async (caller) => {
    const { query, variables } = c.operation();
    const response = await server.request(query, variables, tokenOf(caller));
    const expected = c.expect[caller];
    if (expected === null) {
      expect(response.errors, JSON.stringify(response.errors)).toBeUndefined();
    } else {
      expect(codesOf(response)[0]).toBe(expected);
      expect(response.errors?.[0]?.message.length).toBeGreaterThan(10);
    }
  });
});

test('a learner reads only their own attempts through a shared question', async () => {
  const response = await server.request(
    'query($id: ID!) { session(id: $id) { user { email } } }',
    { id: aliceSession },
    world.bob.token,
  );
  expect(codesOf(response)).toEqual(['FORBIDDEN']);
  expect((response.data as { session?: unknown } | null | undefined)?.session ?? null).toBeNull();
});

describe('tokens', () => {
  const sign = (claims: Record<string, unknown>, exp: number | string = '1h', key: Uint8Array = testKey) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(exp).sign(key);

  test('an expired token is UNAUTHENTICATED and says so', async () => {
    const token = await sign({ sub: world.alice.userId, role: 'LEARNER' }, Math.floor(Date.now() / 1000) - 60);
    const response = await server.request('{ me { id } }', {}, token);
    expect(codesOf(response)).toEqual(['UNAUTHENTICATED']);
    expect(response.errors?.[0]?.message).toMatch(/expired/);
  });

  test('a token that worked stops working when it expires (a verified token is remembered until then)', async () => {
    const expiresAt = Math.floor(Date.now() / 1000) + 2;
    const token = await sign({ sub: world.alice.userId, role: 'LEARNER' }, expiresAt);
    expect((await server.request('{ me { id } }', {}, token)).errors).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, expiresAt * 1000 - Date.now() + 50));
    expect(codesOf(await server.request('{ me { id } }', {}, token))).toEqual(['UNAUTHENTICATED']);
  });

  test('a token signed with another secret is UNAUTHENTICATED', async () => {
    const token = await sign(
      { sub: world.alice.userId, role: 'LEARNER' },
      '1h',
      new TextEncoder().encode('another secret entirely, 32 bytes'),
    );
    expect(codesOf(await server.request('{ me { id } }', {}, token))).toEqual(['UNAUTHENTICATED']);
  });

  test('a learner token for a user that does not exist is UNAUTHENTICATED', async () => {
    const token = await server.tokenFor(randomUUID(), 'LEARNER');
    expect(codesOf(await server.request('{ me { id } }', {}, token))).toEqual(['UNAUTHENTICATED']);
  });

  test('a token without a known role is UNAUTHENTICATED', async () => {
    const token = await sign({ sub: world.alice.userId, role: 'SUPERUSER' });
    expect(codesOf(await server.request('{ me { id } }', {}, token))).toEqual(['UNAUTHENTICATED']);
  });

  test('an admin token need not match a stored user', async () => {
    const response = await server.request('{ me { id } }', {}, world.admin.token);
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ me: null });
  });
});
