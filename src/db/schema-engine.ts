// The Prisma schema engine compiled to WebAssembly, driven over an in-memory PGlite: it writes
// migration SQL and checks drift without the native engine binary (see shared notes on Prisma).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import * as engineGlue from '@prisma/schema-engine-wasm/schema_engine_bg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { lockfileContent, lockfileName, migrationsDir, readMigrations, schemaPath } from './migration-files.ts';
import { pgliteExtensions } from './pglite-extensions.ts';

const require = createRequire(import.meta.url);

interface SchemaEngineInstance {
  diff(params: unknown): Promise<{ exitCode: number; stdout: string | null }>;
  free(): void;
}

let wasmReady: Promise<void> | undefined;

function loadWasm(): Promise<void> {
  wasmReady ??= (async () => {
    const glue = engineGlue as unknown as Record<string, unknown> & {
      __wbg_set_wasm(exports: WebAssembly.Exports): void;
    };
    const wasmPath = path.join(
      path.dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg')),
      'schema_engine_bg.wasm',
    );
    const { instance } = await WebAssembly.instantiate(await readFile(wasmPath), {
      './schema_engine_bg.js': glue as WebAssembly.ModuleImports,
    });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
  })();
  return wasmReady;
}

/** The adapter's factory, but its shadow database (where the engine replays the migrations) loads our extensions. */
class WithExtensions extends PrismaPGlite {
  override async connectToShadowDb() {
    return new PrismaPGlite(await PGlite.create({ extensions: pgliteExtensions })).connect();
  }
}

export const emptyMigration = '-- This is an empty migration.';

/** SQL that takes a database from the committed migrations to schema.prisma (empty migration when none). */
export async function diffMigrationsToSchema(dir = migrationsDir): Promise<string> {
  await loadWasm();
  const schemaText = await readFile(schemaPath, 'utf8');
  const migrations = await readMigrations(dir);
  const pglite = await PGlite.create({ extensions: pgliteExtensions });
  const adapterFactory = bindMigrationAwareSqlAdapterFactory(new WithExtensions(pglite));
  const { SchemaEngine } = engineGlue as unknown as {
    SchemaEngine: {
      new: (opts: unknown, log: (msg: string) => void, adapter: object) => Promise<SchemaEngineInstance>;
    };
  };
  const engine = await SchemaEngine.new({ datamodels: [[schemaPath, schemaText]] }, () => {}, adapterFactory);
  try {
    const result = await engine.diff({
      from: {
        tag: 'migrations',
        baseDir: dir,
        lockfile: { path: lockfileName, content: lockfileContent },
        shadowDbInitScript: '',
        migrationDirectories: migrations.map((m) => ({
          path: m.name,
          migrationFile: { path: 'migration.sql', content: { tag: 'ok', value: m.sql } },
        })),
      },
      to: { tag: 'schemaDatamodel', files: [{ path: schemaPath, content: schemaText }] },
      script: true,
      exitCode: null,
      filters: { externalTables: [], externalEnums: [] },
    });
    return (result.stdout ?? '').trim();
  } finally {
    engine.free();
    await pglite.close();
  }
}

export function isEmptyMigration(sql: string): boolean {
  return sql === '' || sql === emptyMigration;
}
