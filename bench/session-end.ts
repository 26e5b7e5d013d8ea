// Benchmark of endSession: summary + analytics + storing them + tomorrow's plan adjustment, in the
// one transaction that ends the session (SPEC 4.1, 4.2; issue 4: target p95 < 50 ms at 200 attempts).
//
//   npm run bench:session-end [-- --sessions 200] [--sizes 50,200] [--warmup 20] [--concurrency 1]
//
// On a fresh PostgreSQL database ll_bench_<random> on BENCH_DATABASE_URL (created here, dropped at the
// end, also on Ctrl-C) it seeds 240 questions over 8 subcategories, one learner per session (with
// masteries in half the subcategories) and, for each session size, open sessions whose attempts are
// inserted directly with one INSERT … SELECT (recordAttempt is measured by bench:attempts). Then, per
// size, it ends `--warmup` sessions unmeasured and `--sessions` sessions measured:
//   1. endSession over HTTP on the real server (createApp on 127.0.0.1: Yoga, Armor, JWT, Pothos),
//      asking for what a client shows (endedAt, durationSec, summary, analytics);
//   2. the endSession service in-process on as many other sessions (no HTTP/GraphQL): the split.
// `--concurrency` clients end sessions at once (default 1: latency without queueing).
// Latencies are wall-clock per request; percentiles are nearest-rank. Exits 1 if a request failed
// or a session was left without its summary (a missed target is reported, not an error).
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { createScratchDatabase } from '../src/db/scratch-database.ts';
import { answerKey } from '../src/domain/grading.ts';
import { encodeGlobalId } from '../src/ids.ts';
import { defer, unwind } from './cleanup.ts';
import { benchDatabaseUrl, parseBenchOptions } from './options.ts';

const {
  createApp,
  createEventBus,
  createLogger,
  endSession,
  graphqlPath,
  loadJobsConfig,
  openDatabase,
  secretKey,
  signToken,
} = await import('./app.ts');
type Database = Awaited<ReturnType<typeof openDatabase>>;

// ---------------------------------------------------------------------------------------------
// Options

const options = parseBenchOptions(
  'usage: npm run bench:session-end -- [--sessions N=200] [--sizes 50,200] [--warmup N=20] [--concurrency N=1]',
  {
    sessions: { type: 'string', default: '200' },
    sizes: { type: 'string', default: '50,200' },
    warmup: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '1' },
  },
);
const args = options.values;
const measured = options.number('sessions', args.sessions);
const warmup = options.number('warmup', args.warmup, { min: 0 });
const concurrency = options.number('concurrency', args.concurrency);
const sizes = args.sizes.split(',').map((s) => options.number('sizes', s.trim()));
const baseUrl = benchDatabaseUrl;
const target = { size: 200, p95Ms: 50 };

async function createBenchDatabase(): Promise<string> {
  const scratch = await createScratchDatabase(baseUrl, 'll_bench');
  defer('drop the bench database', () => scratch.drop());
  return scratch.url;
}

// ---------------------------------------------------------------------------------------------
// Data

const subcategories = ['Algebra', 'Geometry', 'Arithmetic', 'Statistics', 'Vocabulary', 'Reading', 'Grammar', 'Logic'];
const bands = ['EASY', 'MEDIUM', 'HARD'] as const;

interface BenchSession {
  userId: string;
  sessionId: string;
}

/** Per size: `warmup + 2 · measured` open sessions of `size` attempts each, one learner per session. */
async function seed(db: Database): Promise<Map<number, BenchSession[]>> {
  const tag = randomBytes(4).toString('hex');
  await db.prisma.question.createMany({
    data: Array.from({ length: 240 }, (_, i) => {
      const answer = `${i} A`;
      return {
        externalId: `SE-${tag}-${i}`,
        category: i % 8 < 4 ? 'Quantitative' : 'Verbal',
        subcategory: subcategories[i % 8]!,
        difficultyBand: bands[Math.floor(i / 8) % 3]!,
        answer,
        answerKey: answerKey(answer),
        options: [answer, `${i} B`, `${i} C`, `${i} D`],
        difficulty: 0.2 + ((i * 37) % 60) / 100,
        importanceIndex: ((i * 53) % 100) / 100,
      };
    }),
  });
  const perSize = warmup + 2 * measured;
  const bySize = new Map<number, BenchSession[]>();
  const startedAt = new Date(Date.now() - 3_600_000);
  for (const size of sizes) {
    const users = await db.prisma.user.createManyAndReturn({
      data: Array.from({ length: perSize }, (_, i) => ({
        name: `Bench ${size}/${i}`,
        email: `s${size}.${i}@${tag}.bench.example`,
      })),
      select: { id: true },
    });
    await db.prisma.mastery.createMany({
      data: users.flatMap((u) =>
        subcategories
          .filter((_, i) => i % 2 === 0)
          .map((subcategory) => ({ userId: u.id, subcategory, score: Math.random(), updatedAt: startedAt })),
      ),
    });
    const sessions = await db.prisma.session.createManyAndReturn({
      data: users.map((u) => ({ userId: u.id, startedAt, units: subcategories.slice(0, 3) })),
      select: { id: true, userId: true },
    });
    // Attempt i of a session: runs of ~4 questions per subcategory (concept switches), accuracy
    // falling and answers slowing over the session (so the attention-span windows do real work).
    await db.prisma.$executeRaw`
      WITH qs AS (SELECT array_agg(id ORDER BY external_id) AS ids, count(*)::int AS n
                  FROM questions WHERE external_id LIKE ${`SE-${tag}-%`}),
           s AS (SELECT id, user_id, ord
                 FROM unnest(${sessions.map((s) => s.id)}::uuid[]) WITH ORDINALITY AS t(id, ord)
                 JOIN sessions USING (id))
      INSERT INTO attempts (user_id, question_id, session_id, attempt_no, context, user_answer, correct, time_sec,
                            hint_used, answered_at, recorded_at, client_attempt_id)
      SELECT s.user_id, qs.ids[1 + ((g.i / 4 + (g.i % 4) * 8 + s.ord::int * 13) % qs.n)], s.id, g.i, 'SESSION', 'x',
             random() < 0.85 - 0.35 * g.i::float8 / ${size}::int, 5 + random() * (20 + 40 * g.i::float8 / ${size}::int),
             random() < 0.1,
             ${startedAt}::timestamptz + g.i * interval '10 seconds',
             ${startedAt}::timestamptz + g.i * interval '10 seconds', 'bench-' || g.i
      FROM s CROSS JOIN qs CROSS JOIN generate_series(1, ${size}::int) AS g(i)`;
    bySize.set(
      size,
      sessions.map((s) => ({ userId: s.userId, sessionId: s.id })),
    );
  }
  await db.prisma.$executeRawUnsafe('ANALYZE');
  return bySize;
}

// ---------------------------------------------------------------------------------------------
// Measurement

interface Row {
  size: number;
  path: string;
  latencies: number[];
  wallMs: number;
  errors: string[];
}

/** Runs `op` over the items with `concurrency` loops; returns each item's latency in ms. */
async function timed<T>(
  items: readonly T[],
  op: (item: T) => Promise<string | null>,
): Promise<{ latencies: number[]; wallMs: number; errors: string[] }> {
  const latencies: number[] = [];
  const errors: string[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next++]!;
        const begun = performance.now();
        let failure: string | null;
        try {
          failure = await op(item);
        } catch (error) {
          failure = error instanceof Error ? error.message : String(error);
        }
        latencies.push(performance.now() - begun);
        if (failure !== null && errors.length < 5) errors.push(failure.slice(0, 300));
        else if (failure !== null) errors.push('…');
      }
    }),
  );
  return { latencies, wallMs: performance.now() - started, errors };
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const endSessionDocument = `mutation End($id: ID!) {
  endSession(id: $id) {
    id endedAt durationSec
    summary {
      questionsAttempted questionsCorrect accuracy averageTimePerQuestion topicsCovered
      difficultyDistribution { easy medium hard }
    }
    analytics { learningVelocity conceptSwitches attentionSpanMinutes optimalDifficultyRange }
  }
}`;

async function main(): Promise<number> {
  const url = await createBenchDatabase();
  const db = await openDatabase({ kind: 'postgres', url, poolSize: 10 });
  defer('database', () => db.close());
  const [{ version }] = (await db.prisma.$queryRaw<
    { version: string }[]
  >`SELECT split_part(version(), ' ', 2) AS version`) as [{ version: string }];
  console.log(
    `== endSession on PostgreSQL ${version} (${db.label}), Node ${process.version}, ` +
      `${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()})`,
  );
  console.log(`   ${measured} measured sessions per size and path after ${warmup} warm-up, concurrency ${concurrency}`);

  const seedStart = performance.now();
  const bySize = await seed(db);
  const attemptsSeeded = sizes.reduce((n, size) => n + size * bySize.get(size)!.length, 0);
  console.log(
    `   seeded 240 questions, ${[...bySize.values()].reduce((n, s) => n + s.length, 0)} learners ` +
      `with an open session each, ${attemptsSeeded.toLocaleString('en')} attempts ` +
      `in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
  );

  const key = secretKey(randomBytes(32).toString('base64url'));
  const log = createLogger(process.env.LOG_LEVEL ?? 'silent');
  const bus = createEventBus(null, log);
  const app = createApp({ db, pubsub: bus.pubsub, log, jobs: loadJobsConfig(), key });
  const endpoint = `${await app.start(0, '127.0.0.1')}${graphqlPath}`;
  defer('server', async () => {
    await app.stop();
    await bus.close();
  });

  const rows: Row[] = [];
  for (const size of sizes) {
    const sessions = bySize.get(size)!;
    const tokens = new Map(
      await Promise.all(
        sessions.map(async (s) => [s.sessionId, await signToken(key, { userId: s.userId, role: 'LEARNER' })] as const),
      ),
    );
    const overHttp = async (s: BenchSession): Promise<string | null> => {
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.get(s.sessionId)}` },
        body: JSON.stringify({ query: endSessionDocument, variables: { id: encodeGlobalId('Session', s.sessionId) } }),
      });
      const body = (await response.json()) as {
        data?: { endSession?: { summary?: { questionsAttempted: number } } };
        errors?: unknown;
      };
      if (body.errors) return JSON.stringify(body.errors);
      const attempted = body.data?.endSession?.summary?.questionsAttempted;
      return attempted === size ? null : `summary has ${attempted} attempts, not ${size}`;
    };
    const inProcess = async (s: BenchSession): Promise<string | null> => {
      const ended = await endSession(db, { subject: s.userId, userId: s.userId, role: 'LEARNER' }, s.sessionId);
      return ended.changed ? null : 'the session had already ended';
    };
    const warm = sessions.slice(0, warmup);
    const http = sessions.slice(warmup, warmup + measured);
    const direct = sessions.slice(warmup + measured);
    await timed(warm.slice(0, Math.ceil(warm.length / 2)), overHttp);
    await timed(warm.slice(Math.ceil(warm.length / 2)), inProcess);
    process.stdout.write(`   ${size} attempts: HTTP … `);
    rows.push({ size, path: 'endSession over HTTP', ...(await timed(http, overHttp)) });
    process.stdout.write('service in-process … ');
    rows.push({ size, path: '· service in-process', ...(await timed(direct, inProcess)) });
    console.log('done');
  }

  // Every session ended, with its summary and analytics.
  const [{ missing }] = (await db.prisma.$queryRaw<{ missing: number }[]>`
    SELECT count(*)::int AS missing FROM sessions s
    WHERE s.ended_at IS NULL
       OR NOT EXISTS (SELECT 1 FROM session_summaries x WHERE x.session_id = s.id)
       OR NOT EXISTS (SELECT 1 FROM session_analytics y WHERE y.session_id = s.id)`) as [{ missing: number }];

  // Report
  const ms = (n: number) => (Number.isNaN(n) ? '–' : n < 10 ? n.toFixed(2) : n.toFixed(1));
  console.log(
    '\n attempts  path                     sessions   p50 ms   p95 ms   p99 ms  mean ms   max ms   per s  errors',
  );
  for (const row of rows) {
    const sorted = [...row.latencies].sort((a, b) => a - b);
    const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
    const cells = [
      String(sorted.length),
      ms(percentile(sorted, 0.5)),
      ms(percentile(sorted, 0.95)),
      ms(percentile(sorted, 0.99)),
      ms(mean),
      ms(sorted[sorted.length - 1] ?? Number.NaN),
    ].map((cell) => cell.padStart(8));
    const rate = String(Math.round(sorted.length / (row.wallMs / 1000))).padStart(7);
    console.log(
      ` ${String(row.size).padStart(8)}  ${row.path.padEnd(24)} ${cells.join(' ')} ${rate} ` +
        String(row.errors.length).padStart(7),
    );
  }
  const failures = rows.flatMap((r) => r.errors.map((e) => `${r.size}/${r.path}: ${e}`));
  for (const failure of failures.slice(0, 5)) console.log(`   error: ${failure}`);
  const targetRow = rows.find((r) => r.size === target.size && r.path === 'endSession over HTTP');
  if (targetRow) {
    const p95 = percentile(
      [...targetRow.latencies].sort((a, b) => a - b),
      0.95,
    );
    console.log(
      `\n target: p95 < ${target.p95Ms} ms at ${target.size} attempts over HTTP: ` +
        `${p95 < target.p95Ms ? 'met' : 'MISSED'} (p95 ${ms(p95)} ms)`,
    );
  }
  if (missing > 0) console.log(` ${missing} sessions were left open or without summary/analytics`);
  return failures.length > 0 || missing > 0 ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
} finally {
  await unwind();
}
process.exit(code);
