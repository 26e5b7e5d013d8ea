// `npm run db:migration -- <name>`: writes prisma/migrations/<timestamp>_<name>/migration.sql from the
// difference between the committed migrations and prisma/schema.prisma.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { lockfileContent, lockfileName, migrationsDir } from './migration-files.ts';
import { diffMigrationsToSchema, isEmptyMigration } from './schema-engine.ts';

function utcStamp(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

const name = (process.argv[2] ?? '')
  .trim()
  .toLowerCase()
  .replace(/[^a-z0-9]+/g, '_')
  .replace(/^_|_$/g, '');
if (!name) {
  console.error('usage: npm run db:migration -- <name>   (e.g. add_user_locale)');
  process.exit(2);
}
const sql = await diffMigrationsToSchema();
if (isEmptyMigration(sql)) {
  console.log('prisma/schema.prisma matches the committed migrations: nothing to write.');
} else {
  const dir = path.join(migrationsDir, `${utcStamp(new Date())}_${name}`);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'migration.sql'), `${sql}\n`);
  await writeFile(path.join(migrationsDir, lockfileName), lockfileContent);
  console.log(`wrote ${path.relative(process.cwd(), dir)}/migration.sql`);
}
