// A chunk's rows go to the database by COPY into a temporary staging table (dropped at the chunk's
// commit), and from there into Learnloop's tables by one set-based statement per table: COPY costs a
// fraction of bound parameters per row, and the statement keeps the import's rules (ON CONFLICT for
// idempotency, joins for session links). Values the database refuses while copying (a NUL character,
// a JSON text jsonb cannot hold) are refused alone: the failing line of the COPY names the row, the
// chunk is copied again without it.
import type { ImportConnection } from './connection.ts';

export type CopyValue = string | number | boolean | Date | null;

export interface StagedRow {
  /** The row's index in its chunk (what a refusal names). */
  index: number;
  values: readonly CopyValue[];
}

export interface StageTable {
  name: string;
  /** Columns in COPY order after `ord` (the row's index), as [name, type]: named as the source's where they are its. */
  columns: readonly (readonly [string, string])[];
}

const special = /[\\\t\n\r]/;
const escapes: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One value in COPY's text format (tab-separated fields, \N for null, backslash escapes). */
export function copyField(value: CopyValue): string {
  if (value === null) return '\\N';
  if (typeof value === 'string') return special.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => escapes[c]!) : value;
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

export function copyText(rows: readonly StagedRow[]): string {
  let text = '';
  for (const row of rows) text += `${row.index}\t${row.values.map(copyField).join('\t')}\n`;
  return text;
}

/** The next turn of the event loop: a long piece of work gives way to I/O by awaiting it. */
export const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** copyText, giving way to I/O every `slice` rows: it runs beside the statements of another chunk. */
export async function copyTextGivingWay(rows: readonly StagedRow[], slice = 500): Promise<string> {
  const parts: string[] = [];
  for (let i = 0; i < rows.length; i += slice) {
    if (i > 0) await nextTurn();
    parts.push(copyText(rows.slice(i, i + slice)));
  }
  return parts.join('');
}

/** Rows of this process's own making in COPY's text format, without the index a refusal would name. */
export function copyRowsText(rows: readonly (readonly CopyValue[])[]): string {
  let text = '';
  for (const values of rows) text += `${values.map(copyField).join('\t')}\n`;
  return text;
}

/** The COPY line a database error names ("COPY stage, line 3, column x: …"), if it names one. */
function failedLine(error: unknown): { line: number; column: string | null; message: string } | null {
  const where = (error as { where?: unknown }).where;
  if (typeof where !== 'string') return null;
  const match = /COPY \S+, line (\d+)(?:, column (\w+))?/.exec(where);
  if (!match) return null;
  return { line: Number(match[1]), column: match[2] ?? null, message: (error as Error).message };
}

/**
 * Creates `table` for this transaction and copies `rows` into it (`text`: copyText of `rows`, when
 * made beforehand). Returns the rows the database refused, each with its reason; the others are in
 * the table. Runs inside the chunk's transaction.
 */
export async function stageRows(
  conn: ImportConnection,
  table: StageTable,
  rows: readonly StagedRow[],
  text?: string,
): Promise<{ index: number; reason: string }[]> {
  const definitions = table.columns.map(([name, type]) => `${name} ${type}`).join(', ');
  await conn.run(`CREATE TEMP TABLE ${table.name} (ord int, ${definitions}) ON COMMIT DROP`, []);
  const target = `${table.name} (ord, ${table.columns.map(([name]) => name).join(', ')})`;
  const refused: { index: number; reason: string }[] = [];
  let remaining = rows;
  while (remaining.length > 0) {
    await conn.run('SAVEPOINT stage', []);
    try {
      await conn.copyFrom(target, remaining === rows && text !== undefined ? text : copyText(remaining));
      await conn.run('RELEASE SAVEPOINT stage', []);
      break;
    } catch (error) {
      const failed = failedLine(error);
      if (!failed || failed.line < 1 || failed.line > remaining.length) throw error;
      await conn.run('ROLLBACK TO SAVEPOINT stage', []);
      const bad = remaining[failed.line - 1]!;
      refused.push({ index: bad.index, reason: `${failed.column ?? 'a value'}: ${failed.message}` });
      remaining = remaining.filter((r) => r !== bad);
    }
  }
  return refused;
}
