// Runs once before the suite: migrates one database of each kind as a template, so that each test
// file's fresh database is a copy instead of a new cluster plus every migration (on PGlite a new
// cluster costs several times what loading an archive of a migrated one does).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/client.ts';
import { applyMigrations } from '../../src/db/migrate.ts';
import { pgliteExtensions } from '../../src/db/pglite-extensions.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A tar archive of a migrated PGlite data directory. */
    pgliteTemplate: string;
    /** The name of a migrated PostgreSQL database on TEST_DATABASE_URL's server, or '' without one. */
    postgresTemplate: string;
  }
}

async function pgliteTemplate(dir: string): Promise<string> {
  const pglite = await PGlite.create({ extensions: pgliteExtensions });
  await applyMigrations({
    query: async <T>(sql: string, params?: unknown[]) => (await pglite.query<T>(sql, params)).rows,
    exec: async (sql: string) => void (await pglite.exec(sql)),
    release: async () => {},
  });
  const archive = await pglite.dumpDataDir('none');
  await pglite.close();
  const file = path.join(dir, 'template.tar');
  await writeFile(file, Buffer.from(await archive.arrayBuffer()));
  return file;
}

async function onServer(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function postgresTemplate(serverUrl: string): Promise<{ name: string; drop: () => Promise<void> }> {
  const name = `ll_template_${process.pid}`;
  await onServer(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await onServer(serverUrl, `CREATE DATABASE "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  await (await openDatabase({ kind: 'postgres', url: url.toString(), poolSize: 1 })).close();
  return { name, drop: () => onServer(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(path.join(tmpdir(), 'learnloop-template-'));
  const serverUrl = process.env.TEST_DATABASE_URL;
  const [pglite, postgres] = await Promise.all([pgliteTemplate(dir), serverUrl ? postgresTemplate(serverUrl) : null]);
  project.provide('pgliteTemplate', pglite);
  project.provide('postgresTemplate', postgres?.name ?? '');
  return async () => {
    await rm(dir, { recursive: true, force: true });
    await postgres?.drop();
  };
}
