// An import of the existing system's tables: each table in order (users, questions, sessions,
// attempts, mastery_history), in chunks, each chunk mapped (records.ts) and written (load.ts) in
// one transaction. A bad row is refused with its file, line and reason and the import goes on;
// with maxErrors it stops once that many rows were refused.
import type { Database } from '../db/client.ts';
import { dropAttemptIndexesForFirstLoad, restoreAttemptIndexes } from './bulk.ts';
import { type ImportConnection, importConnection } from './connection.ts';
import {
  type AttemptWriteMode,
  type ChunkResult,
  type KeyMaps,
  loadAttempts,
  loadKeyMaps,
  loadMasteryHistory,
  loadQuestions,
  loadSessions,
  loadUsers,
  type PreparedAttempts,
  prepareAttempts,
  presentAttempts,
  presentSessions,
} from './load.ts';
import {
  type AttemptRecord,
  attemptRecord,
  masteryHistoryRecord,
  questionRecord,
  RowError,
  type SourceRecord,
  sessionRecord,
  userRecord,
} from './records.ts';
import type { SourceChunk, SourceTable, TableName, TableSource } from './sources.ts';
import { nextTurn } from './stage.ts';
import { xapiRecord } from './xapi.ts';
import { loadStatements } from './xapi-load.ts';

/**
 * Rows per chunk. The cost per row is about the same from 5,000 to 20,000; memory is not (at a
 * million attempts, chunks of 20,000 peaked at 1,016 MiB RSS). PGlite's memory is this process's and,
 * once grown, stays so.
 */
export const defaultChunkSize = { postgres: 10_000, pglite: 5_000 } as const;

export interface ImportOptions {
  /** Names the source: its ids are kept under it, so importing it again writes nothing (default 'legacy'). */
  source?: string;
  /** Zone of timestamps written without one (default UTC). */
  timezone?: string;
  /** Stop once this many rows were refused (default: never). */
  maxErrors?: number;
  /** Rows per chunk and transaction (default: defaultChunkSize of the database's kind). */
  chunkSize?: number;
  onTableStart?(table: SourceTable): void;
  /** After each committed chunk (a throw here stops the import there: tests interrupt it so). */
  onChunk?(table: SourceTable, position: number, counts: TableCounts): void | Promise<void>;
}

export interface TableCounts {
  imported: number;
  present: number;
  /** xAPI statements of verbs other than answered/attempted. */
  skipped: number;
  refused: number;
}

export interface Refusal {
  file: string;
  line: number | string;
  reason: string;
}

export interface ImportReport {
  source: string;
  tables: Partial<Record<TableName, TableCounts>>;
  refusals: Refusal[];
  /** Session attempts whose learner has no session holding their time: kept, without a session. */
  unlinkedSessionAttempts: number;
  /** True when maxErrors stopped the import before its end. */
  stopped: boolean;
  ms: number;
}

/** A chunk's records mapped to rows (refusals by the record's index), then written. */
interface Loader {
  /** Maps the records, but those of `present` (counted as present, not mapped), and prepares their write. */
  map(records: SourceRecord[], into: MapContext, present?: ReadonlySet<number>): Promise<MappedChunk>;
  write(conn: ImportConnection, source: string, mapped: MappedChunk, keys: KeyMaps): Promise<LoadedChunk>;
  /** The records stored before (their indexes) in `table`, by one query: for tables large enough to be worth it. */
  present?: {
    table: string;
    find(conn: ImportConnection, source: string, records: SourceRecord[], keys: KeyMaps): Promise<Set<number>>;
  };
}

/** What mapping a chunk needs: the zone of timestamps without one, and (to prepare the write) the source and keys. */
interface MapContext {
  timezone: string;
  source: string;
  keys: KeyMaps;
}

interface MappedChunk {
  rows: unknown[];
  /** The write's preparation, made with the mapping (the attempts' COPY text). */
  prepared?: unknown;
  /** The record index of each row. */
  indexes: number[];
  refused: ChunkResult['refused'];
  /** Records found present before mapping. */
  present: number;
}

type LoadedChunk = ChunkResult & { unlinked?: number };

/**
 * Records mapped between two turns of the event loop. The next chunk is mapped while the database
 * writes this one: mapped at once (200 ms for 10,000 attempts), it held every reply of the write's
 * statements until it was done, and the database waited.
 */
const mapSlice = 500;

/**
 * Maps every record of a chunk (and prepares the write of the rows, with `prepare`), then writes the
 * good ones; refusals carry the record's index.
 */
function loader<T, P = undefined>(
  map: (record: SourceRecord, timezone: string) => T,
  write: (conn: ImportConnection, source: string, rows: T[], keys: KeyMaps, prepared: P) => Promise<LoadedChunk>,
  present?: Loader['present'],
  prepare?: (rows: T[], into: MapContext) => Promise<P>,
): Loader {
  return {
    ...(present ? { present } : {}),
    async map(records, into, present) {
      const { timezone } = into;
      const mapped: MappedChunk = { rows: [], indexes: [], refused: [], present: present?.size ?? 0 };
      for (const [index, record] of records.entries()) {
        if (index % mapSlice === mapSlice - 1) await nextTurn();
        if (present?.has(index)) continue;
        try {
          mapped.rows.push(map(record, timezone));
          mapped.indexes.push(index);
        } catch (error) {
          if (!(error instanceof RowError)) throw error;
          mapped.refused.push({ index, reason: error.message });
        }
      }
      if (prepare && mapped.rows.length > 0) mapped.prepared = await prepare(mapped.rows as T[], into);
      return mapped;
    },
    async write(conn, source, { rows, indexes, refused, present, prepared }, keys) {
      const written =
        rows.length > 0
          ? await write(conn, source, rows as T[], keys, prepared as P)
          : { imported: 0, present: 0, refused: [] };
      return {
        ...written,
        present: written.present + present,
        refused: [...refused, ...written.refused.map((r) => ({ index: indexes[r.index]!, reason: r.reason }))],
      };
    },
  };
}

/** The loaders of one import (the attempts' write mode is the import's own). */
function importLoaders(): Record<TableName, Loader> {
  const attemptMode: AttemptWriteMode = { optimistic: true };
  const writeAttempts: Parameters<typeof loader<AttemptRecord, PreparedAttempts>>[1] = (
    conn,
    _source,
    rows,
    _keys,
    prepared,
  ) => loadAttempts(conn, rows, prepared, attemptMode);
  return {
    users: loader(userRecord, loadUsers),
    questions: loader(questionRecord, loadQuestions),
    sessions: loader(sessionRecord, loadSessions, { table: 'sessions', find: presentSessions }),
    attempts: loader(attemptRecord, writeAttempts, { table: 'attempts', find: presentAttempts }, (rows, into) =>
      prepareAttempts(into.source, rows, into.keys),
    ),
    mastery_history: loader(masteryHistoryRecord, (conn, _source, rows, keys) => loadMasteryHistory(conn, rows, keys)),
    statements: loader(xapiRecord, (conn, source, rows) => loadStatements(conn, source, rows)),
  };
}

/**
 * Chunks read, and mapped unless `lazy`: under readAhead the next chunk is parsed and mapped while the
 * database writes this one. Lazy chunks are mapped once the records already present are known.
 */
async function* mappedChunks(table: SourceTable, loader: Loader, chunkSize: number, into: MapContext, lazy: boolean) {
  for await (const chunk of table.chunks(chunkSize))
    yield {
      chunk,
      mapped: lazy
        ? null
        : await loader.map(
            chunk.items.map((i) => i.record),
            into,
          ),
    };
}

export async function importTables(
  db: Database,
  from: TableSource,
  options: ImportOptions = {},
): Promise<ImportReport> {
  const started = performance.now();
  const source = options.source ?? 'legacy';
  const timezone = options.timezone ?? 'UTC';
  const maxErrors = options.maxErrors ?? Number.POSITIVE_INFINITY;
  const report: ImportReport = { source, tables: {}, refusals: [], unlinkedSessionAttempts: 0, stopped: false, ms: 0 };
  const conn = await importConnection(db);
  const loaders = importLoaders();
  try {
    // A first import killed with the secondary indexes dropped left them out: back before anything else.
    await restoreAttemptIndexes(conn);
    const keys = await loadKeyMaps(conn.run, source);
    for (const table of await from.tables()) {
      options.onTableStart?.(table);
      const counts: TableCounts = { imported: 0, present: 0, skipped: 0, refused: 0 };
      report.tables[table.name] = counts;
      const firstLoad = table.name === 'attempts' && (await dropAttemptIndexesForFirstLoad(conn));
      let failed = false;
      try {
        const chunkSize = options.chunkSize ?? defaultChunkSize[db.kind];
        const loader = loaders[table.name];
        // In a table that was empty nothing is present but what this import wrote (rows appearing twice,
        // which the write tells): no query first.
        const checkPresent =
          loader.present && !firstLoad && !(await isEmpty(conn, loader.present.table)) ? loader.present.find : null;
        const into: MapContext = { timezone, source, keys };
        for await (const item of readAhead(mappedChunks(table, loader, chunkSize, into, checkPresent !== null))) {
          const { chunk } = item;
          let mapped = item.mapped;
          if (!mapped) {
            const records = chunk.items.map((i) => i.record);
            mapped = await loader.map(records, into, await checkPresent!(conn, source, records, keys));
          }
          const result = await loader.write(conn, source, mapped, keys);
          counts.imported += result.imported;
          counts.present += result.present;
          counts.skipped += result.skipped ?? 0;
          report.unlinkedSessionAttempts += result.unlinked ?? 0;
          const refusals = refusalsOf(table.label, chunk, result.refused);
          counts.refused += refusals.length;
          report.refusals.push(...refusals);
          await options.onChunk?.(table, chunk.position, counts);
          if (report.refusals.length >= maxErrors) {
            report.stopped = true;
            return report;
          }
        }
      } catch (error) {
        failed = true;
        throw error;
      } finally {
        // After a failure (a lost connection, say) the error to report is that one: the next import restores.
        if (firstLoad)
          await restoreAttemptIndexes(conn).catch((error) => {
            if (!failed) throw error;
          });
      }
    }
    if (Object.values(report.tables).some((c) => c.imported > 0)) await analyzeImported(conn);
    return report;
  } finally {
    report.ms = Math.round(performance.now() - started);
    await conn.release();
    await from.close();
  }
}

/**
 * The planner's statistics of the tables an import writes, once it wrote rows: without them (a server
 * without autovacuum, or one whose autovacuum has not come round yet) the rebuild that follows, and
 * the live queries, plan the tables as they were before the import, empty. A sample of each, about
 * 2 s at a million attempts.
 */
async function analyzeImported(conn: ImportConnection): Promise<void> {
  await conn.run('ANALYZE users, questions, import_keys, sessions, attempts, mastery_history', []);
}

async function isEmpty(conn: ImportConnection, table: string): Promise<boolean> {
  const [row] = await conn.run<{ empty: boolean }>(`SELECT NOT EXISTS (SELECT FROM ${table}) AS empty`, []);
  return row!.empty;
}

/** Reads the next chunk while the current one is written: parsing and the database's work overlap. */
async function* readAhead<T>(source: AsyncIterable<T>): AsyncIterable<T> {
  const iterator = source[Symbol.asyncIterator]();
  let next = iterator.next();
  try {
    for (;;) {
      const current = await next;
      if (current.done) return;
      next = iterator.next();
      // Awaited on the next turn; if the import stops first, the read's failure matters to nobody.
      next.catch(() => {});
      yield current.value;
    }
  } finally {
    await next.then(
      () => iterator.return?.(),
      () => {},
    );
  }
}

/** A chunk's refusals in file order (lines), or as the rows came (ids of a database's rows). */
function refusalsOf(file: string, chunk: SourceChunk, refused: ChunkResult['refused']): Refusal[] {
  const all = [
    ...chunk.unreadable.map((u) => ({ file, line: u.line, reason: u.reason })),
    ...refused.map((r) => ({ file, line: chunk.items[r.index]!.line, reason: r.reason })),
  ];
  return all.every((r) => typeof r.line === 'number') ? all.sort((a, b) => Number(a.line) - Number(b.line)) : all;
}
