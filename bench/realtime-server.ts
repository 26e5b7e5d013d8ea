// The server process of `npm run bench:realtime`: the real app (createApp) over PostgreSQL, alone in
// its process so its memory is measured apart from the 5,000 clients. Started by bench/realtime.ts
// with an IPC channel; it answers:
//   { type: 'stats', topics?, gc? } → { type: 'stats', rss, heapUsed, external, listeners }
//                                       (after a GC unless gc: false)
//   { type: 'stop' }                 → stops the app, the bus and the database, then exits
// Environment: DATABASE_URL (postgresql://…), JWT_SECRET, DATABASE_POOL_SIZE, REDIS_URL (optional).
import { readFile } from 'node:fs/promises';

const { createApp, createEventBus, createLogger, loadJobsConfig, openDatabase, secretKey } = await import('./app.ts');

interface StatsRequest {
  type: 'stats';
  /** The topics whose listeners are counted from now on. */
  topics?: string[];
  /** Collect garbage first (the memory figures), or not (a cheap poll of the listener count). */
  gc?: boolean;
}
type ServerRequest = StatsRequest | { type: 'stop' };

const send = (message: unknown) => process.send!(message);
const log = createLogger(process.env.LOG_LEVEL ?? 'warn');
const db = await openDatabase(
  { kind: 'postgres', url: process.env.DATABASE_URL!, poolSize: Number(process.env.DATABASE_POOL_SIZE) || 10 },
  { migrate: false },
);
const bus = createEventBus(process.env.REDIS_URL || null, log);
const app = createApp({ db, pubsub: bus.pubsub, log, jobs: loadJobsConfig(), key: secretKey(process.env.JWT_SECRET!) });
const url = await app.start(0, '127.0.0.1');
let topics: string[] = [];

process.on('message', (message: ServerRequest) => {
  if (message.type === 'stats') {
    if (message.topics) topics = message.topics;
    if (message.gc !== false) (globalThis as { gc?: () => void }).gc?.();
    const memory = process.memoryUsage();
    const listeners = topics.reduce((sum, topic) => sum + bus.listenerCount(topic), 0);
    send({ type: 'stats', rss: memory.rss, heapUsed: memory.heapUsed, external: memory.external, listeners });
  } else if (message.type === 'stop') {
    void (async () => {
      await app.stop();
      await bus.close();
      await db.close();
      process.exit(0);
    })();
  }
});

/** The soft limit of open files of this process (each WebSocket is one). */
async function readFdLimit(): Promise<number | null> {
  const limits = await readFile('/proc/self/limits', 'utf8').catch(() => '');
  const match = /Max open files\s+(\d+|unlimited)/.exec(limits);
  return match ? (match[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(match[1])) : null;
}

send({ type: 'ready', url, fdLimit: await readFdLimit() });
