import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Pure tests run once; tests that touch a database run on PGlite and, when TEST_DATABASE_URL is
// set (CI sets it), again on PostgreSQL. Tests of what does not depend on the database (a page in a
// browser, the process's signals and configuration errors) run on PGlite only.
const root = fileURLToPath(new URL('..', import.meta.url));
const databaseTests = ['test/**/*.test.ts'];
const pureTests = ['test/domain/**/*.test.ts', 'test/layers.test.ts'];
const pgliteOnlyTests = ['test/browser/**/*.test.ts', 'test/shutdown.test.ts'];
// Several instances on one database server: PostgreSQL only (PGlite is one process's).
const postgresOnlyTests = ['test/instances.test.ts'];

const databaseProject = (name: string, testDatabase: string, exclude: string[]) => ({
  extends: true as const,
  test: {
    name,
    include: databaseTests,
    exclude,
    env: { LEARNLOOP_TEST_DATABASE: testDatabase },
  },
});

export default defineConfig({
  root,
  // graphql ships CJS and ESM builds; the dependencies load the CJS one, so the tests must too
  // (one graphql instance per process).
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two files at a time: vitest's default on a 2-core machine is one, and much of a file's time is
    // spent waiting (on PostgreSQL, on the commands it spawns, on timers), not on the CPU.
    maxWorkers: 2,
    // A worker keeps its modules from one test file to the next (of its project: workers never serve
    // two projects): importing the server's module graph afresh for each file took a quarter of the
    // suite. Every file opens its own database and server, and no test mocks a module.
    isolate: false,
    globalSetup: ['test/support/global-setup.ts'],
    projects: [
      { extends: true, test: { name: 'domain', include: pureTests } },
      databaseProject('pglite', 'pglite', [...pureTests, ...postgresOnlyTests]),
      ...(process.env.TEST_DATABASE_URL
        ? [databaseProject('postgres', 'postgres', [...pureTests, ...pgliteOnlyTests])]
        : []),
    ],
  },
});
