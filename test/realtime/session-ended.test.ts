// sessionEnded: the dashboards' subscription. A learner watches their own sessions; a coach watches
// one learner or, without userId, everyone.
import { afterAll, describe, expect, test } from 'vitest';
import { topicOf } from '../../src/pubsub.ts';
import { createPerson } from '../support/fixtures.ts';
import { useTestServer } from '../support/hooks.ts';
import { sseSubscribe, waitFor, wsClients, wsSubscribe } from './clients.ts';
import { RealtimeSessionEnded } from './documents.ts';
import { endSession, playSession } from './session-play.ts';

const clients = wsClients();

const { server, world } = useTestServer();
afterAll(async () => {
  await clients.disposeAll();
});

const client = (token?: string | null) => clients.open(server.url, token);

const listeners = (topic: string, count: number) =>
  waitFor(`${count} listener(s) on ${topic}`, () => server.bus.listenerCount(topic) === count);

describe('sessionEnded', () => {
  test('delivers the ended session with its summary and analytics, once', async () => {
    const learner = await createPerson(server, world.admin.token, 'Lena Live');
    const ws = wsSubscribe(client(learner.token), RealtimeSessionEnded, { userId: learner.id });
    const sse = sseSubscribe(server.url, learner.token, RealtimeSessionEnded, { userId: learner.id });
    await listeners(topicOf('session-ended', learner.userId), 2);

    const sessionId = await playSession(server, world, learner.token, { Algebra: 'right', Geometry: 'wrong' });
    const ended = await endSession(server, learner.token, sessionId);
    for (const inbox of [ws.inbox, sse.inbox]) {
      const result = await inbox.next(2_000);
      expect(result.errors).toBeUndefined();
      expect(result.data!.sessionEnded).toEqual(ended);
    }
    expect(ended.summary).toMatchObject({
      questionsAttempted: 6,
      questionsCorrect: 3,
      accuracy: 0.5,
      topicsCovered: ['Algebra', 'Geometry'],
    });
    expect(ended.analytics).toMatchObject({ conceptSwitches: 1 });

    await endSession(server, learner.token, sessionId); // already ended: nothing new
    expect(await ws.inbox.unreadAfter(400)).toEqual([]);
    expect(await sse.inbox.unreadAfter(0)).toEqual([]);
    ws.stop();
    sse.stop();
  });

  test('a coach without userId watches everyone; a learner may not, nor watch someone else', async () => {
    const ann = await createPerson(server, world.admin.token, 'Ann Everyone');
    const ben = await createPerson(server, world.admin.token, 'Ben Everyone');
    const coach = wsSubscribe(client(world.coach.token), RealtimeSessionEnded, {});
    const coachSse = sseSubscribe(server.url, world.coach.token, RealtimeSessionEnded, {});
    const learnerAll = wsSubscribe(client(ann.token), RealtimeSessionEnded, {});
    const learnerOther = sseSubscribe(server.url, ann.token, RealtimeSessionEnded, { userId: ben.id });
    for (const refused of [await learnerAll.inbox.next(), await learnerOther.inbox.next()]) {
      expect(refused.data ?? null).toBeNull();
      expect(refused.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    }
    await listeners(topicOf('session-ended-all'), 2);

    const annSession = await playSession(server, world, ann.token, { Algebra: 'right' });
    await endSession(server, ann.token, annSession);
    const benSession = await playSession(server, world, ben.token, { Geometry: 'wrong' });
    await endSession(server, ben.token, benSession);

    for (const inbox of [coach.inbox, coachSse.inbox]) {
      const first = await inbox.next(2_000);
      const second = await inbox.next(2_000);
      expect([first.data!.sessionEnded.id, second.data!.sessionEnded.id]).toEqual([annSession, benSession]);
      expect([first.data!.sessionEnded.user.id, second.data!.sessionEnded.user.id]).toEqual([ann.id, ben.id]);
      expect(second.data!.sessionEnded.summary).toMatchObject({ questionsAttempted: 3, questionsCorrect: 0 });
    }
    expect(await learnerAll.inbox.unreadAfter(300)).toEqual([]);
    expect(await learnerOther.inbox.unreadAfter(0)).toEqual([]);
    expect(server.bus.listenerCount(topicOf('session-ended', ben.userId))).toBe(0);
    coach.stop();
    coachSse.stop();
  });
});
