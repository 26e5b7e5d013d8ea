// Where the existing system's tables come from: CSV files in a directory (header row, the seed's
// column names), or its PostgreSQL database read directly. Both give the same records (column name →
// text) in chunks, each record with where it came from (file and line, or table and id), so the
// mapping in records.ts and the report are the same for both.
import { createReadStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { CsvReader, type CsvRow } from './csv.ts';
import type { SourceRecord } from './records.ts';

export const tableNames = ['users', 'questions', 'sessions', 'attempts', 'mastery_history'] as const;
/** The existing system's tables, and 'statements' for a file of xAPI statements. */
export type TableName = (typeof tableNames)[number] | 'statements';

export interface SourceItem {
  /** Line of the file (CSV) or the row's id (database). */
  line: number | string;
  record: SourceRecord;
}

export interface SourceChunk {
  items: SourceItem[];
  /** Records the reader could not read at all (a broken quote, say), with where they were. */
  unreadable: { line: number | string; reason: string }[];
  /** Progress: bytes read (CSV) or rows read (database) so far, of `size`. */
  position: number;
}

export interface SourceTable {
  name: TableName;
  /** The file name or table name the report shows. */
  label: string;
  /** Bytes (CSV) or rows (database), for a progress bar. */
  size: number;
  chunks(chunkSize: number): AsyncIterable<SourceChunk>;
}

export interface TableSource {
  /** The tables present, in the order they must load (users before what names them). */
  tables(): Promise<SourceTable[]>;
  close(): Promise<void>;
}

export function csvDirectory(directory: string): TableSource {
  return {
    async tables() {
      return tableNames
        .map((name) => ({ name, file: path.join(directory, `${name}.csv`) }))
        .filter(({ file }) => existsSync(file))
        .map(({ name, file }) => ({
          name,
          label: `${name}.csv`,
          size: statSync(file).size,
          chunks: (chunkSize: number) => csvChunks(file, chunkSize),
        }));
    },
    async close() {},
  };
}

async function* csvChunks(file: string, chunkSize: number): AsyncIterable<SourceChunk> {
  // Pieces of 128 KiB, each parsed at once (1,000 rows, a few ms): the event loop turns between them, and
  // the replies to the import's statements, read meanwhile, are not held up.
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 17 });
  const reader = new CsvReader();
  let header: string[] | null = null;
  let items: SourceItem[] = [];
  let unreadable: SourceChunk['unreadable'] = [];
  const take = (rows: CsvRow[]) => {
    for (const row of rows) {
      if ('error' in row) unreadable.push({ line: row.line, reason: `unreadable: ${row.error}` });
      else if (header === null) header = row.fields.map((column) => column.trim().toLowerCase());
      else items.push({ line: row.line, record: recordOf(header, row.fields) });
    }
  };
  for await (const text of stream as AsyncIterable<string>) {
    take(reader.feed(text));
    if (items.length >= chunkSize) {
      // Chunks of exactly chunkSize rows: a resumed import's chunks are the first one's.
      while (items.length >= chunkSize) {
        const chunk = items.slice(0, chunkSize);
        items = items.slice(chunkSize);
        yield { items: chunk, unreadable, position: stream.bytesRead };
        unreadable = [];
      }
    }
  }
  take(reader.end());
  if (items.length > 0 || unreadable.length > 0) yield { items, unreadable, position: stream.bytesRead };
}

function recordOf(header: readonly string[], fields: readonly string[]): SourceRecord {
  const record: Record<string, string> = {};
  const n = Math.min(header.length, fields.length);
  for (let i = 0; i < n; i++) record[header[i]!] = fields[i]!;
  return record;
}

/** The existing system's database: its tables read in pages by id, every value as text. */
export function postgresSource(url: string): TableSource {
  const client = new pg.Client({ connectionString: url });
  let connected: Promise<unknown> | null = null;
  const connect = () => (connected ??= client.connect());
  return {
    async tables() {
      await connect();
      const present = await client.query<{ name: string }>(
        `SELECT table_name AS name FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_name = ANY($1)`,
        [tableNames],
      );
      const names = new Set(present.rows.map((r) => r.name));
      const tables: SourceTable[] = [];
      for (const name of tableNames.filter((n) => names.has(n))) {
        const counted = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${name}`);
        tables.push({
          name,
          label: name,
          size: Number(counted.rows[0]!.n),
          chunks: (chunkSize) => tableChunks(client, name, chunkSize),
        });
      }
      return tables;
    },
    async close() {
      if (connected) await client.end();
    },
  };
}

async function* tableChunks(client: pg.Client, table: TableName, chunkSize: number): AsyncIterable<SourceChunk> {
  let after: string | null = null;
  let position = 0;
  for (;;) {
    // Keyset by id, in the id column's own type (its index serves the order).
    const page: pg.QueryResult<{ id: string; row: Record<string, unknown> }> = await client.query(
      `SELECT t.id::text AS id, to_jsonb(t) AS row FROM ${table} t
       ${after === null ? '' : 'WHERE t.id > $2'} ORDER BY t.id LIMIT $1`,
      after === null ? [chunkSize] : [chunkSize, after],
    );
    if (page.rows.length === 0) return;
    position += page.rows.length;
    after = page.rows[page.rows.length - 1]!.id;
    yield {
      items: page.rows.map(({ id, row }) => ({ line: id, record: asText(row) })),
      unreadable: [],
      position,
    };
  }
}

/** A row of to_jsonb as the CSV export would write it: JSON columns as JSON text, the rest as text. */
function asText(row: Record<string, unknown>): SourceRecord {
  const record: Record<string, string> = {};
  for (const [column, value] of Object.entries(row)) {
    if (value === null || value === undefined) continue;
    record[column] = typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return record;
}
