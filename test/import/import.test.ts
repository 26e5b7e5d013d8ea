// The import end to end on a seeded export of the existing system: counts and session links, a
// second import that writes nothing, a corrupt row reported with its line, an interrupted import
// that resumes, the existing system's PostgreSQL read directly, and an xAPI round trip.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type LegacyLearner,
  legacyLearner,
  legacyQuestions,
  type SeedExportOptions,
  writeSeedExport,
} from '../../src/demo/seed-export.ts';
import { dropAttemptIndexesForFirstLoad } from '../../src/import/bulk.ts';
import { importConnection } from '../../src/import/connection.ts';
import { exportXapi } from '../../src/import/export-xapi.ts';
import { importTables } from '../../src/import/run.ts';
import { csvDirectory, postgresSource } from '../../src/import/sources.ts';
import { xapiFile } from '../../src/import/xapi-source.ts';
import {
  createEmptyPostgresDatabase,
  createTestDatabase,
  describeOnlyOn,
  type TestDatabase,
} from '../support/database.ts';

const options: SeedExportOptions = {
  learners: 24,
  attempts: 400,
  days: 12,
  end: new Date(Date.now() - 86_400_000),
  seed: 11,
  strayShare: 0.03,
};
const questions = legacyQuestions(options.seed);
const learners: LegacyLearner[] = Array.from({ length: options.learners }, (_, i) =>
  legacyLearner(i, questions, options),
);
const attempts = learners.flatMap((l) => l.attempts);
const sessions = learners.flatMap((l) => l.sessions);

let dir: string;
let db: TestDatabase;
const opened: TestDatabase[] = [];

async function freshDatabase(): Promise<TestDatabase> {
  const fresh = await createTestDatabase();
  opened.push(fresh);
  return fresh;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'learnloop-import-'));
  await writeSeedExport(path.join(dir, 'export'), options);
  db = await freshDatabase();
});
afterAll(async () => {
  for (const d of opened) await d.destroy();
  await rm(dir, { recursive: true, force: true });
});

const counts = async (d: TestDatabase) => ({
  users: await d.prisma.user.count(),
  questions: await d.prisma.question.count(),
  sessions: await d.prisma.session.count(),
  attempts: await d.prisma.attempt.count(),
  history: await d.prisma.masteryHistory.count({ where: { imported: true } }),
});

describe('import of the existing system’s CSV files', () => {
  test('every row lands, session attempts in the session that holds them', async () => {
    const report = await importTables(db, csvDirectory(path.join(dir, 'export')), { chunkSize: 100 });
    const history = learners.reduce((n, l) => n + l.history.length, 0);
    expect(report.refusals).toEqual([]);
    expect(report.tables).toEqual({
      users: { imported: learners.length, present: 0, skipped: 0, refused: 0 },
      questions: { imported: questions.length, present: 0, skipped: 0, refused: 0 },
      sessions: { imported: sessions.length, present: 0, skipped: 0, refused: 0 },
      attempts: { imported: attempts.length, present: 0, skipped: 0, refused: 0 },
      mastery_history: { imported: history, present: 0, skipped: 0, refused: 0 },
    });
    const strays = attempts.filter((a) => a.context === 'session' && a.sessionId === null);
    expect(strays.length).toBeGreaterThan(0);
    expect(report.unlinkedSessionAttempts).toBe(strays.length);
    expect(await counts(db)).toEqual({
      users: learners.length,
      questions: questions.length,
      sessions: sessions.length,
      attempts: attempts.length,
      history,
    });

    const stored = await db.prisma.attempt.findMany({
      select: {
        clientAttemptId: true,
        attemptNo: true,
        correct: true,
        context: true,
        recordedAt: true,
        answeredAt: true,
        session: { select: { clientSessionId: true } },
      },
    });
    const byId = new Map(stored.map((a) => [a.clientAttemptId, a]));
    for (const a of attempts) {
      const s = byId.get(`legacy:${a.id}`)!;
      expect(s.session?.clientSessionId ?? null).toBe(a.sessionId ? `legacy:${a.sessionId}` : null);
      expect([s.attemptNo, s.correct, s.context]).toEqual([a.attemptNo, a.correct, a.context.toUpperCase()]);
      expect(s.recordedAt.getTime()).toBe(a.createdAt.getTime());
      expect(s.answeredAt!.getTime()).toBe(a.createdAt.getTime());
    }
    const learner = learners[0]!;
    const user = await db.prisma.user.findUniqueOrThrow({ where: { email: learner.email } });
    expect([user.name, user.timezone, user.role]).toEqual([learner.name, learner.timezone, 'LEARNER']);
  }, 180_000);

  test('a second import of the same files writes nothing', async () => {
    const before = await counts(db);
    const report = await importTables(db, csvDirectory(path.join(dir, 'export')));
    for (const table of Object.values(report.tables)) expect(table.imported).toBe(0);
    expect(report.tables.attempts).toMatchObject({ present: attempts.length, refused: 0 });
    expect(await counts(db)).toEqual(before);
  }, 180_000);

  test('a record stored before is present without being mapped again, even one that would be refused now', async () => {
    const changed = path.join(dir, 'changed');
    await cp(path.join(dir, 'export'), changed, { recursive: true });
    const file = path.join(changed, 'attempts.csv');
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines[4] = lines[4]!.replace(',session,', ',homework,');
    expect(lines[4]).toContain(',homework,');
    await writeFile(file, lines.join('\n'));
    const before = await counts(db);
    const report = await importTables(db, csvDirectory(changed), { chunkSize: 40 });
    expect(report.refusals).toEqual([]);
    expect(report.tables.attempts).toMatchObject({ imported: 0, present: attempts.length, refused: 0 });
    expect(await counts(db)).toEqual(before);
  }, 180_000);

  test('a corrupt row is refused with its file, line and reason; the rest lands', async () => {
    const corrupt = path.join(dir, 'corrupt');
    await writeSeedExport(corrupt, options);
    const file = path.join(corrupt, 'attempts.csv');
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines[4] = lines[4]!.replace(',session,', ',homework,'); // line 5 of the file
    lines[9] = lines[9]!.replace(/,(true|false),(\d+),/, ',$1,-3,'); // line 10
    await writeFile(file, lines.join('\n'));
    const target = await freshDatabase();
    const report = await importTables(target, csvDirectory(corrupt), { chunkSize: 40 });
    expect(report.refusals).toEqual([
      { file: 'attempts.csv', line: 5, reason: 'context "homework" is not one of session, practice, daily' },
      { file: 'attempts.csv', line: 10, reason: 'time_sec "-3" is not a number in 0..86400' },
    ]);
    expect(report.tables.attempts).toMatchObject({ imported: attempts.length - 2, refused: 2 });
    expect(await target.prisma.attempt.count()).toBe(attempts.length - 2);
    // --max-errors stops once that many rows were refused.
    const stopped = await importTables(await freshDatabase(), csvDirectory(corrupt), { chunkSize: 5, maxErrors: 1 });
    expect(stopped.stopped).toBe(true);
    expect(stopped.refusals).toHaveLength(1);
  }, 180_000);

  test('a row the database refuses while copying, or an unreadable one, is refused alone with its line', async () => {
    const corrupt = path.join(dir, 'copy-refusal');
    await writeSeedExport(corrupt, options);
    const file = path.join(corrupt, 'attempts.csv');
    const lines = (await readFile(file, 'utf8')).split('\n');
    // Valid JSON that jsonb cannot hold (a NUL character), in the middle of a chunk.
    lines[6] = lines[6]!.replace(/,"\[[^\]]*\]",/, ',"[""\\u0000""]",'); // line 7
    // A broken quote: the reader skips the record and goes on at the next line.
    lines[12] = lines[12]!.replace(/,(true|false),/, ',tr"ue,'); // line 13
    await writeFile(file, lines.join('\n'));
    const target = await freshDatabase();
    const report = await importTables(target, csvDirectory(corrupt), { chunkSize: 100 });
    expect(report.refusals.map((r) => [r.file, r.line])).toEqual([
      ['attempts.csv', 7],
      ['attempts.csv', 13],
    ]);
    expect(report.refusals[0]!.reason).toMatch(/^options: unsupported Unicode escape sequence/);
    expect(report.refusals[1]!.reason).toBe('unreadable: a quote inside a field that does not start with one');
    expect(report.tables.attempts).toMatchObject({ imported: attempts.length - 2, refused: 2 });
    expect(await target.prisma.attempt.count()).toBe(attempts.length - 2);
    // Imported again: the refused rows are refused again, nothing else is written.
    const again = await importTables(target, csvDirectory(corrupt), { chunkSize: 100 });
    expect(again.tables.attempts).toMatchObject({ imported: 0, present: attempts.length - 2, refused: 2 });
  }, 180_000);

  test('an attempt numbered like another of its learner on the question is refused with its line', async () => {
    const numbered = path.join(dir, 'numbered');
    await writeSeedExport(numbered, options);
    const file = path.join(numbered, 'attempts.csv');
    const text = await readFile(file, 'utf8');
    const lines = text.trimEnd().split('\n');
    const [, user, question, number, rest] = /^[^,]*,([^,]*),([^,]*),([^,]*),(.*)$/.exec(lines[1]!)!;
    const copy = (id: string, attemptNo: string) => `${id},${user},${question},${attemptNo},${rest}`;
    // Line 2's number again (stored by an earlier chunk), then a new number twice in one chunk.
    const added = [copy('dup-1', number!), copy('dup-2', '999'), copy('dup-3', '999')];
    await writeFile(file, `${[...lines, ...added].join('\n')}\n`);
    const target = await freshDatabase();
    const report = await importTables(target, csvDirectory(numbered), { chunkSize: 100 });
    const taken = (attemptNo: string) =>
      `attempt_no ${attemptNo} of this learner on this question is another attempt's`;
    expect(report.refusals).toEqual([
      { file: 'attempts.csv', line: lines.length + 1, reason: taken(number!) },
      { file: 'attempts.csv', line: lines.length + 3, reason: taken('999') },
    ]);
    expect(report.tables.attempts).toMatchObject({ imported: attempts.length + 1, present: 0, refused: 2 });
    const again = await importTables(target, csvDirectory(numbered), { chunkSize: 100 });
    expect(again.tables.attempts).toMatchObject({ imported: 0, present: attempts.length + 1, refused: 2 });
  }, 180_000);

  test('a first load goes without the primary key, indexes and foreign keys of attempts, then adds them', async () => {
    const target = await freshDatabase();
    const schema = async () =>
      (
        await target.prisma.$queryRaw<{ name: string }[]>`
          SELECT indexname AS name FROM pg_indexes WHERE tablename = 'attempts'
          UNION ALL SELECT conname FROM pg_constraint WHERE conrelid = 'attempts'::regclass
          ORDER BY 1`
      ).map((r) => r.name);
    const migrated = await schema();
    expect(migrated).toContain('attempts_user_id_recorded_at_idx');
    expect(migrated).toContain('attempts_session_id_fkey');
    expect(migrated).toContain('attempts_pkey');
    let during: string[] = [];
    await importTables(target, csvDirectory(path.join(dir, 'export')), {
      chunkSize: 100,
      onChunk: async (table) => {
        if (table.name === 'attempts' && during.length === 0) during = await schema();
      },
    });
    expect(during).not.toContain('attempts_user_id_recorded_at_idx');
    expect(during).not.toContain('attempts_session_id_fkey');
    expect(during).not.toContain('attempts_pkey');
    // The unique indexes stay: they decide what is present and which attempt_no is taken.
    expect(during).toContain('attempts_user_id_client_attempt_id_key');
    expect(during).toContain('attempts_user_id_question_id_attempt_no_key');
    expect(await schema()).toEqual(migrated);
    // Attempts stored: a load goes with every index and key.
    const conn = await importConnection(target);
    try {
      expect(await dropAttemptIndexesForFirstLoad(conn)).toBe(false);
    } finally {
      await conn.release();
    }
    expect(await schema()).toEqual(migrated);
    // A process killed during a first load leaves them out: the next import (or rebuild) puts them back first.
    await target.prisma.$executeRawUnsafe('DROP INDEX attempts_user_id_recorded_at_idx');
    await target.prisma.$executeRawUnsafe('ALTER TABLE attempts DROP CONSTRAINT attempts_session_id_fkey');
    await target.prisma.$executeRawUnsafe('ALTER TABLE attempts DROP CONSTRAINT attempts_pkey');
    await importTables(target, csvDirectory(path.join(dir, 'export')));
    expect(await schema()).toEqual(migrated);
  }, 180_000);

  test('an interrupted import resumes where it stopped', async () => {
    const target = await freshDatabase();
    let chunks = 0;
    await expect(
      importTables(target, csvDirectory(path.join(dir, 'export')), {
        chunkSize: 50,
        onChunk: (table) => {
          if (table.name === 'attempts' && ++chunks === 3) throw new Error('the process was killed');
        },
      }),
    ).rejects.toThrow('killed');
    expect(await target.prisma.attempt.count()).toBe(150);
    const resumed = await importTables(target, csvDirectory(path.join(dir, 'export')), { chunkSize: 50 });
    expect(resumed.tables.attempts).toMatchObject({ imported: attempts.length - 150, present: 150, refused: 0 });
    expect(await counts(target)).toEqual(await counts(db));
  }, 180_000);
});

describeOnlyOn('postgres', 'import from the existing system’s PostgreSQL', () => {
  test('the same tables read directly import as the CSV files do, and under one source name only once', async () => {
    const legacy = await createEmptyPostgresDatabase('ll_legacy');
    const client = new pg.Client({ connectionString: legacy.url });
    await client.connect();
    try {
      // The existing system's schema (../shared/seed/), users and questions as the import describes them.
      await client.query(`
        CREATE TABLE users (id UUID PRIMARY KEY, name TEXT, email TEXT, timezone TEXT, role TEXT);
        CREATE TABLE questions (id UUID PRIMARY KEY, category TEXT, subcategory TEXT, difficulty_band TEXT,
          answer TEXT, options JSON);
        CREATE TABLE sessions (id UUID PRIMARY KEY, user_id UUID REFERENCES users(id),
          started_at TIMESTAMP DEFAULT NOW(), ended_at TIMESTAMP NULL, duration_sec INTEGER NULL,
          units JSON DEFAULT '[]', notes TEXT NULL);
        CREATE TABLE attempts (id UUID PRIMARY KEY, user_id UUID REFERENCES users(id),
          question_id UUID REFERENCES questions(id), attempt_no INTEGER NOT NULL, context VARCHAR(20) NOT NULL,
          options JSON, user_answer TEXT NOT NULL, correct BOOLEAN NOT NULL, time_sec INTEGER NOT NULL,
          hint_used BOOLEAN DEFAULT FALSE, created_at TIMESTAMP DEFAULT NOW());
        CREATE TABLE mastery_history (id UUID PRIMARY KEY, user_id UUID REFERENCES users(id),
          subcategory VARCHAR(100) NOT NULL, mastery_score NUMERIC(3,2), recorded_date DATE NOT NULL,
          created_at TIMESTAMP DEFAULT NOW());`);
      // The CSV rows as the existing system holds them: json_populate_recordset casts each text to its
      // column's type.
      for (const table of ['users', 'questions', 'sessions', 'attempts', 'mastery_history']) {
        const records: Record<string, string>[] = parse(await readFile(path.join(dir, 'export', `${table}.csv`)), {
          columns: true,
        });
        const rows = records.map((r) =>
          Object.fromEntries(
            Object.entries(r).map(([k, v]) => [
              k,
              v === '' ? null : k === 'units' || k === 'options' ? JSON.parse(v) : v,
            ]),
          ),
        );
        await client.query(`INSERT INTO ${table} SELECT * FROM json_populate_recordset(NULL::${table}, $1::json)`, [
          JSON.stringify(rows),
        ]);
      }
    } finally {
      await client.end();
    }
    try {
      const target = await freshDatabase();
      const report = await importTables(target, postgresSource(legacy.url), { chunkSize: 100 });
      expect(report.refusals).toEqual([]);
      expect(report.unlinkedSessionAttempts).toBe(
        attempts.filter((a) => a.context === 'session' && !a.sessionId).length,
      );
      expect(await counts(target)).toEqual(await counts(db));
      // The database into which the CSV files went: the same source, nothing new.
      const again = await importTables(db, postgresSource(legacy.url));
      for (const table of Object.values(again.tables)) expect(table.imported).toBe(0);
    } finally {
      await legacy.drop();
    }
  }, 180_000);
});

/** The attempt log of `db` as xAPI statements (JSON lines), and how many. */
async function exportedStatements(): Promise<{ text: string; written: number }> {
  let text = '';
  const written = await exportXapi(
    db,
    { from: null, to: null },
    new Writable({
      write(chunk, _encoding, done) {
        text += chunk.toString();
        done();
      },
    }),
  );
  return { text, written };
}

describe('xAPI', () => {
  test('export, then import into an empty database, reproduces the attempts', async () => {
    const file = path.join(dir, 'statements.jsonl');
    const { text, written } = await exportedStatements();
    expect(written).toBe(attempts.length);
    // A statement of another verb is counted and skipped.
    const completed = JSON.parse(text.split('\n')[0]!);
    completed.id = '00000000-0000-4000-8000-000000000000';
    completed.verb = { id: 'http://adlnet.gov/expapi/verbs/completed' };
    await writeFile(file, `${text}${JSON.stringify(completed)}\n`);
    const target = await freshDatabase();
    const report = await importTables(target, xapiFile(file), { chunkSize: 64 });
    expect(report.refusals).toEqual([]);
    expect(report.tables.statements).toEqual({ imported: attempts.length, present: 0, skipped: 1, refused: 0 });
    const shape = async (d: TestDatabase) =>
      (
        await d.prisma.attempt.findMany({
          include: { user: true, question: true, session: true },
          orderBy: [{ answeredAt: 'asc' }, { user: { email: 'asc' } }],
        })
      ).map((a) => ({
        email: a.user.email,
        timezone: a.user.timezone,
        question: [a.question.externalId, a.question.subcategory, a.question.difficultyBand, a.question.answer],
        attempt: [a.attemptNo, a.context, a.userAnswer, a.correct, a.timeSec, a.hintUsed, a.answeredAt?.toISOString()],
        session: a.session && [a.session.startedAt.toISOString(), a.session.endedAt?.toISOString(), a.session.units],
      }));
    const original = await shape(db);
    const copy = await shape(target);
    // Sessions carry their bounds; their units are not in the statements.
    expect(copy.map((a) => ({ ...a, session: a.session?.slice(0, 2) ?? null }))).toEqual(
      original.map((a) => ({ ...a, session: a.session?.slice(0, 2) ?? null })),
    );
    // Once more: nothing new.
    const again = await importTables(target, xapiFile(file));
    expect(again.tables.statements).toMatchObject({ imported: 0, present: attempts.length, skipped: 1 });
  }, 180_000);

  test('a statement the database refuses while copying is refused alone with its line', async () => {
    const file = path.join(dir, 'statements-nul.jsonl');
    const { text } = await exportedStatements();
    const lines = text.trimEnd().split('\n').slice(0, 3);
    const statement = JSON.parse(lines[1]!);
    statement.result.response = 'a\u0000b'; // a NUL character: text cannot hold it
    lines[1] = JSON.stringify(statement);
    await writeFile(file, `${lines.join('\n')}\n`);
    const target = await freshDatabase();
    const report = await importTables(target, xapiFile(file));
    expect(report.refusals.map((r) => r.line)).toEqual([2]);
    expect(report.refusals[0]!.reason).toMatch(/: invalid byte sequence for encoding "UTF8": 0x00/);
    expect(report.tables.statements).toMatchObject({ imported: 2, refused: 1 });
    expect(await target.prisma.attempt.count()).toBe(2);
  }, 180_000);
});
