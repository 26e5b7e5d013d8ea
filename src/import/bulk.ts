// A first import loads the attempts table without its primary key, its four secondary indexes and its
// three foreign keys, and builds them once at the end. Each attempt inserted otherwise costs an entry
// in every index, in random order (their keys start with a random uuid), and three key checks, each a
// query of its own (at 20,000 rows a chunk: 380 of the statement's 790 ms): most of the database's work.
// The primary key was the largest part left (an id from gen_random_uuid() lands on a random page of an
// index the size of the table: about 130 of 220 ms a chunk of 10,000 at a million rows); its ids are
// the database's own, unique without a check. Building an index from one sorted scan, and checking a
// foreign key by one join over the table (PostgreSQL does so when a constraint is added), costs a
// second or two at a million rows. The two unique indexes the load's anti-join reads stay (they decide
// what is present and which attempt_no is taken); the keys the import writes are the ids it looked up
// or created (import_keys, the session join), so the final check holds.
//
// It happens only when the attempts table is empty: a new installation being loaded, where nothing
// else is recording, so nothing else misses the indexes or the checks. They come back when the table
// is loaded, or the import fails or is stopped; after a kill, at the start of the next import or
// rebuild (restoreAttemptIndexes) — until then queries are slower, not wrong.
import type { ImportConnection } from './connection.ts';

/** The primary key, secondary indexes and foreign keys of attempts, as the migration creates them (…_init). */
const primaryKey = ['attempts_pkey', 'PRIMARY KEY ("id")'] as const;
const secondaryIndexes = [
  ['attempts_user_id_recorded_at_idx', '"user_id", "recorded_at"'],
  ['attempts_session_id_recorded_at_idx', '"session_id", "recorded_at"'],
  ['attempts_question_id_idx', '"question_id"'],
  ['attempts_recorded_at_idx', '"recorded_at"'],
] as const;
const foreignKeys = [
  ['attempts_user_id_fkey', '("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE'],
  ['attempts_question_id_fkey', '("question_id") REFERENCES "questions"("id") ON DELETE RESTRICT ON UPDATE CASCADE'],
  ['attempts_session_id_fkey', '("session_id") REFERENCES "sessions"("id") ON DELETE SET NULL ON UPDATE CASCADE'],
] as const;

/**
 * Drops the primary key, secondary indexes and foreign keys when the attempts table is empty; says
 * whether it did.
 * (An import that was interrupted, or the same files again, goes with them: its rows are mostly
 * present, and building the indexes again would cost more than the rows it writes.)
 */
export async function dropAttemptIndexesForFirstLoad(conn: ImportConnection): Promise<boolean> {
  const [row] = await conn.run<{ empty: boolean }>('SELECT NOT EXISTS (SELECT 1 FROM attempts) AS empty', []);
  if (!row?.empty) return false;
  await conn.transaction(async () => {
    for (const [name] of foreignKeys) await conn.run(`ALTER TABLE "attempts" DROP CONSTRAINT IF EXISTS "${name}"`, []);
    for (const [name] of secondaryIndexes) await conn.run(`DROP INDEX IF EXISTS "${name}"`, []);
    await conn.run(`ALTER TABLE "attempts" DROP CONSTRAINT IF EXISTS "${primaryKey[0]}"`, []);
  });
  return true;
}

/** Builds the primary key, secondary indexes and foreign keys that are missing (none: nothing is locked). */
export async function restoreAttemptIndexes(conn: ImportConnection): Promise<void> {
  const present = await conn.run<{ name: string }>(
    `SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'attempts'
     UNION ALL SELECT conname FROM pg_constraint WHERE conrelid = 'attempts'::regclass AND contype = 'f'`,
    [],
  );
  const names = new Set(present.map((p) => p.name));
  const missingIndexes = secondaryIndexes.filter(([name]) => !names.has(name));
  const missingKeys = foreignKeys.filter(([name]) => !names.has(name));
  const missingPrimaryKey = !names.has(primaryKey[0]);
  if (!missingPrimaryKey && missingIndexes.length === 0 && missingKeys.length === 0) return;
  await conn.transaction(async () => {
    // A build sorts the whole table: on PostgreSQL with the memory of a bulk job rather than the default.
    if (conn.kind === 'postgres') await conn.run("SET LOCAL maintenance_work_mem = '256MB'", []);
    if (missingPrimaryKey)
      await conn.run(`ALTER TABLE "attempts" ADD CONSTRAINT "${primaryKey[0]}" ${primaryKey[1]}`, []);
    for (const [name, columns] of missingIndexes)
      await conn.run(`CREATE INDEX "${name}" ON "attempts"(${columns})`, []);
    // Adding a foreign key checks every row by one join.
    for (const [name, reference] of missingKeys)
      await conn.run(`ALTER TABLE "attempts" ADD CONSTRAINT "${name}" FOREIGN KEY ${reference}`, []);
  });
}
