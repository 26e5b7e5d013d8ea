// The import writes through one connection of its own, statements with $n parameters straight to the
// driver: Prisma's per-parameter work costs more than the database's for chunks of thousands of rows.
import type { Database } from '../db/client.ts';
import type { SqlRunner } from '../services/attempt-batches.ts';

export interface ImportConnection {
  run: SqlRunner;
  /** Runs `work` in one transaction on this connection: all of it commits, or none. */
  transaction<T>(work: () => Promise<T>): Promise<T>;
  release(): Promise<void>;
}

export async function importConnection(db: Database): Promise<ImportConnection> {
  const connection = await db.connect();
  return {
    run: <T>(sql: string, params: unknown[]) => connection.query<T>(sql, params),
    async transaction(work) {
      await connection.exec('BEGIN');
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
