// Benchmark of bringing a platform's history in.
//
//   npm run bench:import [-- --only postgres|pglite] [--learners 100000] [--attempts 1000000] [--days 90]
//                          [--pglite-learners 10000] [--pglite-attempts 100000] [--chunk-size 20000]
//                          [--no-rebuild] [--keep]
//
// For each backend (a fresh PostgreSQL database on BENCH_DATABASE_URL, dropped at the end unless
// --keep; then PGlite in a temporary directory) it:
//   1. writes the existing system's CSV files (src/demo/seed-export.ts, seeded) for the learners and
//      attempts over `days` days, ending an hour ago;
//   2. imports them (users, questions, sessions, attempts, mastery_history) and times each table:
//      the load rate is attempts per second over the attempts table;
//   3. rebuilds every derived state (src/import/rebuild.ts), per phase;
//   4. imports the same files again: it must write nothing;
// and reports the process's peak RSS (for PGlite that includes the database itself) per step. Beside
// each time, the CPU seconds this process and (PostgreSQL on this machine) the bench database's
// backends spent, and the load average: on a shared machine wall times say little alone.
// Targets (issue 14): load ≥ 50,000 attempts/s, import + rebuild < 5 minutes, peak RSS < 1 GiB.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type Database, openDatabase } from '../src/db/client.ts';
import { createScratchDatabase } from '../src/db/scratch-database.ts';
import { type SeedExportCounts, writeSeedExport } from '../src/demo/seed-export.ts';
import { rebuildDerivedState } from '../src/import/rebuild.ts';
import { importTables } from '../src/import/run.ts';
import { csvDirectory } from '../src/import/sources.ts';
import { loadJobsConfig } from '../src/jobs/config.ts';
import { defer, unwind } from './cleanup.ts';
import { isLocalHost, postgresDelta, postgresTimes } from './cpu.ts';

const usage =
  'usage: npm run bench:import -- [--only postgres|pglite] [--learners N=100000] [--attempts N=1000000]\n' +
  '         [--days N=90]\n' +
  '         [--pglite-learners N=10000] [--pglite-attempts N=100000] [--chunk-size N=20000] [--no-rebuild]\n' +
  '         [--keep]\n' +
  '  BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test): the server the bench database\n' +
  '  is created on';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    learners: { type: 'string', default: '100000' },
    attempts: { type: 'string', default: '1000000' },
    days: { type: 'string', default: '90' },
    'pglite-learners': { type: 'string', default: '10000' },
    'pglite-attempts': { type: 'string', default: '100000' },
    'chunk-size': { type: 'string' },
    // Internal: the child process that writes the export.
    'write-export': { type: 'string' },
    'no-rebuild': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(usage);
  process.exit(0);
}
if (args['write-export']) {
  const counts = await writeSeedExport(args['write-export'], {
    learners: Number(args.learners),
    attempts: Number(args.attempts),
    days: Number(args.days),
    end: new Date(Date.now() - 3_600_000),
    seed: 14,
    strayShare: 0.01,
  });
  process.stdout.write(JSON.stringify(counts));
  process.exit(0);
}

// Every step being measured keeps its own peak; the sampler raises them all.
const peaks = new Set<{ rss: number }>();
const sampler = setInterval(() => {
  const rss = process.memoryUsage().rss;
  for (const peak of peaks) peak.rss = Math.max(peak.rss, rss);
}, 100);
const mib = (bytes: number) => `${Math.round(bytes / 1_048_576)} MiB`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const load = () => os.loadavg()[0]!.toFixed(1);

/** Wall time, CPU seconds of this process and of the bench database's backends, peak RSS of a step. */
interface Measure {
  ms: number;
  nodeCpu: number;
  dbCpu: number | null;
  peakRss: number;
  load: string;
}

function startMeasure(database: string | null): () => Measure {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const db0 = database ? postgresTimes(database) : null;
  const peak = { rss: process.memoryUsage().rss };
  peaks.add(peak);
  return () => {
    peaks.delete(peak);
    const cpu = process.cpuUsage(cpu0);
    const db1 = database ? postgresTimes(database) : null;
    return {
      ms: performance.now() - t0,
      nodeCpu: (cpu.user + cpu.system) / 1e6,
      dbCpu: db0 && db1 ? postgresDelta(db0, db1) : null,
      peakRss: Math.max(peak.rss, process.memoryUsage().rss),
      load: load(),
    };
  };
}

const describe = (m: Measure) => {
  const database = m.dbCpu === null ? '' : `, database ${m.dbCpu.toFixed(1)} s`;
  const cpu = `CPU: node ${m.nodeCpu.toFixed(1)} s${database}`;
  return `${seconds(m.ms)} (${cpu}; peak RSS ${mib(m.peakRss)}; load ${m.load})`;
};

async function timedImport(db: Database, dir: string, database: string | null) {
  const perTable: Record<string, Measure> = {};
  let table = '';
  let measure = startMeasure(database);
  const whole = startMeasure(database);
  const report = await importTables(db, csvDirectory(dir), {
    ...(args['chunk-size'] ? { chunkSize: Number(args['chunk-size']) } : {}),
    onTableStart: (t) => {
      if (table) perTable[table] = measure();
      table = t.name;
      measure = startMeasure(database);
    },
  });
  if (table) perTable[table] = measure();
  return { report, perTable, whole: whole() };
}

/**
 * The export is written by a process of its own: the generator's garbage would otherwise sit in this
 * process's peak RSS, which is the import's figure.
 */
async function exportInChildProcess(dir: string, learners: number, attempts: number): Promise<SeedExportCounts> {
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      '--write-export',
      dir,
      '--learners',
      String(learners),
      '--attempts',
      String(attempts),
      '--days',
      args.days,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`writing the export failed (exit ${code})`);
  return JSON.parse(output) as SeedExportCounts;
}

async function bench(kind: 'postgres' | 'pglite', learners: number, attempts: number): Promise<void> {
  console.log(`\n== ${kind}: ${learners} learners, ${attempts} attempts over ${args.days} days`);
  const whole = startMeasure(null);
  const dir = await mkdtemp(path.join(tmpdir(), 'learnloop-bench-import-'));
  defer('export files', () => rm(dir, { recursive: true, force: true }));
  const t0 = performance.now();
  const counts = await exportInChildProcess(dir, learners, attempts);
  console.log(`export written in ${seconds(performance.now() - t0)}: ${JSON.stringify(counts)}`);

  let db: Database;
  let database: string | null = null;
  if (kind === 'postgres') {
    const scratch = await createScratchDatabase(
      process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test',
      'll_bench_import',
    );
    if (!args.keep) defer('bench database', scratch.drop);
    else console.log(`keeping ${scratch.url}`);
    if (isLocalHost(scratch.url)) database = new URL(scratch.url).pathname.slice(1);
    db = await openDatabase({ kind: 'postgres', url: scratch.url, poolSize: 4 });
  } else {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'learnloop-bench-pglite-'));
    defer('pglite directory', () => rm(dataDir, { recursive: true, force: true }));
    db = await openDatabase({ kind: 'pglite', dataDir });
  }
  defer('database', () => db.close());

  const first = await timedImport(db, dir, database);
  for (const [table, c] of Object.entries(first.report.tables))
    console.log(
      `  ${table.padEnd(16)} ${String(c.imported).padStart(8)} imported in ${describe(first.perTable[table]!)}`,
    );
  const attemptStep = first.perTable.attempts!;
  const perAttempt = (cpu: number) => `${((cpu * 1e6) / counts.attempts).toFixed(1)} µs`;
  console.log(
    `import ${describe(first.whole)}\n` +
      `attempts at ${Math.round((counts.attempts * 1000) / attemptStep.ms)} attempts/s (target ≥ 50,000); ` +
      `CPU per attempt: node ${perAttempt(attemptStep.nodeCpu)}` +
      `${attemptStep.dbCpu === null ? '' : `, database ${perAttempt(attemptStep.dbCpu)}`}; ` +
      `${first.report.refusals.length} refused, ${first.report.unlinkedSessionAttempts} session attempts in no session`,
  );

  let rebuildMs = 0;
  if (!args['no-rebuild']) {
    const measure = startMeasure(database);
    const rebuilt = await rebuildDerivedState(db, { config: loadJobsConfig() });
    const m = measure();
    rebuildMs = m.ms;
    console.log(
      `rebuild ${describe(m)}: ${JSON.stringify(rebuilt.ms)}; ${rebuilt.masteries} masteries, ` +
        `${rebuilt.historyPoints} history points, ${rebuilt.sessionSummaries} summaries, ${rebuilt.plans} plans`,
    );
    console.log(`import + rebuild ${seconds(first.whole.ms + rebuildMs)} (target < 300 s)`);
  }

  const second = await timedImport(db, dir, database);
  const written = Object.values(second.report.tables).reduce((n, c) => n + c.imported, 0);
  console.log(`second import ${describe(second.whole)}: ${written} rows written (expected 0)`);
  console.log(`${kind}: peak RSS ${mib(whole().peakRss)} (target < 1024 MiB)`);
  await unwind();
}

try {
  if (args.only !== 'pglite') await bench('postgres', Number(args.learners), Number(args.attempts));
  if (args.only !== 'postgres') await bench('pglite', Number(args['pglite-learners']), Number(args['pglite-attempts']));
} finally {
  clearInterval(sampler);
  await unwind();
}
