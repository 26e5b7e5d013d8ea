// Subscriptions' event bus: in-process by default, through Redis with REDIS_URL so that an event
// published on one API instance reaches subscribers connected to another.
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub } from 'graphql-yoga';
import { Redis } from 'ioredis';
import type { Logger } from './logger.ts';

/** Payloads are JSON-serialisable ids: subscribers load the rows themselves. */
export type PubSubEvents = {
  'plan-adjusted': [userId: string, payload: { adjustmentId: string }];
  'session-ended': [userId: string, payload: { sessionId: string; userId: string }];
  'session-ended-all': [payload: { sessionId: string; userId: string }];
};

export type PubSub = ReturnType<typeof createPubSub<PubSubEvents>>;

export interface EventBus {
  pubsub: PubSub;
  close(): Promise<void>;
}

export function createEventBus(redisUrl: string | null, log: Logger): EventBus {
  if (!redisUrl) return { pubsub: createPubSub<PubSubEvents>(), close: async () => {} };
  const options = { lazyConnect: false, maxRetriesPerRequest: 2, retryStrategy: (attempt: number) => Math.min(attempt * 200, 5_000) };
  const publishClient = new Redis(redisUrl, options);
  const subscribeClient = new Redis(redisUrl, options);
  for (const client of [publishClient, subscribeClient]) {
    // Redis going away must not take the API down: log, and ioredis reconnects (and resubscribes).
    client.on('error', (error: Error) => log.warn({ err: error.message }, 'redis connection error'));
  }
  // A failed publish is logged, never an unhandled rejection: the mutation that caused it has committed.
  const guardedPublisher = new Proxy(publishClient, {
    get(target, property, receiver) {
      if (property === 'publish') {
        return (channel: string, message: string) =>
          target.publish(channel, message).catch((error: Error) => {
            log.error({ err: error.message, channel }, 'redis publish failed; event not delivered');
            return 0;
          });
      }
      return Reflect.get(target, property, receiver);
    },
  });
  const pubsub = createPubSub<PubSubEvents>({
    eventTarget: createRedisEventTarget({ publishClient: guardedPublisher, subscribeClient }),
  });
  return {
    pubsub,
    async close() {
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
  };
}
