// A learner's data: exportUser / npm run export give all of it; eraseUser / npm run erase delete all
// of it in one transaction, keep the anonymous aggregates, record the erasure, and a second erasure
// is NOT_FOUND. After it, no query, job or export finds the learner.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openDatabase } from '../src/db/client.ts';
import { anonymousTables, eraseLearner, learnerTables } from '../src/services/erasure.ts';
import { waitFor, wsClient, wsSubscribe } from './realtime/clients.ts';
import { RealtimePlanAdjusted } from './realtime/documents.ts';
import { endSession, playSession } from './realtime/session-play.ts';
import { commandDatabase } from './support/commands.ts';
import { describeOnlyOn } from './support/database.ts';
import { createPerson, createWorld, type World } from './support/fixtures.ts';
import { codesOf, dataOf, startTestServer, type TestServer } from './support/server.ts';

let server: TestServer;
let world: World;

beforeAll(async () => {
  server = await startTestServer();
  world = await createWorld(server);
  adminSubject = subjectOf(world.admin.token);
  for (const person of [world.alice, world.bob]) {
    await endSession(server, person.token, await playSession(server, world, person.token, { Algebra: 'wrong' }));
  }
  const run = await server.request('mutation { runJob(job: NIGHTLY) { status } }', {}, world.admin.token);
  expect(run.data).toEqual({ runJob: { status: 'SUCCEEDED' } });
});
afterAll(async () => {
  await server?.stop();
});

/** The admin token's subject, as the erasure records it. */
const subjectOf = (token: string) =>
  (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub: string }).sub;
let adminSubject: string;

const ExportUser = 'query ExportUser($id: ID!) { exportUser(id: $id) }';
const EraseUser = 'mutation EraseUser($id: ID!) { eraseUser(id: $id) { id erasedAt counts } }';

/** The learner's rows left in each of their tables. */
async function rowsOf(userId: string): Promise<Record<string, number>> {
  const left: Record<string, number> = {};
  for (const { table, where } of await learnerTables(server.db.prisma)) {
    const [row] = await server.db.prisma.$queryRawUnsafe<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM "${table}" WHERE ${where}`,
      userId,
    );
    if (row!.n > 0) left[table] = row!.n;
  }
  return left;
}

test("every table is either a learner's (user_id, session_id) or named anonymous", async () => {
  const tables = await server.db.prisma.$queryRaw<{ name: string }[]>`
    SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`;
  const learner = (await learnerTables(server.db.prisma)).map((t) => t.table);
  const anonymous: readonly string[] = anonymousTables;
  for (const { name } of tables) {
    expect(learner.includes(name) !== anonymous.includes(name), `${name}: learner data, or anonymous?`).toBe(true);
  }
  expect(learner).toEqual(expect.arrayContaining(['users', 'sessions', 'attempts', 'masteries', 'plan_adjustments']));
});

describe('exportUser', () => {
  test("a learner's whole data, for the admin and for the learner themselves", async () => {
    type Exported = { exportUser: unknown };
    const own = dataOf(await server.request(ExportUser, { id: world.alice.id }, world.alice.token)) as Exported;
    const byAdmin = dataOf(await server.request(ExportUser, { id: world.alice.id }, world.admin.token)) as Exported;
    const document = own.exportUser as { userId: string; tables: Record<string, Record<string, unknown>[]> };
    expect(document.userId).toBe(world.alice.userId);
    expect((byAdmin.exportUser as typeof document).tables).toEqual(document.tables);
    expect(document.tables.users).toHaveLength(1);
    expect(document.tables.users![0]!.name).toBe('Alice Learner');
    for (const table of ['sessions', 'session_summaries', 'session_analytics', 'attempts', 'masteries']) {
      expect(document.tables[table]!.length, table).toBeGreaterThan(0);
    }
    for (const table of ['mastery_history', 'plan_adjustments', 'learning_patterns']) {
      expect(document.tables[table]!.length, table).toBeGreaterThan(0);
    }
    // Nothing of Bob's.
    expect(JSON.stringify(document)).not.toContain(world.bob.userId);
  });

  test('nobody else: a coach or another learner is FORBIDDEN', async () => {
    expect(codesOf(await server.request(ExportUser, { id: world.alice.id }, world.bob.token))).toEqual(['FORBIDDEN']);
    expect(codesOf(await server.request(ExportUser, { id: world.alice.id }, world.coach.token))).toEqual(['FORBIDDEN']);
  });
});

describe('eraseUser', () => {
  test('admin only', async () => {
    expect(codesOf(await server.request(EraseUser, { id: world.bob.id }, world.bob.token))).toEqual(['FORBIDDEN']);
    expect(codesOf(await server.request(EraseUser, { id: world.bob.id }, world.coach.token))).toEqual(['FORBIDDEN']);
  });

  test('deletes every row of the learner at once, keeps the aggregates, records who and how many', async () => {
    const questionStats = () =>
      server.db.prisma.question.aggregate({ _sum: { attemptsCount: true, correctCount: true } });
    const statsBefore = await questionStats();
    const usageBefore = await server.db.prisma.usageStat.findMany({ orderBy: { date: 'asc' } });
    const bobBefore = await rowsOf(world.bob.userId);
    const aliceBefore = await rowsOf(world.alice.userId);
    expect(aliceBefore.attempts).toBeGreaterThan(0);

    const { eraseUser } = dataOf(await server.request(EraseUser, { id: world.alice.id }, world.admin.token)) as {
      eraseUser: { id: string; counts: Record<string, number> };
    };
    expect(eraseUser.counts).toEqual(aliceBefore);
    expect(await rowsOf(world.alice.userId)).toEqual({});
    expect(await rowsOf(world.bob.userId)).toEqual(bobBefore);
    expect(await questionStats()).toEqual(statsBefore);
    expect(await server.db.prisma.usageStat.findMany({ orderBy: { date: 'asc' } })).toEqual(usageBefore);

    const [record] = await server.db.prisma.erasure.findMany();
    expect(record).toMatchObject({ erasedBy: adminSubject, counts: aliceBefore });
    expect(JSON.stringify(record)).not.toMatch(new RegExp(`${world.alice.userId}|Alice|example\\.com`));

    // Once erased, nothing finds the learner: a second erasure, the export, a query, a job.
    expect(codesOf(await server.request(EraseUser, { id: world.alice.id }, world.admin.token))).toEqual(['NOT_FOUND']);
    expect(codesOf(await server.request(ExportUser, { id: world.alice.id }, world.admin.token))).toEqual(['NOT_FOUND']);
    expect(
      codesOf(
        await server.request('query($id: ID!) { user(id: $id) { id } }', { id: world.alice.id }, world.admin.token),
      ),
    ).toEqual(['NOT_FOUND']);
    const users = dataOf(
      await server.request('{ users(first: 100) { edges { node { id } } } }', {}, world.admin.token),
    );
    expect(JSON.stringify(users)).not.toContain(world.alice.id);
    const run = await server.request('mutation { runJob(job: PATTERNS) { status } }', {}, world.admin.token);
    expect(run.data).toEqual({ runJob: { status: 'SUCCEEDED' } });
    expect(await rowsOf(world.alice.userId)).toEqual({});
  });
});

describe("an erased learner's token, still remembered by the server", () => {
  test('is UNAUTHENTICATED at once, over HTTP and WebSocket, for reads and writes alike', async () => {
    const dora = await createPerson(server, world.admin.token, 'Dora Erased');
    const sessionId = await playSession(server, world, dora.token, { Algebra: 'right' });
    // Her token and subject are now remembered (src/context.ts): the erasure must not leave a window
    // in which they name a user who is gone.
    expect(dataOf(await server.request('{ me { id } }', {}, dora.token))).toEqual({ me: { id: dora.id } });
    dataOf(await server.request(EraseUser, { id: dora.id }, world.admin.token));

    const question = world.questions[0]!;
    const attempt = {
      questionId: question.id,
      userAnswer: question.answer,
      timeSec: 9,
      context: 'PRACTICE',
      clientAttemptId: randomUUID(),
    };
    const requests: [string, Record<string, unknown>][] = [
      ['{ me { id name } }', {}],
      ['query($id: ID!) { user(id: $id) { id } }', { id: dora.id }],
      ['mutation { startSession(input: { units: ["Algebra"] }) { id } }', {}],
      ['mutation($input: RecordAttemptInput!) { recordAttempt(input: $input) { id } }', { input: attempt }],
      ['mutation($id: ID!) { endSession(id: $id) { id } }', { id: sessionId }],
      ['query($id: ID!) { exportUser(id: $id) }', { id: dora.id }],
    ];
    for (const [query, variables] of requests) {
      const response = await server.request(query, variables, dora.token);
      expect(codesOf(response), query).toEqual(['UNAUTHENTICATED']);
      expect(Object.values(response.data ?? {}), query).not.toContainEqual(expect.anything());
    }
    // A bad token closes a graphql-ws connection with 4401 (src/websocket.ts).
    const socket = wsClient(server.url, dora.token);
    try {
      const subscription = wsSubscribe(socket, RealtimePlanAdjusted, { userId: dora.id });
      await subscription.inbox.untilEnded(5_000);
      expect(socket.closes.map((c) => c.code)).toEqual([4401]);
    } finally {
      await socket.dispose();
    }
    expect(await rowsOf(dora.userId)).toEqual({});
  });

  test('erased where this server does not hear of it (the CLI): clear codes, never an internal error', async () => {
    const erin = await createPerson(server, world.admin.token, 'Erin Elsewhere');
    const sessionId = await playSession(server, world, erin.token, { Algebra: 'right' });
    expect(dataOf(await server.request('{ me { id } }', {}, erin.token))).toEqual({ me: { id: erin.id } });
    // As `npm run erase` beside a PostgreSQL server does: no event reaches this server.
    await eraseLearner(server.db, erin.userId, 'cli');

    const question = world.questions[0]!;
    const attempt = { questionId: question.id, userAnswer: 'x', timeSec: 9, clientAttemptId: randomUUID() };
    const requests: [string, Record<string, unknown>, string][] = [
      // The token names nobody: UNAUTHENTICATED while it is still remembered, as after.
      ['{ me { id name } }', {}, 'UNAUTHENTICATED'],
      ['mutation { startSession(input: { units: ["Algebra"] }) { id } }', {}, 'UNAUTHENTICATED'],
      [
        'mutation($input: RecordAttemptInput!) { recordAttempt(input: $input) { id } }',
        { input: { ...attempt, context: 'PRACTICE' } },
        'UNAUTHENTICATED',
      ],
      // Her rows are gone.
      [
        'mutation($input: RecordAttemptInput!) { recordAttempt(input: $input) { id } }',
        { input: { ...attempt, sessionId } },
        'NOT_FOUND',
      ],
      ['mutation($id: ID!) { endSession(id: $id) { id } }', { id: sessionId }, 'NOT_FOUND'],
      ['query($id: ID!) { exportUser(id: $id) }', { id: erin.id }, 'NOT_FOUND'],
    ];
    for (const [query, variables, code] of requests) {
      const response = await server.request(query, variables, erin.token);
      // Within the 4 s the subject is remembered, or after: either way a clear code.
      expect([[code], ['UNAUTHENTICATED']], query).toContainEqual(codesOf(response));
    }
    expect(await rowsOf(erin.userId)).toEqual({});
  });
});

// Only PostgreSQL runs an erasure and a request at the same time (PGlite runs one transaction at a time).
describeOnlyOn('postgres', 'an erasure racing a request', () => {
  test('an attempt and a session start that waited for it are UNAUTHENTICATED, not internal errors', async () => {
    const fay = await createPerson(server, world.admin.token, 'Fay Racing');
    await playSession(server, world, fay.token, { Algebra: 'right' });
    // The erasure's transaction, held open: it has locked and deleted Fay's rows, not yet committed.
    const eraser = await server.db.connect();
    try {
      await eraser.exec('BEGIN');
      await eraser.query('SELECT id FROM users WHERE id = $1::uuid FOR UPDATE', [fay.userId]);
      for (const { table, where } of await learnerTables(server.db.prisma)) {
        await eraser.query(`DELETE FROM "${table}" WHERE ${where}`, [fay.userId]);
      }
      const question = world.questions[0]!;
      const input = {
        questionId: question.id,
        userAnswer: 'x',
        timeSec: 9,
        context: 'PRACTICE',
        clientAttemptId: 'r1',
      };
      const requests = [
        server.request(
          'mutation($input: RecordAttemptInput!) { recordAttempt(input: $input) { id } }',
          { input },
          fay.token,
        ),
        server.request('mutation { startSession(input: { units: ["Algebra"] }) { id } }', {}, fay.token),
      ];
      // Both wait for the erasure's locks.
      await waitFor('the requests to wait for a lock', async () => {
        const [row] = await server.db.prisma.$queryRaw<{ n: number }[]>`
          SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock'`;
        return row!.n >= 2;
      });
      await eraser.exec('COMMIT');
      for (const response of await Promise.all(requests)) expect(codesOf(response)).toEqual(['UNAUTHENTICATED']);
    } finally {
      await eraser.exec('ROLLBACK').catch(() => {});
      await eraser.release();
    }
    expect(await rowsOf(fay.userId)).toEqual({});
  });
});

test('npm run export and npm run erase', { timeout: 120_000 }, async () => {
  const cli = await commandDatabase('erasure');
  try {
    const db = await openDatabase(cli.database);
    try {
      await db.prisma.user.create({ data: { name: 'Cleo Cli', email: 'cleo@example.com' } });
    } finally {
      await db.close();
    }
    const exported = await cli.run('export', 'cleo@example.com');
    expect(exported.code, exported.stderr).toBe(0);
    const document = JSON.parse(exported.stdout) as { tables: { users: { email: string }[] } };
    expect(document.tables.users).toEqual([expect.objectContaining({ email: 'cleo@example.com' })]);
    const erased = await cli.run('erase', 'cleo@example.com');
    expect(erased.code, erased.stderr).toBe(0);
    expect(erased.stdout).toMatch(/^erased cleo@example\.com: users=1 \(erasure [\w-]+ at [\dT:.Z-]+\)\n$/);
    const again = await cli.run('erase', 'cleo@example.com');
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/no user cleo@example\.com \(erased already, or never there\)/);
  } finally {
    await cli.destroy();
  }
});
