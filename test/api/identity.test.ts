// The identity contract (docs/security.md): what a token's sub may be, what its times must be, and
// how long a token outlives its user or its own expiry.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { userGlobalId } from '../../src/ids.ts';
import { graphql } from '../gql/index.ts';
import { sseSubscribe, waitFor, wsClients, wsSubscribe } from '../realtime/clients.ts';
import { RealtimePlanAdjusted } from '../realtime/documents.ts';
import { CreateUserDocument, createWorld, type World } from '../support/fixtures.ts';
import { codesOf, dataOf, startTestServer, type TestServer, testKey } from '../support/server.ts';

let server: TestServer;
let world: World;
const clients = wsClients();

beforeAll(async () => {
  server = await startTestServer();
  world = await createWorld(server);
});
afterAll(async () => {
  await clients.disposeAll();
  await server?.stop();
});

const now = () => Math.floor(Date.now() / 1000);

function sign(claims: Record<string, unknown>, times: { exp?: number; iat?: number; nbf?: number } = {}) {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' });
  const { exp = now() + 3600, iat, nbf } = times;
  if (exp !== 0) jwt.setExpirationTime(exp);
  if (iat !== undefined) jwt.setIssuedAt(iat);
  if (nbf !== undefined) jwt.setNotBefore(nbf);
  return jwt.sign(testKey);
}

const Me = graphql(`query IdentityMe { me { id externalId } }`);

const UpsertUsers = graphql(`
  mutation IdentityUpsertUsers($input: [UserInput!]!) {
    upsertUsers(input: $input) {
      index outcome
      user { id email name externalId timezone }
      error { code message }
    }
  }
`);

const email = (name: string) => `${name}.${randomUUID().slice(0, 8)}@example.com`;

describe("a learner token's subject", () => {
  test('is the id the API gives out, and that token reads its own data', async () => {
    const token = await sign({ sub: world.alice.id, role: 'LEARNER' });
    expect(dataOf(await server.request(Me, {}, token)).me?.id).toBe(world.alice.id);
    const own = await server.request('query($id: ID!) { user(id: $id) { id } }', { id: world.alice.id }, token);
    expect(own.errors).toBeUndefined();
  });

  test('is the raw UUID, in either case, and both are the same user', async () => {
    for (const sub of [world.alice.userId, world.alice.userId.toUpperCase()]) {
      const token = await sign({ sub, role: 'LEARNER' });
      expect(dataOf(await server.request(Me, {}, token)).me?.id).toBe(world.alice.id);
      const own = await server.request('query($id: ID!) { user(id: $id) { id } }', { id: world.alice.id }, token);
      expect(own.errors).toBeUndefined();
    }
    expect(userGlobalId(world.alice.userId)).toBe(world.alice.id);
  });

  test('is the externalId createUser stored', async () => {
    const externalId = `auth0|${randomUUID()}`;
    const { createUser } = dataOf(
      await server.request(
        CreateUserDocument,
        { input: { name: 'Ext', email: email('ext'), externalId } },
        world.admin.token,
      ),
    );
    const token = await sign({ sub: externalId, role: 'LEARNER' });
    expect(dataOf(await server.request(Me, {}, token)).me).toEqual({ id: createUser.id, externalId });
  });

  test('that names no user is UNAUTHENTICATED', async () => {
    for (const sub of [randomUUID(), 'nobody-at-all', userGlobalId(randomUUID())]) {
      const token = await sign({ sub, role: 'LEARNER' });
      expect(codesOf(await server.request(Me, {}, token))).toEqual(['UNAUTHENTICATED']);
    }
  });

  test("stops working within 5 s of the user's deletion", async () => {
    const { createUser } = dataOf(
      await server.request(CreateUserDocument, { input: { name: 'Gone', email: email('gone') } }, world.admin.token),
    );
    const token = await sign({ sub: createUser.id, role: 'LEARNER' });
    expect(dataOf(await server.request(Me, {}, token)).me?.id).toBe(createUser.id);
    await server.db.prisma.user.delete({ where: { id: Buffer.from(createUser.id, 'base64').toString().slice(5) } });
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect(codesOf(await server.request(Me, {}, token))).toEqual(['UNAUTHENTICATED']);
  });
});

describe("a staff token's subject", () => {
  test('may be any non-empty string; it reads but records no learning', async () => {
    const token = await sign({ sub: 'okta|coach 7 (not a user)', role: 'COACH' });
    expect(dataOf(await server.request(Me, {}, token)).me).toBeNull();
    expect((await server.request('{ users(first: 1) { edges { node { id } } } }', {}, token)).errors).toBeUndefined();
    const practice = await server.request(
      'mutation($input: RecordAttemptInput!) { recordAttempt(input: $input) { id } }',
      {
        input: {
          questionId: world.questions[0]!.id,
          userAnswer: 'x',
          timeSec: 3,
          context: 'PRACTICE',
          clientAttemptId: randomUUID(),
        },
      },
      token,
    );
    expect(codesOf(practice)).toEqual(['FORBIDDEN']);
    expect(practice.errors?.[0]?.message).toMatch(/no user here/);
    expect(codesOf(await server.request('mutation { startSession { id } }', {}, token))).toEqual(['FORBIDDEN']);
  });

  test('may not be empty', async () => {
    const token = await sign({ sub: '', role: 'ADMIN' });
    expect(codesOf(await server.request(Me, {}, token))).toEqual(['UNAUTHENTICATED']);
  });
});

describe("a token's times", () => {
  const claims = () => ({ sub: world.alice.userId, role: 'LEARNER' });
  const refused = async (token: string, message: RegExp) => {
    const response = await server.request(Me, {}, token);
    expect(codesOf(response)).toEqual(['UNAUTHENTICATED']);
    expect(response.errors?.[0]?.message).toMatch(message);
  };

  test('exp is required', async () => refused(await sign(claims(), { exp: 0 }), /no expiry/));

  test('a lifetime over JWT_MAX_TTL (30 days) is refused', async () => {
    await refused(await sign(claims(), { exp: now() + 31 * 86_400 }), /longer than/);
    await refused(await sign(claims(), { iat: now() - 20 * 86_400, exp: now() + 11 * 86_400 }), /longer than/);
    expect((await server.request(Me, {}, await sign(claims(), { exp: now() + 29 * 86_400 }))).errors).toBeUndefined();
  });

  test('iat or nbf more than 60 s in the future is refused; a little skew is not', async () => {
    await refused(await sign(claims(), { iat: now() + 120 }), /issued in the future/);
    await refused(await sign(claims(), { nbf: now() + 120 }), /not valid yet/);
    const skewed = await sign(claims(), { iat: now() + 30, nbf: now() + 30 });
    expect((await server.request(Me, {}, skewed)).errors).toBeUndefined();
  });

  test('an open subscription ends when its token expires (graphql-ws: 4401; SSE: an error, then the end)', async () => {
    const exp = now() + 2;
    const token = await sign({ sub: world.alice.id, role: 'LEARNER' }, { exp });
    const client = clients.open(server.url, token);
    const ws = wsSubscribe(client, RealtimePlanAdjusted, { userId: world.alice.id });
    const sse = sseSubscribe(server.url, token, RealtimePlanAdjusted, { userId: world.alice.id });
    expect(await sse.status).toBe(200);
    await Promise.all([ws.inbox.untilEnded(5_000), sse.inbox.untilEnded(5_000)]);
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
    await waitFor('the socket to close with 4401', () => client.closes.some((c) => c.code === 4401));
    expect(sse.inbox.items.at(-1)?.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('upsertUsers', () => {
  test('creates, updates by externalId or by email, and reports each bad row without failing the others', async () => {
    const existingEmail = email('by.email');
    await server.request(CreateUserDocument, { input: { name: 'By Email', email: existingEmail } }, world.admin.token);
    const externalId = `idp-${randomUUID()}`;
    const first = dataOf(
      await server.request(
        UpsertUsers,
        { input: [{ name: 'Ext One', email: email('ext1'), externalId }] },
        world.admin.token,
      ),
    ).upsertUsers;
    expect(first[0]).toMatchObject({ index: 0, outcome: 'CREATED', error: null, user: { externalId } });
    const before = await server.db.prisma.user.count();

    const renamed = email('renamed');
    const duplicate = `dup-${randomUUID()}`;
    const { upsertUsers } = dataOf(
      await server.request(
        UpsertUsers,
        {
          input: [
            { name: 'Ext One Renamed', email: renamed, externalId },
            { name: 'Now Linked', email: existingEmail, externalId: `idp-${randomUUID()}` },
            { name: 'Bad Email', email: 'not an email' },
            { name: 'Bad Zone', email: email('zone'), timezone: 'US/Pacific-New' },
            { name: 'New', email: email('new'), externalId: duplicate, timezone: 'Asia/Kolkata' },
            { name: 'New Twice', email: email('new2'), externalId: duplicate },
            { name: 'Takes an email', email: renamed, externalId: `idp-${randomUUID()}` },
          ],
        },
        world.admin.token,
      ),
    );
    expect(upsertUsers.map((r) => [r.index, r.outcome, r.error?.code ?? null])).toEqual([
      [0, 'UPDATED', null],
      [1, 'UPDATED', null],
      [2, 'REFUSED', 'BAD_USER_INPUT'],
      [3, 'REFUSED', 'BAD_USER_INPUT'],
      [4, 'CREATED', null],
      [5, 'REFUSED', 'CONFLICT'],
      [6, 'REFUSED', 'CONFLICT'],
    ]);
    expect(upsertUsers[0]!.user).toMatchObject({ id: first[0]!.user!.id, email: renamed, name: 'Ext One Renamed' });
    expect(upsertUsers[1]!.user?.email).toBe(existingEmail);
    expect(upsertUsers[3]!.error?.message).toMatch(/US\/Pacific-New/);
    expect(await server.db.prisma.user.count()).toBe(before + 1);
  });

  test('takes at most 1,000 rows a call', async () => {
    const input = Array.from({ length: 1001 }, (_, i) => ({ name: `U${i}`, email: `bulk${i}@example.com` }));
    expect(codesOf(await server.request(UpsertUsers, { input }, world.admin.token))).toEqual(['BAD_USER_INPUT']);
  });

  test('createUser refuses a time zone the database does not know', async () => {
    const response = await server.request(
      CreateUserDocument,
      { input: { name: 'Zone', email: email('zone'), timezone: 'US/Pacific-New' } },
      world.admin.token,
    );
    expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
  });
});
