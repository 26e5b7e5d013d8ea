// Benchmark of the recordAttempt mutation against the framework's ceiling and the database's floor.
//
//   npm run bench:attempts [-- --only postgres|pglite] [--seconds 10] [--concurrency 32] [--warmup 2]
//
// For each backend (a fresh PostgreSQL database ll_bench_<random> on BENCH_DATABASE_URL, dropped at
// the end; then in-memory PGlite) it seeds 200 questions and 64 learners with a session each
// directly through Prisma, starts the real server (createApp) on 127.0.0.1, and measures with
// `--concurrency` closed-loop clients for `--seconds` after a `--warmup`:
//   1. recordAttempt over HTTP — a new clientAttemptId each time, a random question, the learner's own session;
//   2. `mutation { __typename }` over HTTP on the same server with the same token: the same Yoga
//      plugins (GraphQL Armor, error coding, masking), the same context factory (JWT check,
//      cached user lookup) and the same Pothos schema, but no resolver: the framework's ceiling;
//   3. a bare parameterised INSERT of one attempt row: through its own pg.Pool of `--concurrency`
//      connections on PostgreSQL, through the PGlite instance itself (pglite.query) on PGlite: the floor.
// and two diagnostic rows (marked ·) that split the gap: the recordAttempt service called in-process
// (what the resolver does, without HTTP/Yoga/Pothos) and the same bare INSERT through Prisma
// ($executeRawUnsafe). The HTTP load runs in a worker thread; the in-process rows necessarily run on
// the server's thread. Besides rates and latencies it reports, per request, the CPU the server's
// thread and the local PostgreSQL processes really used (from /proc), and the SQL statements one
// recordAttempt sends (counted on a second, logging server). `--profile DIR` writes a CPU profile of
// the main thread per measured window (summarise with `npx tsx bench/profile-summary.ts DIR/*.cpuprofile`);
// Exits 1 if a measurement had errors (a benchmark miss is not an error).
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { Database } from '../src/db/client.ts';
import { createScratchDatabase } from '../src/db/scratch-database.ts';
import { defaultLearnerModelParameters } from '../src/domain/learner-model.ts';
import { encodeGlobalId } from '../src/ids.ts';
import { cleanupMark, defer, unwind } from './cleanup.ts';
import { isLocalHost, machineTimes, mainThreadTimes, postgresDelta, postgresTimes } from './cpu.ts';
import type { BenchLearner, BenchQuestion } from './http-worker.ts';
import { type LoadOptions, type LoadResult, partition, runLoad, type Summary, summarize } from './load.ts';
import { type Backend, benchDatabaseUrl, parseBenchOptions } from './options.ts';
import { runInWorker, type Seeded, seed, startWorker } from './setup.ts';

const {
  createApp,
  createEventBus,
  createLogger,
  graphqlPath,
  loadJobsConfig,
  openDatabase,
  recordAttempt,
  secretKey,
  signToken,
} = await import('./app.ts');
const { recordAttemptDocument, trivialDocument } = await import('./http-worker.ts');

// ---------------------------------------------------------------------------------------------
// Options

const options = parseBenchOptions(
  'usage: npm run bench:attempts -- [--only postgres|pglite] [--seconds N=10] [--concurrency N=32] [--warmup S=2]\n' +
    '                                  [--profile DIR]\n' +
    '  --profile DIR: write a CPU profile of the main thread over each measured window to DIR\n' +
    '                 (summarise with bench/profile-summary.ts)',
  {
    only: { type: 'string' },
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '32' },
    warmup: { type: 'string', default: '2' },
    profile: { type: 'string' },
  },
);
const args = options.values;
const backends = options.backends(args.only);
const load: LoadOptions = {
  concurrency: options.number('concurrency', args.concurrency),
  durationMs: options.number('seconds', args.seconds, { integer: false }) * 1000,
  warmupMs: options.number('warmup', args.warmup, { min: 0, integer: false }) * 1000,
};
const baseUrl = benchDatabaseUrl;
const counts = { questions: 200, learners: 64 };
const profileDir = args.profile ? path.resolve(args.profile) : null;
if (profileDir) mkdirSync(profileDir, { recursive: true });

// ---------------------------------------------------------------------------------------------
// Measurements

interface Row {
  name: string;
  role: 'subject' | 'ceiling' | 'diagnostic' | 'floor';
  summary: Summary;
  errorSamples: string[];
  /** Event-loop utilisation of the main thread (server, Prisma) during the measured window. */
  elu: number;
  /** CPU of the main thread, in cores (Linux; NaN elsewhere). */
  mainCores: { user: number; sys: number };
  /** CPU of the PostgreSQL processes on this machine, in cores (NaN when not visible or PGlite). */
  databaseCores: number;
  /** CPU of the whole machine (including PostgreSQL), 0…1. */
  machineBusy: number;
}

const databaseIsLocal = isLocalHost(baseUrl);

async function measure(
  name: string,
  role: Row['role'],
  run: (onWindowStart: () => void) => Promise<LoadResult>,
): Promise<Row> {
  process.stdout.write(`  ${name} … `);
  // Resource use is sampled over the measured window: from the end of the warm-up, by a timer, or
  // by the load itself when it keeps the event loop from running timers (PGlite answers without
  // ever yielding to it).
  type Sample = {
    elu: ReturnType<typeof performance.eventLoopUtilization>;
    main: ReturnType<typeof mainThreadTimes>;
    database: Map<number, number> | null;
    machine: ReturnType<typeof machineTimes>;
    at: number;
  };
  const window: { from?: Sample } = {};
  const profiler = profileDir ? new Session() : null;
  const sample = () => {
    if (window.from) return;
    window.from = {
      elu: performance.eventLoopUtilization(),
      main: mainThreadTimes(),
      database: currentBackend === 'postgres' && databaseIsLocal ? postgresTimes() : null,
      machine: machineTimes(),
      at: performance.now(),
    };
    if (profiler) {
      profiler.connect();
      profiler.post('Profiler.enable');
      profiler.post('Profiler.start');
    }
  };
  const timer = setTimeout(sample, load.warmupMs);
  const result = await run(sample);
  clearTimeout(timer);
  const start = window.from;
  const elu = start ? performance.eventLoopUtilization(start.elu).utilization : Number.NaN;
  const main = mainThreadTimes();
  const database = start?.database ? postgresTimes() : null;
  const machine = machineTimes();
  const wallMs = start ? performance.now() - start.at : Number.NaN;
  if (profiler && start) await writeProfile(profiler, `${currentBackend}-${name}`);
  const summary = summarize(result);
  console.log(
    `${Math.round(summary.perSecond).toLocaleString('en')} req/s${summary.errors ? `, ${summary.errors} errors` : ''}`,
  );
  return {
    name,
    role,
    summary,
    errorSamples: result.errorSamples,
    elu,
    mainCores:
      start?.main && main
        ? { user: (main.user - start.main.user) / (wallMs / 1000), sys: (main.sys - start.main.sys) / (wallMs / 1000) }
        : { user: Number.NaN, sys: Number.NaN },
    databaseCores: start?.database && database ? postgresDelta(start.database, database) / (wallMs / 1000) : Number.NaN,
    machineBusy: start ? (machine.busy - start.machine.busy) / (machine.total - start.machine.total) : Number.NaN,
  };
}

let currentBackend = '';

function writeProfile(profiler: Session, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    profiler.post('Profiler.stop', (error, result) => {
      profiler.disconnect();
      if (error) return reject(error);
      const file = path.join(profileDir!, `${name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}.cpuprofile`);
      writeFileSync(file, JSON.stringify(result.profile));
      resolve();
    });
  });
}

const floorSql = `INSERT INTO attempts (user_id, question_id, session_id, attempt_no, context, user_answer, correct,
                      time_sec, hint_used, answered_at, client_attempt_id)
VALUES ($1::uuid, $2::uuid, $3::uuid, $4, 'SESSION', $5, $6, $7, $8, $9::timestamptz, $10)`;

/** Parameters of one bare attempt row; attempt numbers from 1,000,000 up never meet recordAttempt's. */
function floorRow(seeded: Seeded, loop: number, sequence: number, tag: string): unknown[] {
  const learner = seeded.learners[loop % seeded.learners.length]!;
  const question = seeded.questions[Math.floor(Math.random() * seeded.questions.length)]!;
  const answer = question.options[Math.floor(Math.random() * question.options.length)]!;
  return [
    learner.userId,
    question.id,
    learner.sessionId,
    1_000_000 + sequence,
    answer,
    false,
    12.5,
    false,
    new Date().toISOString(),
    `${tag}-${sequence}`,
  ];
}

interface StatementCounts {
  recordAttempt: string[];
  trivial: string[];
}

/**
 * The SQL one request sends once the server is warm (the authenticator caches known users), on a
 * second server whose Prisma client reports its queries — the measured one does not log.
 */
async function countStatements(
  backend: Backend,
  url: string | null,
  seeded: Seeded | null,
  key: Uint8Array,
): Promise<StatementCounts> {
  const statements: string[] = [];
  const onQuery = (sql: string) => statements.push(sql.replace(/\s+/g, ' ').trim());
  const mark = cleanupMark();
  try {
    let db: Database;
    if (backend === 'postgres') {
      db = await openDatabase({ kind: 'postgres', url: url!, poolSize: 2 }, { migrate: false, onQuery });
    } else {
      db = await openDatabase({ kind: 'pglite', dataDir: null }, { onQuery });
      seeded = await seed(db, 4, 1);
    }
    defer('probe database', () => db.close());
    const bus = createEventBus(null, createLogger('silent'));
    const app = createApp({ db, pubsub: bus.pubsub, log: createLogger('silent'), jobs: loadJobsConfig(), key });
    const endpoint = `${await app.start(0, '127.0.0.1')}${graphqlPath}`;
    defer('probe server', async () => {
      await app.stop();
      await bus.close();
    });
    const learner = seeded!.learners[0]!;
    const token = await signToken(key, { userId: learner.userId, role: 'LEARNER' });
    const send = async (query: string, variables?: unknown) => {
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { errors?: unknown };
      if (body.errors) throw new Error(`probe request failed: ${JSON.stringify(body.errors)}`);
    };
    const attempt = (n: number) => ({
      input: {
        sessionId: encodeGlobalId('Session', learner.sessionId),
        questionId: encodeGlobalId('Question', seeded!.questions[0]!.id),
        userAnswer: 'x',
        timeSec: 3,
        clientAttemptId: `probe-${n}`,
      },
    });
    await send(recordAttemptDocument, attempt(1)); // warms the authenticator's cache
    statements.length = 0;
    await send(recordAttemptDocument, attempt(2));
    const recordAttemptStatements = statements.splice(0);
    await send(trivialDocument);
    return { recordAttempt: recordAttemptStatements, trivial: statements.splice(0) };
  } finally {
    await unwind(mark);
  }
}

interface BackendReport {
  backend: Backend;
  label: string;
  rows: Row[];
  statements: StatementCounts;
}

async function createBenchDatabase(): Promise<string> {
  const scratch = await createScratchDatabase(baseUrl, 'll_bench');
  defer('drop the bench database', () => scratch.drop());
  return scratch.url;
}

async function benchBackend(backend: Backend): Promise<BackendReport> {
  const mark = cleanupMark();
  currentBackend = backend;
  try {
    const url = backend === 'postgres' ? await createBenchDatabase() : null;
    const db =
      backend === 'postgres'
        ? await openDatabase({ kind: 'postgres', url: url!, poolSize: 16 })
        : await openDatabase({ kind: 'pglite', dataDir: null });
    defer('database', () => db.close());
    console.log(`\n== ${db.label}${backend === 'postgres' ? ' (Prisma pool: 16 connections)' : ''}`);

    const seeded = await seed(db, counts.questions, counts.learners);
    const key = secretKey(randomBytes(32).toString('base64url'));
    const learners: BenchLearner[] = await Promise.all(
      seeded.learners.map(async (l) => ({
        token: await signToken(key, { userId: l.userId, role: 'LEARNER' }),
        sessionId: encodeGlobalId('Session', l.sessionId),
      })),
    );
    const questions: BenchQuestion[] = seeded.questions.map((q) => ({
      id: encodeGlobalId('Question', q.id),
      options: q.options,
    }));
    console.log(
      `  seeded ${seeded.questions.length} questions, ${seeded.learners.length} learners with an open session each`,
    );

    const statements = await countStatements(backend, url, seeded, key);

    const log = createLogger(process.env.LOG_LEVEL ?? 'silent');
    const bus = createEventBus(null, log);
    const app = createApp({ db, pubsub: bus.pubsub, log, jobs: loadJobsConfig(), key });
    const endpoint = `${await app.start(0, '127.0.0.1')}${graphqlPath}`;
    defer('server', async () => {
      await app.stop();
      await bus.close();
    });
    const worker = await startWorker();
    defer('load worker', () => worker.terminate());

    const rows: Row[] = [];
    const job = { ...load, endpoint, learners, questions };
    rows.push(
      await measure('recordAttempt (HTTP)', 'subject', () => runInWorker(worker, { ...job, kind: 'recordAttempt' })),
    );
    rows.push(
      await measure('mutation { __typename } (HTTP)', 'ceiling', () =>
        runInWorker(worker, { ...job, kind: 'trivial' }),
      ),
    );

    // Diagnostics, in-process: what the resolver does, without HTTP, Yoga and Pothos…
    const owned = partition(seeded.learners, load.concurrency);
    const turns = new Array<number>(load.concurrency).fill(0);
    const serviceTag = randomBytes(4).toString('hex');
    let serviceSequence = 0;
    rows.push(
      await measure('· service in-process (no HTTP/GraphQL)', 'diagnostic', (onWindowStart) =>
        runLoad({ ...load, onWindowStart }, async (loop) => {
          const mine = owned[loop]!;
          const learner = mine[turns[loop]!++ % mine.length]!;
          const question = seeded.questions[Math.floor(Math.random() * seeded.questions.length)]!;
          await recordAttempt(
            db,
            { subject: learner.userId, userId: learner.userId, role: 'LEARNER' },
            {
              sessionId: learner.sessionId,
              questionId: question.id,
              userAnswer: question.options[Math.floor(Math.random() * question.options.length)]!,
              options: question.options,
              timeSec: Math.round(Math.random() * 900) / 10,
              hintUsed: false,
              context: 'SESSION',
              answeredAt: new Date(),
              clientAttemptId: `${serviceTag}-${serviceSequence++}`,
            },
            defaultLearnerModelParameters,
          );
          return null;
        }),
      ),
    );
    // …and the bare INSERT through Prisma.
    let sequence = 0;
    const prismaTag = randomBytes(4).toString('hex');
    rows.push(
      await measure('· bare INSERT via Prisma $executeRaw', 'diagnostic', (onWindowStart) =>
        runLoad({ ...load, onWindowStart }, async (loop) => {
          const count = await db.prisma.$executeRawUnsafe(floorSql, ...floorRow(seeded, loop, sequence++, prismaTag));
          return count === 1 ? null : `inserted ${count} rows`;
        }),
      ),
    );

    // The floor.
    const floorTag = randomBytes(4).toString('hex');
    if (backend === 'postgres') {
      const pool = new pg.Pool({ connectionString: url!, max: load.concurrency });
      pool.on('error', () => {});
      defer('floor pool', () => pool.end());
      rows.push(
        await measure(`bare INSERT via pg.Pool(${load.concurrency})`, 'floor', (onWindowStart) =>
          runLoad({ ...load, onWindowStart }, async (loop) => {
            const result = await pool.query(floorSql, floorRow(seeded, loop, sequence++, floorTag));
            return result.rowCount === 1 ? null : `inserted ${result.rowCount} rows`;
          }),
        ),
      );
    } else {
      // db.connect() on PGlite hands out the PGlite instance's own query().
      const conn = await db.connect();
      defer('floor connection', () => conn.release());
      rows.push(
        await measure('bare INSERT via pglite.query', 'floor', (onWindowStart) =>
          runLoad({ ...load, onWindowStart }, async (loop) => {
            await conn.query(floorSql, floorRow(seeded, loop, sequence++, floorTag));
            return null;
          }),
        ),
      );
    }
    return { backend, label: db.label, rows, statements };
  } finally {
    await unwind(mark);
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const fmt = {
  int: (n: number) => Math.round(n).toLocaleString('en'),
  ms: (n: number) => (Number.isNaN(n) ? '–' : n < 10 ? n.toFixed(2) : n.toFixed(1)),
  pct: (n: number) => (Number.isNaN(n) ? '–' : `${Math.round(n * 100)}%`),
};

function table(headers: string[], body: string[][], leftColumns = 1): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)]
    .map((l) => `  ${l}`)
    .join('\n');
}

/** Microseconds of CPU per counted request, from cores used over the window. */
function perRequest(cores: number, row: Row, suffix = ''): string {
  if (Number.isNaN(cores) || row.summary.perSecond === 0) return '–';
  return `${fmt.int((cores * 1e6) / row.summary.perSecond)}${suffix ? ` ${suffix}` : ''}`;
}

function rates(report: BackendReport): Record<'subject' | 'ceiling' | 'floor', number> {
  const rate = (role: Row['role']) => report.rows.find((r) => r.role === role)?.summary.perSecond ?? Number.NaN;
  return { subject: rate('subject'), ceiling: rate('ceiling'), floor: rate('floor') };
}

function printReport(report: BackendReport): void {
  console.log(
    `\n${report.label}: ${load.concurrency} concurrent clients, ` +
      `${load.durationMs / 1000} s after ${load.warmupMs / 1000} s warm-up`,
  );
  console.log(
    table(
      [
        'measurement',
        'requests',
        'req/s',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'errors',
        'main ELU',
        'main CPU µs/req',
        'db CPU µs/req',
        'host CPU',
        'host µs/req',
      ],
      report.rows.map((r) => [
        r.name,
        fmt.int(r.summary.requests),
        fmt.int(r.summary.perSecond),
        fmt.ms(r.summary.p50),
        fmt.ms(r.summary.p95),
        fmt.ms(r.summary.p99),
        String(r.summary.errors),
        fmt.pct(r.elu),
        perRequest(r.mainCores.user + r.mainCores.sys, r, `(sys ${perRequest(r.mainCores.sys, r)})`),
        perRequest(r.databaseCores, r),
        fmt.pct(r.machineBusy),
        perRequest(r.machineBusy * os.cpus().length, r),
      ]),
    ),
  );
  for (const r of report.rows) {
    for (const sample of r.errorSamples) console.log(`  ! ${r.name}: ${sample}`);
  }
  const { subject, ceiling, floor } = rates(report);
  console.log(
    `  recordAttempt / trivial mutation: ${fmt.pct(subject / ceiling)}    ` +
      `recordAttempt / floor: ${fmt.pct(subject / floor)}`,
  );
  const show = (sql: string) => (sql.length > 110 ? `${sql.slice(0, 107)}…` : sql);
  console.log(
    `  SQL statements per request (warm): recordAttempt ${report.statements.recordAttempt.length}, ` +
      `trivial mutation ${report.statements.trivial.length}`,
  );
  for (const [i, sql] of report.statements.recordAttempt.entries()) console.log(`    ${i + 1}. ${show(sql)}`);
}

function targets(reports: BackendReport[]): { line: string; pass: boolean }[] {
  const lines: { line: string; pass: boolean }[] = [];
  for (const report of reports) {
    const { subject: record, ceiling: trivial } = rates(report);
    const name = report.backend === 'postgres' ? 'PostgreSQL' : 'PGlite';
    if (report.backend === 'postgres')
      lines.push({ line: `${name}: recordAttempt ≥ 1,000 req/s: ${fmt.int(record)} req/s`, pass: record >= 1000 });
    lines.push({
      line: `${name}: recordAttempt ≥ 40% of the trivial mutation: ${fmt.pct(record / trivial)}`,
      pass: record / trivial >= 0.4,
    });
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Main

const cpus = os.cpus();
console.log('Learnloop recordAttempt benchmark');
console.log(
  `  machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ` +
    `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.platform()} ${os.release()} ${os.arch()}`,
);
console.log(
  `  node ${process.version}, NODE_ENV=${process.env.NODE_ENV}, load average ${os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')}`,
);
console.log(
  '  server (Yoga, Pothos, Prisma) on the main thread; ' +
    'HTTP load from a worker thread of the same process (node:http, keep-alive);',
);
console.log(
  '  in-process rows (·, floor) run their loops on the main thread. ' +
    'The database server shares this machine when on localhost.',
);
console.log(
  '  main ELU: event-loop utilisation of the main thread (counts time it waits for a CPU inside a call as busy);',
);
console.log(
  '  main CPU µs/req: CPU time the main thread really ran per request (user+sys, from /proc); db: all local postgres',
);
console.log(
  '  processes (PostgreSQL only; PGlite runs on the main thread); ' +
    'host: all cores, load generator and other tenants included.',
);

const reports: BackendReport[] = [];
let failed = false;
try {
  for (const backend of backends) {
    if (backend === 'postgres') {
      const client = new pg.Client({ connectionString: baseUrl });
      await client.connect();
      const { rows } = await client.query<{ version: string }>('SELECT version()');
      await client.end();
      console.log(`\n  PostgreSQL server: ${rows[0]!.version.split(' on ')[0]} at ${new URL(baseUrl).host}`);
    }
    const report = await benchBackend(backend);
    reports.push(report);
    printReport(report);
  }
} catch (error) {
  failed = true;
  console.error(`\nbenchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
  await unwind();
}

if (reports.length > 0) {
  console.log('\nTargets');
  for (const t of targets(reports)) console.log(`  ${t.pass ? 'PASS' : 'MISS'}  ${t.line}`);
}
const errors = reports.flatMap((r) => r.rows).reduce((n, r) => n + r.summary.errors, 0);
if (errors > 0) console.log(`\n${errors} requests failed: see the ! lines above.`);
// Everything was closed above; exit explicitly so a stray handle cannot keep a benchmark run alive.
process.exit(failed || errors > 0 ? 1 : 0);
