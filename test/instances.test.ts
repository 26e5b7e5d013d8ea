// Several instances on one PostgreSQL and Redis, started together as a deployment starts them: the
// migrations and the demo (with its processed history) are applied once, both instances are ready
// and see Redis, and each serves the same data. (Events across instances: test/realtime/redis.test.ts;
// job slots run once across instances: test/jobs/scheduler.test.ts.)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { type RunningService, startService } from '../src/service.ts';
import { createEmptyPostgresDatabase, describeOnlyOn } from './support/database.ts';
import { testSecret } from './support/server.ts';

describeOnlyOn('postgres', 'two instances, one PostgreSQL, Redis', () => {
  let services: RunningService[] = [];
  let drop: () => Promise<void>;
  let dataDir: string;

  beforeAll(async () => {
    const redisUrl = process.env.REDIS_URL;
    if (!redisUrl) throw new Error('REDIS_URL is not set: this test needs Redis (CI sets it)');
    const database = await createEmptyPostgresDatabase('ll_instances');
    drop = database.drop;
    dataDir = await mkdtemp(path.join(tmpdir(), 'learnloop-instances-'));
    const config = loadConfig({
      DATABASE_URL: database.url,
      REDIS_URL: redisUrl,
      JWT_SECRET: testSecret,
      DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      SCHEDULER: '0',
    });
    const log = createLogger('silent');
    services = await Promise.all([startService(config, log), startService(config, log)]);
  }, 180_000);

  afterAll(async () => {
    for (const service of services) await service.stop();
    await drop?.();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('migrated and loaded once; both ready, with Redis; both serve the same data', async () => {
    const [a, b] = services;
    const db = a!.db.prisma;
    expect(await db.user.count()).toBe(8);
    // The demo's two weeks hold 13 or 14 NIGHTLY slots, by the hour of its first attempt and of now.
    expect(await db.jobRun.count({ where: { job: 'NIGHTLY' } })).toBeOneOf([13, 14]);
    expect(await db.jobRun.count({ where: { status: { not: 'SUCCEEDED' } } })).toBe(0);
    for (const service of [a!, b!]) {
      const ready = await fetch(`${service.url}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', database: 'ok', migrations: 'applied', redis: 'ok' });
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      expect(metrics).toMatch(/learnloop_database_pool_connections\{state="max"\} 10/);
    }
  });
});
