// Subscriptions' event bus: in-process by default, through Redis with REDIS_URL so that an event
// published on one API instance reaches subscribers connected to another.
//
// Redis going away must not take the API down. Publishing never waits for Redis and never throws:
// a publish that fails (Redis unreachable for a few reconnection attempts) is logged and dropped —
// the change it announces is committed and readable (User.planAdjustments). The subscriber
// connection queues its SUBSCRIBE commands while Redis is away and ioredis resubscribes every
// channel when it reconnects, so delivery resumes by itself.
import { setMaxListeners } from 'node:events';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub } from 'graphql-yoga';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.ts';

/** Payloads are JSON-serialisable ids: subscribers load the rows themselves. */
export type PubSubEvents = {
  'plan-adjusted': [userId: string, payload: { adjustmentId: string }];
  'session-ended': [userId: string, payload: { sessionId: string; userId: string }];
  'session-ended-all': [payload: { sessionId: string; userId: string }];
  /** A learner was erased: every instance forgets the tokens naming them (src/context.ts). */
  'user-erased': [payload: { userId: string }];
};

export type PubSub = ReturnType<typeof createPubSub<PubSubEvents>>;

export type RedisState = 'off' | 'ok' | 'unavailable';

export interface EventBus {
  pubsub: PubSub;
  /**
   * Live subscriptions on this instance to a topic (`plan-adjusted:<userId>`, `session-ended-all`, …):
   * for monitoring, and for tests and benchmarks to know a subscriber is listening. With Redis, the
   * channel's SUBSCRIBE may still be on its way: `PUBSUB NUMSUB` tells when Redis has it.
   */
  listenerCount(topic: string): number;
  /** Redis as /ready shows it: off (in-process events), ok (both connections ready) or unavailable. */
  redisState(): RedisState;
  close(): Promise<void>;
}

/** The topic createPubSub uses for a routing key and id. */
export function topicOf(routingKey: keyof PubSubEvents, id?: string): string {
  return id === undefined ? routingKey : `${routingKey}:${id}`;
}

type EventTargetLike = Pick<EventTarget, 'addEventListener' | 'removeEventListener' | 'dispatchEvent'>;

/** Counts listeners per topic on the way to the real event target. */
function countingTarget(target: EventTargetLike, counts: Map<string, number>): EventTargetLike {
  return {
    addEventListener(type, listener, options) {
      if (listener) counts.set(type, (counts.get(type) ?? 0) + 1);
      target.addEventListener(type, listener, options);
    },
    removeEventListener(type, listener, options) {
      const left = (counts.get(type) ?? 0) - (listener ? 1 : 0);
      if (left > 0) counts.set(type, left);
      else counts.delete(type);
      target.removeEventListener(type, listener, options);
    },
    dispatchEvent: (event) => target.dispatchEvent(event),
  };
}

/** Announces committed plan changes (SESSION_END, NIGHTLY or MANUAL) to planAdjusted subscribers. Call after commit. */
export function publishPlanChanges(pubsub: PubSub, changes: readonly { userId: string; adjustmentId: string }[]): void {
  for (const change of changes) pubsub.publish('plan-adjusted', change.userId, { adjustmentId: change.adjustmentId });
}

/** Announces a committed session end to sessionEnded subscribers (the learner's and everyone's). Call after commit. */
export function publishSessionEnded(pubsub: PubSub, ended: { sessionId: string; userId: string }): void {
  const payload = { sessionId: ended.sessionId, userId: ended.userId };
  pubsub.publish('session-ended', ended.userId, payload);
  pubsub.publish('session-ended-all', payload);
}

/** Announces a committed erasure to every instance's authenticator. Call after commit. */
export function publishUserErased(pubsub: PubSub, userId: string): void {
  pubsub.publish('user-erased', { userId });
}

export function createEventBus(redisUrl: string | null, log: Logger): EventBus {
  const counts = new Map<string, number>();
  const listenerCount = (topic: string) => counts.get(topic) ?? 0;
  return redisUrl ? redisBus(redisUrl, log, counts, listenerCount) : inProcessBus(counts, listenerCount);
}

function inProcessBus(counts: Map<string, number>, listenerCount: EventBus['listenerCount']): EventBus {
  const target = new EventTarget();
  setMaxListeners(0, target); // many dashboards on session-ended-all are not a leak
  return {
    pubsub: createPubSub<PubSubEvents>({ eventTarget: countingTarget(target, counts) as never }),
    listenerCount,
    redisState: () => 'off',
    close: async () => {},
  };
}

function redisBus(
  redisUrl: string,
  log: Logger,
  counts: Map<string, number>,
  listenerCount: EventBus['listenerCount'],
): EventBus {
  const common: RedisOptions = {
    // Reconnect for ever, backing off to one attempt every 2 s.
    retryStrategy: (attempt: number) => Math.min(attempt * 100, 2_000),
    connectionName: 'learnloop-pubsub',
  };
  // A publish issued while Redis is away fails after two reconnection attempts instead of piling up.
  const publishClient = new Redis(redisUrl, { ...common, maxRetriesPerRequest: 2 });
  // SUBSCRIBE issued while Redis is away waits for the connection: the subscription then works.
  const subscribeClient = new Redis(redisUrl, { ...common, maxRetriesPerRequest: null });
  logOutages(publishClient, 'publish', log);
  logOutages(subscribeClient, 'subscribe', log);
  const redisTarget = createRedisEventTarget({
    publishClient: neverRejecting(publishClient, ['publish'], log),
    subscribeClient: neverRejecting(subscribeClient, ['subscribe', 'unsubscribe'], log),
  });
  const pubsub = createPubSub<PubSubEvents>({
    eventTarget: countingTarget(redisTarget as EventTargetLike, counts) as never,
  });
  return {
    pubsub,
    listenerCount,
    redisState: () => (publishClient.status === 'ready' && subscribeClient.status === 'ready' ? 'ok' : 'unavailable'),
    async close() {
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
  };
}

/** Logs the first error of an outage and its end, not every reconnection attempt. */
function logOutages(client: Redis, name: string, log: Logger): void {
  let down = false;
  client.on('error', (error: Error) => {
    if (!down)
      log.error(
        { err: error.message, client: name },
        'redis connection error: events are not delivered until it is back',
      );
    down = true;
  });
  client.on('ready', () => {
    if (down) log.info({ client: name }, 'redis connection restored');
    down = false;
  });
}

/**
 * The client with `methods` that log a failure instead of rejecting: never an unhandled rejection
 * (which would end the process), as the mutation behind a publish has committed.
 */
function neverRejecting<T extends Redis>(client: T, methods: readonly string[], log: Logger): T {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof property !== 'string' || !methods.includes(property) || typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        (value as (...a: unknown[]) => Promise<unknown>).apply(target, args).catch((error: Error) => {
          log.error(
            { err: error.message, command: property, channel: args[0] },
            'redis command failed; event not delivered',
          );
          return 0;
        });
    },
  });
}
