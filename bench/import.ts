// Benchmark of bringing a platform's history in.
//
//   npm run bench:import [-- --only postgres|pglite] [--learners 100000] [--attempts 1000000] [--days 90]
//                          [--pglite-learners 10000] [--pglite-attempts 100000] [--keep]
//
// For each backend (a fresh PostgreSQL database on BENCH_DATABASE_URL, dropped at the end unless
// --keep; then PGlite in a temporary directory) it:
//   1. writes the existing system's CSV files (src/demo/seed-export.ts, seeded) for the learners and
//      attempts over `days` days, ending an hour ago;
//   2. imports them (users, questions, sessions, attempts, mastery_history) and times each table:
//      the load rate is attempts per second over the attempts table;
//   3. rebuilds every derived state (src/import/rebuild.ts), per phase;
//   4. imports the same files again: it must write nothing;
// and reports the process's peak RSS (for PGlite that includes the database itself).
// Targets (issue 14): load ≥ 50,000 attempts/s, import + rebuild < 5 minutes, peak RSS < 1 GiB.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type Database, openDatabase } from '../src/db/client.ts';
import { createScratchDatabase } from '../src/db/scratch-database.ts';
import { writeSeedExport } from '../src/demo/seed-export.ts';
import { rebuildDerivedState } from '../src/import/rebuild.ts';
import { type ImportReport, importTables } from '../src/import/run.ts';
import { csvDirectory } from '../src/import/sources.ts';
import { loadJobsConfig } from '../src/jobs/config.ts';
import { defer, unwind } from './cleanup.ts';

const usage =
  'usage: npm run bench:import -- [--only postgres|pglite] [--learners N=100000] [--attempts N=1000000]\n' +
  '         [--days N=90]\n' +
  '         [--pglite-learners N=10000] [--pglite-attempts N=100000] [--keep]\n' +
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
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(usage);
  process.exit(0);
}

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 100);
const mib = (bytes: number) => `${Math.round(bytes / 1_048_576)} MiB`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

interface Timed {
  report: ImportReport;
  perTable: Record<string, number>;
}

async function timedImport(db: Database, dir: string): Promise<Timed> {
  const perTable: Record<string, number> = {};
  let table = '';
  let started = performance.now();
  const report = await importTables(db, csvDirectory(dir), {
    onTableStart: (t) => {
      if (table) perTable[table] = performance.now() - started;
      table = t.name;
      started = performance.now();
    },
  });
  if (table) perTable[table] = performance.now() - started;
  return { report, perTable };
}

async function bench(kind: 'postgres' | 'pglite', learners: number, attempts: number): Promise<void> {
  console.log(`\n== ${kind}: ${learners} learners, ${attempts} attempts over ${args.days} days`);
  peakRss = process.memoryUsage().rss;
  const dir = await mkdtemp(path.join(tmpdir(), 'learnloop-bench-import-'));
  defer('export files', () => rm(dir, { recursive: true, force: true }));
  let t0 = performance.now();
  const counts = await writeSeedExport(dir, {
    learners,
    attempts,
    days: Number(args.days),
    end: new Date(Date.now() - 3_600_000),
    seed: 14,
    strayShare: 0.01,
  });
  console.log(`export written in ${seconds(performance.now() - t0)}: ${JSON.stringify(counts)}`);

  let db: Database;
  if (kind === 'postgres') {
    const scratch = await createScratchDatabase(
      process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test',
      'll_bench_import',
    );
    if (!args.keep) defer('bench database', scratch.drop);
    else console.log(`keeping ${scratch.url}`);
    db = await openDatabase({ kind: 'postgres', url: scratch.url, poolSize: 4 });
  } else {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'learnloop-bench-pglite-'));
    defer('pglite directory', () => rm(dataDir, { recursive: true, force: true }));
    db = await openDatabase({ kind: 'pglite', dataDir });
  }
  defer('database', () => db.close());

  t0 = performance.now();
  const first = await timedImport(db, dir);
  const importMs = performance.now() - t0;
  for (const [table, c] of Object.entries(first.report.tables))
    console.log(`  ${table.padEnd(16)} ${c.imported} imported in ${seconds(first.perTable[table]!)}`);
  const attemptsMs = first.perTable.attempts!;
  console.log(
    `import ${seconds(importMs)}; attempts at ${Math.round((counts.attempts * 1000) / attemptsMs)} attempts/s; ` +
      `${first.report.refusals.length} refused, ${first.report.unlinkedSessionAttempts} session attempts in no session`,
  );

  t0 = performance.now();
  const rebuilt = await rebuildDerivedState(db, { config: loadJobsConfig() });
  const rebuildMs = performance.now() - t0;
  console.log(
    `rebuild ${seconds(rebuildMs)}: ${JSON.stringify(rebuilt.ms)}; ${rebuilt.masteries} masteries, ` +
      `${rebuilt.historyPoints} history points, ${rebuilt.sessionSummaries} summaries, ${rebuilt.plans} plans`,
  );
  console.log(`import + rebuild ${seconds(importMs + rebuildMs)} (target < 300 s)`);

  t0 = performance.now();
  const second = await timedImport(db, dir);
  const written = Object.values(second.report.tables).reduce((n, c) => n + c.imported, 0);
  console.log(`second import ${seconds(performance.now() - t0)}: ${written} rows written (expected 0)`);
  console.log(`peak RSS ${mib(peakRss)} (target < 1024 MiB)`);
  await unwind();
}

try {
  if (args.only !== 'pglite') await bench('postgres', Number(args.learners), Number(args.attempts));
  if (args.only !== 'postgres') await bench('pglite', Number(args['pglite-learners']), Number(args['pglite-attempts']));
} finally {
  clearInterval(sampler);
  await unwind();
}
