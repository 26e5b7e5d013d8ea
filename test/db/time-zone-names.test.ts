// time_zone_names is the server's pg_timezone_names, copied at every start: a zone the server dropped
// goes, a zone it gained comes, and the learners' zones are checked against it.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { refreshTimeZoneNames } from '../../src/db/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.destroy());

const names = async (table: string) =>
  (await db.prisma.$queryRawUnsafe<{ name: string }[]>(`SELECT name FROM ${table} ORDER BY name`)).map((r) => r.name);

test('a started database knows exactly the zones of its server, and a refresh puts them back', async () => {
  const server = await names('pg_timezone_names');
  expect(server).toContain('Asia/Kolkata');
  expect(await names('time_zone_names')).toEqual(server);

  await db.prisma.$executeRaw`DELETE FROM time_zone_names WHERE name = 'Asia/Kolkata'`;
  await db.prisma.$executeRaw`INSERT INTO time_zone_names (name) VALUES ('Mars/Olympus_Mons')`;
  const conn = await db.connect();
  try {
    await refreshTimeZoneNames(conn);
  } finally {
    await conn.release();
  }
  expect(await names('time_zone_names')).toEqual(server);
});
