// `npm run import -- <directory of CSV files | xAPI file> [--from postgresql://…]`, `npm run rebuild`
// and `npm run export:xapi`: the command-line side of src/import (a progress bar on a terminal,
// plain lines otherwise; the report on stdout).
import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { loadConfig } from '../config.ts';
import { type Database, openDatabase } from '../db/client.ts';
import { addDays, isDay, isTimeZone, startOfDay } from '../domain/calendar.ts';
import { UsageError } from '../errors.ts';
import { exportXapi } from './export-xapi.ts';
import { type RebuildReport, rebuildDerivedState } from './rebuild.ts';
import { type ImportReport, importTables } from './run.ts';
import { csvDirectory, postgresSource, type TableSource } from './sources.ts';
import { xapiFile } from './xapi-source.ts';

export const importUsage = `  import <directory | statements.jsonl> [--from postgresql://…] [--source NAME]
         [--timezone TZ] [--max-errors N] [--no-rebuild]
                                 bring the existing system's tables (CSV files in a directory, or
                                 its database with --from) or xAPI statements in; then rebuild
  rebuild                        recompute every derived state from the attempt log in history order
  export-xapi [--from D] [--to D]
                                 print the attempt log as xAPI statements (JSON lines)`;

function progressBar() {
  if (process.stderr.isTTY !== true) return null;
  return new cliProgress.SingleBar(
    { format: '{label} |{bar}| {percentage}% | {counts}', hideCursor: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
}

function jobsConfig() {
  const app = loadConfig();
  return { app, jobs: app.jobs };
}

export async function importCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      source: { type: 'string' },
      timezone: { type: 'string', default: 'UTC' },
      'max-errors': { type: 'string' },
      'no-rebuild': { type: 'boolean', default: false },
      'chunk-size': { type: 'string' },
    },
  });
  const maxErrors = values['max-errors'] === undefined ? undefined : Number(values['max-errors']);
  if (maxErrors !== undefined && !(Number.isInteger(maxErrors) && maxErrors >= 1))
    throw new UsageError('--max-errors must be a positive whole number');
  const chunkSize = values['chunk-size'] === undefined ? undefined : Number(values['chunk-size']);
  if (chunkSize !== undefined && !(Number.isInteger(chunkSize) && chunkSize >= 1))
    throw new UsageError('--chunk-size must be positive');
  if (!isTimeZone(values.timezone)) throw new UsageError(`--timezone ${values.timezone} is not an IANA zone`);
  const from = sourceOf(values.from, positionals[0]);
  const { app, jobs } = jobsConfig();
  const db = await openDatabase(app.database);
  const bar = progressBar();
  try {
    const report = await importTables(db, from.tables, {
      source: values.source ?? from.defaultName,
      timezone: values.timezone,
      maxErrors,
      chunkSize,
      onTableStart: (table) => {
        if (bar) bar.start(Math.max(1, table.size), 0, { label: table.label.padEnd(20), counts: '' });
        else process.stderr.write(`${table.label}: reading\n`);
      },
      onChunk: (_table, position, c) => {
        bar?.update(position, { counts: `${c.imported} imported, ${c.present} present, ${c.refused} refused` });
        if (bar && position >= (bar.getTotal() ?? 0)) bar.stop();
      },
    });
    bar?.stop();
    process.stdout.write(formatImportReport(report));
    if (report.stopped) {
      process.stderr.write(`learnloop: stopped after ${report.refusals.length} refused rows (--max-errors)\n`);
      process.exitCode = 1;
      return;
    }
    if (!values['no-rebuild']) process.stdout.write(formatRebuildReport(await rebuild(db, jobs)));
  } finally {
    bar?.stop();
    await db.close();
  }
}

function sourceOf(url: string | undefined, path: string | undefined): { tables: TableSource; defaultName: string } {
  if (url !== undefined) {
    if (path !== undefined) throw new UsageError('give a directory or --from, not both');
    if (!/^postgres(ql)?:\/\//.test(url)) throw new UsageError('--from takes a postgresql:// URL');
    return { tables: postgresSource(url), defaultName: 'legacy' };
  }
  if (path === undefined)
    throw new UsageError('import needs a directory of CSV files, a file of xAPI statements or --from');
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch {
    throw new UsageError(`${path} does not exist`);
  }
  return stat.isDirectory()
    ? { tables: csvDirectory(path), defaultName: 'legacy' }
    : { tables: xapiFile(path), defaultName: 'xapi' };
}

export async function rebuildCommand(args: string[]): Promise<void> {
  parseArgs({ args, options: {} });
  const { app, jobs } = jobsConfig();
  const db = await openDatabase(app.database);
  try {
    process.stdout.write(formatRebuildReport(await rebuild(db, jobs)));
  } finally {
    await db.close();
  }
}

async function rebuild(db: Database, config: ReturnType<typeof jobsConfig>['jobs']): Promise<RebuildReport> {
  const bar = progressBar();
  try {
    return await rebuildDerivedState(db, {
      config,
      onPhase: (phase) => {
        if (!bar) process.stderr.write(`rebuild: ${phase}\n`);
      },
      onLearners: (done, total) => {
        if (!bar) return;
        if (done <= 2_000 || !bar.isActive) bar.start(total, done, { label: 'rebuild mastery'.padEnd(20), counts: '' });
        bar.update(done, { counts: `${done}/${total} learners` });
      },
    });
  } finally {
    bar?.stop();
  }
}

export function formatImportReport(report: ImportReport): string {
  const lines = [`import from source "${report.source}" in ${(report.ms / 1000).toFixed(1)} s`];
  for (const [table, c] of Object.entries(report.tables)) {
    const other = c.skipped > 0 ? `, ${c.skipped} skipped (other verbs)` : '';
    lines.push(
      `  ${table.padEnd(16)} ${c.imported} imported, ${c.present} skipped as present${other}, ${c.refused} refused`,
    );
  }
  if (report.unlinkedSessionAttempts > 0) {
    lines.push(
      `  ${report.unlinkedSessionAttempts} session attempts lie in no session of their learner: ` +
        'kept as SESSION attempts without a session',
    );
  }
  const shown = report.refusals.slice(0, 100);
  if (shown.length > 0) lines.push('refused:');
  for (const r of shown) lines.push(`  ${r.file}:${r.line}: ${r.reason}`);
  if (report.refusals.length > shown.length) lines.push(`  … and ${report.refusals.length - shown.length} more`);
  return `${lines.join('\n')}\n`;
}

export function formatRebuildReport(r: RebuildReport): string {
  const c = r.historyCompared;
  const compared =
    c.points > 0
      ? `; ${c.points} imported points also replayed: mean |difference| ` +
        `${c.meanAbsoluteDifference!.toFixed(4)}, max ${c.maxAbsoluteDifference!.toFixed(4)}`
      : '';
  const seconds = (Object.values(r.ms).reduce((a, b) => a + b, 0) / 1000).toFixed(1);
  return `${[
    `rebuild as of ${r.asOf} (${r.nightlySlots} nightly slots) in ${seconds} s`,
    `  mastery: ${r.learners} learners, ${r.masteries} scores, ${r.historyPoints} history points${compared}`,
    `  ${r.masteryAtAttemptUpdated} attempts' masteryAtAttempt set, ${r.questionsRescored} questions rescored`,
    `  sessions: ${r.sessionsClosed} abandoned closed, ${r.sessionSummaries} summaries stored`,
    `  ${r.patterns} learning patterns, ${r.plans} learners planned, ` +
      `${r.learnerModelReplayed} learner-model states replayed`,
    `  ms: ${Object.entries(r.ms)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  ].join('\n')}\n`;
}

export async function exportXapiCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { from: { type: 'string' }, to: { type: 'string' } } });
  for (const day of [values.from, values.to])
    if (day !== undefined && !isDay(day)) throw new UsageError(`${day} is not a day (YYYY-MM-DD)`);
  const { app, jobs } = jobsConfig();
  const db = await openDatabase(app.database);
  try {
    // Days in JOBS_TZ, both ends included.
    const written = await exportXapi(
      db,
      {
        from: values.from ? startOfDay(values.from, jobs.timezone) : null,
        to: values.to ? startOfDay(addDays(values.to, 1), jobs.timezone) : null,
      },
      process.stdout,
    );
    process.stderr.write(`export-xapi: ${written} statements\n`);
  } finally {
    await db.close();
  }
}
