// The token of a graphql-ws operation: from the connection's parameters, or (as GraphiQL sends it)
// from the subscribe message's `payload.extensions.headers`, checked per operation.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createPerson, createWorld, type Person, type World } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { wsClients, wsSubscribe } from './clients.ts';
import { RealtimePlanAdjusted } from './documents.ts';
import { endSession, playSession } from './session-play.ts';

let server: TestServer;
let world: World;
let ana: Person;
let ben: Person;
const clients = wsClients();

beforeAll(async () => {
  server = await startTestServer();
  world = await createWorld(server);
  ana = await createPerson(server, world.admin.token, 'Ana Header');
  ben = await createPerson(server, world.admin.token, 'Ben Header');
});
afterAll(async () => {
  await clients.disposeAll();
  await server?.stop();
});

const headers = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });

test('a connection without a token subscribes with the token in the operation headers, as GraphiQL does', async () => {
  const client = clients.open(server.url, null);
  const own = wsSubscribe(client, RealtimePlanAdjusted, { userId: ana.id }, headers(ana.token));
  // Each operation is checked with its own token: Ben's token does not open Ana's stream.
  const other = wsSubscribe(client, RealtimePlanAdjusted, { userId: ana.id }, headers(ben.token));
  const bad = wsSubscribe(client, RealtimePlanAdjusted, { userId: ana.id }, headers('not-a-token'));
  const none = wsSubscribe(client, RealtimePlanAdjusted, { userId: ana.id });
  expect((await other.inbox.next(2_000)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  expect((await bad.inbox.next(2_000)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  expect((await none.inbox.next(2_000)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

  await endSession(server, ana.token, await playSession(server, world, ana.token, { Algebra: 'wrong' }));
  const pushed = await own.inbox.next(2_000);
  expect(pushed.errors).toBeUndefined();
  expect(pushed.data?.planAdjusted.trigger).toBe('SESSION_END');
});

test("an operation's own token wins over the connection's", async () => {
  const client = clients.open(server.url, ana.token);
  const bens = wsSubscribe(client, RealtimePlanAdjusted, { userId: ben.id }, headers(ben.token));
  const anasOnBen = wsSubscribe(client, RealtimePlanAdjusted, { userId: ben.id });
  expect((await anasOnBen.inbox.next(2_000)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

  await endSession(server, ben.token, await playSession(server, world, ben.token, { Geometry: 'right' }));
  expect((await bens.inbox.next(2_000)).data?.planAdjusted.trigger).toBe('SESSION_END');
});
