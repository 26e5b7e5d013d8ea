// The import writes through one connection of its own, statements with $n parameters straight to the
// driver (and COPY for bulk rows): Prisma's per-parameter work costs more than the database's for chunks
// of thousands of rows.
import type { Database } from '../db/client.ts';
import type { SqlRunner } from '../services/attempt-batches.ts';

export interface ImportConnection {
  kind: Database['kind'];
  run: SqlRunner;
  /** COPY into `target` ("table (columns)") from text in COPY's text format. */
  copyFrom(target: string, text: string): Promise<void>;
  /** Runs `work` in one transaction on this connection: all of it commits, or none. */
  transaction<T>(work: () => Promise<T>): Promise<T>;
  release(): Promise<void>;
}

export async function importConnection(db: Database): Promise<ImportConnection> {
  const connection = await db.connect();
  return {
    kind: db.kind,
    run: <T>(sql: string, params: unknown[]) => connection.query<T>(sql, params),
    copyFrom: (target, text) => connection.copyFrom(target, text),
    async transaction(work) {
      await connection.exec('BEGIN');
      // A chunk's joins and sorts (tens of MB at 20,000 rows) in memory rather than in temporary files.
      // PGlite keeps its default: its memory, once grown, stays the process's.
      // No JIT: compiling a chunk's statement cost more (55 ms at 20,000 rows) than it saved.
      // No wait for the WAL's flush at commit: a crash loses at most the last transactions, which an import
      // or rebuild started again writes again (an import resumes at the first chunk not present).
      if (db.kind === 'postgres')
        await connection.exec("SET LOCAL work_mem = '64MB'; SET LOCAL jit = off; SET LOCAL synchronous_commit = off");
      try {
        const result = await work();
        await connection.exec('COMMIT');
        return result;
      } catch (error) {
        await connection.exec('ROLLBACK');
        throw error;
      }
    },
    release: () => connection.release(),
  };
}

export async function withImportConnection<T>(db: Database, work: (conn: ImportConnection) => Promise<T>): Promise<T> {
  const conn = await importConnection(db);
  try {
    return await work(conn);
  } finally {
    await conn.release();
  }
}
