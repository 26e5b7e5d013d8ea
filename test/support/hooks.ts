// The set-up most test files share: a test server with its world (users and questions), or a bare
// test database, made before the file's tests and removed after them. What these return stand in
// for the real objects until beforeAll has made them and forward every use to them from then on,
// so a test file takes them as constants at its top.
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { createWorld, type World } from './fixtures.ts';
import { startTestServer, type TestServer, type TestServerOptions } from './server.ts';

/** Forwards to what `current` returns; used before there is anything, it says so. */
function standIn<T extends object>(what: string, current: () => T | undefined): T {
  const target = () => {
    const value = current();
    if (!value) throw new Error(`${what} is used before beforeAll has made it`);
    return value;
  };
  return new Proxy({} as T, {
    get(_, property) {
      const real = target();
      const value = Reflect.get(real, property, real);
      return typeof value === 'function' ? value.bind(real) : value;
    },
    has: (_, property) => property in target(),
    ownKeys: () => Reflect.ownKeys(target()),
    getOwnPropertyDescriptor: (_, property) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(target(), property);
      return descriptor && { ...descriptor, configurable: true };
    },
  });
}

/** A test server over a fresh database, and its world, for the tests of this file. */
export function useTestServer(options: TestServerOptions = {}): { server: TestServer; world: World } {
  let server: TestServer | undefined;
  let world: World | undefined;
  beforeAll(async () => {
    server = await startTestServer(options);
    world = await createWorld(server);
  });
  afterAll(async () => server?.stop());
  return { server: standIn('the test server', () => server), world: standIn('the world', () => world) };
}

/** A fresh test database for the tests of this file. */
export function useTestDatabase(): TestDatabase {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.destroy());
  return standIn('the test database', () => db);
}
