// Real-time plan adaptation on one instance (in-process pub/sub), with real clients: graphql-ws over
// `ws` and an SSE reader over fetch, against a started server.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { addDays, localDate } from '../../src/domain/calendar.ts';
import { publishPlanChanges, topicOf } from '../../src/pubsub.ts';
import { replanLearners } from '../../src/services/plans.ts';
import { describeOnlyOn } from '../support/database.ts';
import { createPerson, createWorld, type Person, rawId, type World } from '../support/fixtures.ts';
import { codesOf, dataOf, startTestServer, type TestServer } from '../support/server.ts';
import { type SubscriptionResult, sseSubscribe, waitFor, wsClients, wsSubscribe } from './clients.ts';
import { RealtimeAdjustments, RealtimePlan, RealtimePlanAdjusted, RealtimeSetPlanUnitStatus } from './documents.ts';
import { endSession, playSession } from './session-play.ts';

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

const client = (token?: string | null) => clients.open(server.url, token);

const newLearner = (name: string) => createPerson(server, world.admin.token, name);
const planTopic = (person: Person) => topicOf('plan-adjusted', person.userId);

/** Waits until the server has this many live planAdjusted subscriptions for the learner. */
const listening = (person: Person, count: number) =>
  waitFor(
    `${count} planAdjusted subscriber(s) of ${person.userId}`,
    () => server.bus.listenerCount(planTopic(person)) === count,
  );

function adjustmentOf<T extends { planAdjusted: unknown }>(result: SubscriptionResult<T>): T['planAdjusted'] {
  expect(result.errors).toBeUndefined();
  return result.data!.planAdjusted;
}

async function storedPlan(person: Person, date: string) {
  const { user } = dataOf(await server.request(RealtimePlan, { id: person.id, date }, person.token));
  return user!;
}

describe('planAdjusted', () => {
  test("a new learner's session end pushes tomorrow's plan once, over graphql-ws and SSE, as stored", async () => {
    const learner = await newLearner('Nadia New');
    const tomorrow = addDays(localDate(new Date(), 'UTC'), 1);
    const ws = wsSubscribe(client(learner.token), RealtimePlanAdjusted, { userId: learner.id });
    const sse = sseSubscribe(server.url, learner.token, RealtimePlanAdjusted, { userId: learner.id });
    const coach = wsSubscribe(client(world.coach.token), RealtimePlanAdjusted, { userId: learner.id });
    await listening(learner, 3);
    expect(await sse.status).toBe(200);

    const sessionId = await playSession(server, world, learner.token, { Algebra: 'wrong', Geometry: 'right' });
    await endSession(server, learner.token, sessionId);

    const pushed = adjustmentOf(await ws.inbox.next(2_000));
    expect(adjustmentOf(await sse.inbox.next(2_000))).toEqual(pushed);
    expect(adjustmentOf(await coach.inbox.next(2_000))).toEqual(pushed);
    expect(pushed).toMatchObject({ trigger: 'SESSION_END', session: { id: sessionId } });
    expect([tomorrow, addDays(localDate(new Date(), 'UTC'), 1)]).toContain(pushed.planDate);
    // No plan and no mastery before: the plan is built from the session alone.
    expect(pushed.before).toEqual([]);
    expect(pushed.after.reduce((sum, u) => sum + u.targetQuestions, 0)).toBe(30);
    for (const unit of pushed.after) expect(unit.targetQuestions).toBeGreaterThanOrEqual(2);
    const target = (subcategory: string) => pushed.after.find((u) => u.subcategory === subcategory)!.targetQuestions;
    expect(target('Algebra')).toBeGreaterThan(target('Geometry'));
    expect(pushed.after.map((u) => u.reason).join(' | ')).toMatch(/weak in this session.*strong in this session/);

    // What was pushed is what is stored.
    const stored = await storedPlan(learner, pushed.planDate);
    expect(stored.plan.units.map(({ id: _id, ...unit }) => unit)).toEqual(pushed.after);
    expect(stored.planAdjustments.edges[0]!.node).toMatchObject({
      id: pushed.id,
      trigger: 'SESSION_END',
      session: { id: sessionId },
    });

    // Once: nothing more arrives.
    expect(await ws.inbox.unreadAfter(300)).toEqual([]);
    expect(await sse.inbox.unreadAfter(0)).toEqual([]);

    // A repeated endSession changes nothing and pushes nothing.
    const again = await endSession(server, learner.token, sessionId);
    expect(again.id).toBe(sessionId);
    expect(await ws.inbox.unreadAfter(500)).toEqual([]);
    expect(await sse.inbox.unreadAfter(0)).toEqual([]);
    expect(await coach.inbox.unreadAfter(0)).toEqual([]);
    expect((await storedPlan(learner, pushed.planDate)).planAdjustments.edges).toHaveLength(1);

    ws.stop();
    sse.stop();
    coach.stop();
    await listening(learner, 0);
  });

  test('a later session adjusts the plan it left: before = the previous after; unit ids, statuses kept', async () => {
    const learner = await newLearner('Sam Second');
    const ws = wsSubscribe(client(learner.token), RealtimePlanAdjusted, { userId: learner.id });
    await listening(learner, 1);

    await endSession(
      server,
      learner.token,
      await playSession(server, world, learner.token, { Algebra: 'right', Geometry: 'right' }),
    );
    const first = adjustmentOf(await ws.inbox.next());
    const planned = await storedPlan(learner, first.planDate);

    // The learner ticks a unit off: a MANUAL adjustment.
    const geometry = planned.plan.units.find((u) => u.subcategory === 'Geometry')!;
    dataOf(await server.request(RealtimeSetPlanUnitStatus, { id: geometry.id, status: 'DONE' }, learner.token));
    const manual = adjustmentOf(await ws.inbox.next());
    expect(manual).toMatchObject({ trigger: 'MANUAL', session: null, planDate: first.planDate });

    const secondId = await playSession(server, world, learner.token, { Geometry: 'wrong' });
    await endSession(server, learner.token, secondId);
    const second = adjustmentOf(await ws.inbox.next());
    expect(second).toMatchObject({ trigger: 'SESSION_END', session: { id: secondId }, planDate: first.planDate });
    expect(second.before).toEqual(manual.after);
    const target = (units: typeof second.after, subcategory: string) =>
      units.find((u) => u.subcategory === subcategory)!.targetQuestions;
    expect(target(second.after, 'Geometry')).toBeGreaterThan(target(second.before, 'Geometry'));
    expect(second.after.find((u) => u.subcategory === 'Geometry')!.status).toBe('DONE');
    const replanned = await storedPlan(learner, first.planDate);
    expect(replanned.plan.units.find((u) => u.subcategory === 'Geometry')!.id).toBe(geometry.id);
    expect(replanned.plan.units.map(({ id: _id, ...unit }) => unit)).toEqual(second.after);
    expect(await ws.inbox.unreadAfter(300)).toEqual([]);
  });

  test("two of a learner's sessions ending at once: both succeed and the two adjustments chain", async () => {
    const learner = await newLearner('Cora Concurrent');
    const ws = wsSubscribe(client(learner.token), RealtimePlanAdjusted, { userId: learner.id });
    await listening(learner, 1);
    const one = await playSession(server, world, learner.token, { Algebra: 'wrong' });
    const two = await playSession(server, world, learner.token, { Geometry: 'wrong' });
    await Promise.all([endSession(server, learner.token, one), endSession(server, learner.token, two)]);
    const first = adjustmentOf(await ws.inbox.next());
    const second = adjustmentOf(await ws.inbox.next());
    expect(new Set([first.session?.id, second.session?.id])).toEqual(new Set([one, two]));
    // The second replan waited for the first: its `before` is what the first left, in either order.
    const [earlier, later] = first.before.length === 0 ? [first, second] : [second, first];
    expect(earlier.before).toEqual([]);
    expect(later.before).toEqual(earlier.after);
    const stored = await storedPlan(learner, later.planDate);
    expect(stored.plan.units.map(({ id: _id, ...u }) => u)).toEqual(later.after);
    expect(await ws.inbox.unreadAfter(300)).toEqual([]);
  });

  test('setPlanUnitStatus publishes a MANUAL adjustment; the same status again, or a stranger, none', async () => {
    const learner = await newLearner('Mia Manual');
    const stranger = await newLearner('Stan Stranger');
    await endSession(server, learner.token, await playSession(server, world, learner.token, { Algebra: 'wrong' }));
    const { user } = dataOf(await server.request(RealtimeAdjustments, { id: learner.id }, learner.token));
    const date = user!.planAdjustments.edges[0]!.node.planDate;
    const { plan } = await storedPlan(learner, date);
    const unit = plan.units[0]!;

    const ws = wsSubscribe(client(learner.token), RealtimePlanAdjusted, { userId: learner.id });
    const sse = sseSubscribe(server.url, learner.token, RealtimePlanAdjusted, { userId: learner.id });
    await listening(learner, 2);

    const skipped = dataOf(
      await server.request(RealtimeSetPlanUnitStatus, { id: unit.id, status: 'SKIPPED' }, learner.token),
    ).setPlanUnitStatus;
    expect(skipped).toMatchObject({ id: unit.id, status: 'SKIPPED' });
    const manual = adjustmentOf(await ws.inbox.next(2_000));
    expect(adjustmentOf(await sse.inbox.next(2_000))).toEqual(manual);
    expect(manual).toMatchObject({ trigger: 'MANUAL', planDate: date, session: null });
    expect(manual.before.find((u) => u.subcategory === unit.subcategory)!.status).toBe('PENDING');
    expect(manual.after.find((u) => u.subcategory === unit.subcategory)!.status).toBe('SKIPPED');
    expect((await storedPlan(learner, date)).plan.units.map(({ id: _id, ...u }) => u)).toEqual(manual.after);

    // Unchanged: nothing written, nothing pushed.
    dataOf(await server.request(RealtimeSetPlanUnitStatus, { id: unit.id, status: 'SKIPPED' }, learner.token));
    // Someone else's plan: refused, nothing pushed.
    const refused = await server.request(RealtimeSetPlanUnitStatus, { id: unit.id, status: 'DONE' }, stranger.token);
    expect(codesOf(refused)).toEqual(['FORBIDDEN']);
    expect(await ws.inbox.unreadAfter(400)).toEqual([]);
    expect(await sse.inbox.unreadAfter(0)).toEqual([]);

    // A coach may change it: pushed too.
    dataOf(await server.request(RealtimeSetPlanUnitStatus, { id: unit.id, status: 'DONE' }, world.coach.token));
    expect(adjustmentOf(await ws.inbox.next(2_000))).toMatchObject({ trigger: 'MANUAL' });

    // A unit id names (learner, date, subcategory): one the plan does not hold is NOT_FOUND,
    // a made-up one BAD_USER_INPUT.
    const [typename, userId, planDate] = Buffer.from(unit.id, 'base64').toString('utf8').split(':');
    const absent = Buffer.from(`${typename}:${userId}:${planDate}:Astrology`).toString('base64');
    expect(
      codesOf(await server.request(RealtimeSetPlanUnitStatus, { id: absent, status: 'DONE' }, learner.token)),
    ).toEqual(['NOT_FOUND']);
    const madeUp = Buffer.from(`PlanUnit:${userId}:2025-02-30:Algebra`).toString('base64');
    expect(
      codesOf(await server.request(RealtimeSetPlanUnitStatus, { id: madeUp, status: 'DONE' }, learner.token)),
    ).toEqual(['BAD_USER_INPUT']);
    expect(await ws.inbox.unreadAfter(200)).toEqual([]);
    ws.stop();
    sse.stop();
  });

  test('runJob(NIGHTLY) plans tomorrow for an active learner and the subscriber hears it as NIGHTLY', async () => {
    const learner = await newLearner('Nico Nightly');
    await endSession(server, learner.token, await playSession(server, world, learner.token, { Algebra: 'wrong' }));
    const ws = wsSubscribe(client(learner.token), RealtimePlanAdjusted, { userId: learner.id });
    await listening(learner, 1);
    // A run that closes a day ahead plans a day nobody has planned yet, so the plan is new.
    const closes = addDays(localDate(new Date(), 'UTC'), 3);
    const run = await server.request(
      'mutation($date: Date) { runJob(job: NIGHTLY, date: $date) { status stats } }',
      { date: closes },
      world.admin.token,
    );
    expect(dataOf(run as never)).toMatchObject({ runJob: { status: 'SUCCEEDED' } });
    const nightly = adjustmentOf(await ws.inbox.next(2_000));
    expect(nightly).toMatchObject({ trigger: 'NIGHTLY', planDate: addDays(closes, 1), session: null, before: [] });
    expect(nightly.after.reduce((sum, u) => sum + u.targetQuestions, 0)).toBe(30);
  });

  test('a nightly replan, published after commit by publishPlanChanges, reaches subscribers as NIGHTLY', async () => {
    const learner = await newLearner('Nora Nightly');
    const ws = wsSubscribe(client(learner.token), RealtimePlanAdjusted, { userId: learner.id });
    await listening(learner, 1);
    const planDate = addDays(localDate(new Date(), 'UTC'), 2);
    const changes = await server.db.prisma.$transaction((tx) =>
      replanLearners(tx, [{ userId: learner.userId, planDate }], 'NIGHTLY', { now: new Date() }),
    );
    expect(changes).toHaveLength(1);
    publishPlanChanges(server.bus.pubsub, changes);
    const nightly = adjustmentOf(await ws.inbox.next(2_000));
    expect(nightly).toMatchObject({ id: expect.any(String), trigger: 'NIGHTLY', planDate, session: null, before: [] });
    expect(rawId(nightly.id)).toBe(changes[0]!.adjustmentId);
    expect((await storedPlan(learner, planDate)).plan.units.map(({ id: _id, ...u }) => u)).toEqual(nightly.after);
    // The same inputs again: the plan is unchanged, so there is nothing to store or publish.
    const rerun = await server.db.prisma.$transaction((tx) =>
      replanLearners(tx, [{ userId: learner.userId, planDate }], 'NIGHTLY', { now: new Date() }),
    );
    expect(rerun).toEqual([]);
  });
});

describe('refusals: nothing is delivered to someone not allowed', () => {
  test("a learner subscribing to someone else's plan is FORBIDDEN, over graphql-ws and SSE", async () => {
    const victim = await newLearner('Vera Victim');
    const snoop = await newLearner('Simon Snoop');
    const ws = wsSubscribe(client(snoop.token), RealtimePlanAdjusted, { userId: victim.id });
    const sse = sseSubscribe(server.url, snoop.token, RealtimePlanAdjusted, { userId: victim.id });
    const wsResult = await ws.inbox.next();
    const sseResult = await sse.inbox.next();
    for (const result of [wsResult, sseResult]) {
      expect(result.data ?? null).toBeNull();
      expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    }
    await ws.inbox.untilEnded();
    await sse.inbox.untilEnded();
    expect(server.bus.listenerCount(planTopic(victim))).toBe(0);

    // The victim's plan changes: the snoop hears nothing.
    const own = wsSubscribe(client(victim.token), RealtimePlanAdjusted, { userId: victim.id });
    await listening(victim, 1);
    await endSession(server, victim.token, await playSession(server, world, victim.token, { Algebra: 'wrong' }));
    await own.inbox.next();
    expect(await ws.inbox.unreadAfter(300)).toEqual([]);
    expect(await sse.inbox.unreadAfter(0)).toEqual([]);
  });

  test('no token: UNAUTHENTICATED at subscription, over graphql-ws and SSE', async () => {
    const learner = await newLearner('Una Anon');
    const ws = wsSubscribe(client(null), RealtimePlanAdjusted, { userId: learner.id });
    const sse = sseSubscribe(server.url, null, RealtimePlanAdjusted, { userId: learner.id });
    for (const result of [await ws.inbox.next(), await sse.inbox.next()]) {
      expect(result.data ?? null).toBeNull();
      expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    }
    expect(server.bus.listenerCount(planTopic(learner))).toBe(0);
  });

  test('a bad token: the WebSocket is refused (4401, UNAUTHENTICATED); SSE answers UNAUTHENTICATED', async () => {
    const learner = await newLearner('Bea Badtoken');
    const forged = `${learner.token.slice(0, -4)}AAAA`;
    const badClient = client(forged);
    const ws = wsSubscribe(badClient, RealtimePlanAdjusted, { userId: learner.id });
    const ended = await ws.inbox.untilEnded();
    expect(ended.reason).toBe('error');
    expect(ws.inbox.items).toEqual([]);
    expect(badClient.closes).toHaveLength(1);
    expect(badClient.closes[0]!.code).toBe(4401);
    expect(badClient.closes[0]!.reason).toMatch(/^UNAUTHENTICATED: /);

    const sse = sseSubscribe(server.url, forged, RealtimePlanAdjusted, { userId: learner.id });
    const result = await sse.inbox.next();
    expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect(server.bus.listenerCount(planTopic(learner))).toBe(0);
  });
});

describeOnlyOn('postgres', 'replans of one learner are serialised', () => {
  test('a session ending while another replan holds the learner ends at once; its adjustment follows', async () => {
    const learner = await newLearner('Walt Waiting');
    const ws = wsSubscribe(client(learner.token), RealtimePlanAdjusted, { userId: learner.id });
    await listening(learner, 1);
    const sessionId = await playSession(server, world, learner.token, { Algebra: 'wrong', Geometry: 'right' });
    const planDate = addDays(localDate(new Date(), 'UTC'), 1);

    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let replanned!: () => void;
    const holding = new Promise<void>((resolve) => (replanned = resolve));
    const nightly = server.db.prisma.$transaction(
      async (tx) => {
        const changes = await replanLearners(tx, [{ userId: learner.userId, planDate }], 'NIGHTLY', {
          now: new Date(),
        });
        replanned();
        await gate; // still uncommitted
        return changes;
      },
      { timeout: 20_000 },
    );
    await holding;
    let ended = false;
    const ending = endSession(server, learner.token, sessionId).then((result) => {
      ended = true;
      return result;
    });
    // While the other replan holds the learner, the session ends without waiting for the lock; its
    // adjustment is pending (src/services/pending-replans.ts) and nothing is pushed yet.
    await ending;
    expect(ended).toBe(true);
    expect(await ws.inbox.unreadAfter(300)).toEqual([]);
    release();
    const [nightlyChange] = await nightly;
    publishPlanChanges(server.bus.pubsub, [nightlyChange!]);

    const received = [adjustmentOf(await ws.inbox.next()), adjustmentOf(await ws.inbox.next(10_000))];
    const sessionEnd = received.find((a) => a.trigger === 'SESSION_END')!;
    const nightlyPushed = received.find((a) => a.trigger === 'NIGHTLY')!;
    expect(rawId(nightlyPushed.id)).toBe(nightlyChange!.adjustmentId);
    expect(sessionEnd.before).toEqual(nightlyPushed.after);
    expect(sessionEnd.session?.id).toBe(sessionId);
    expect((await storedPlan(learner, planDate)).plan.units.map(({ id: _id, ...u }) => u)).toEqual(sessionEnd.after);
  });
});
