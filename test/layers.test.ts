// The dependency rule of the README ("The tree"), checked on every import under src/:
//   schema → services → domain and db;  jobs → jobs/steps → domain and db, both reusing services;
//   domain imports only domain; db only db and the generated client; nothing imports schema but the
//   server (and schema itself); the shared modules at src/ import no layer above them.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const src = fileURLToPath(new URL('../src/', import.meta.url));

/** The layer of a file under src/, by its folder; the files at src/ itself are named one by one. */
function layerOf(file: string): string {
  const [first, second] = file.split('/');
  if (first === 'jobs' && second === 'steps') return 'jobs/steps';
  if (!file.includes('/')) return entryPoints.has(file) ? 'entry' : 'shared';
  if (first === 'server') return 'entry'; // the server's own parts (the dashboard route)
  return first!;
}

/** What starts or wires the whole application: free to import any layer. */
const entryPoints = new Set(['cli.ts', 'evaluate-cli.ts', 'service.ts', 'server.ts', 'websocket.ts']);

/** The layers each layer may import (its own always). */
const allowed: Record<string, readonly string[]> = {
  domain: [],
  generated: [],
  db: ['generated'],
  shared: ['domain', 'db', 'generated', 'jobs/config'],
  services: ['shared', 'domain', 'db', 'generated'],
  'jobs/steps': ['jobs/context', 'services', 'shared', 'domain', 'db', 'generated'],
  jobs: ['jobs/steps', 'services', 'shared', 'domain', 'db', 'generated'],
  schema: ['services', 'jobs', 'shared', 'domain', 'db', 'generated'],
  demo: ['jobs', 'jobs/config', 'services', 'shared', 'domain', 'db', 'generated'],
  // Bringing history in: sources and loading, then the derived state rebuilt with the jobs' steps.
  import: ['jobs', 'jobs/steps', 'jobs/config', 'jobs/context', 'services', 'shared', 'domain', 'db', 'generated'],
  entry: ['schema', 'services', 'jobs', 'jobs/steps', 'demo', 'import', 'shared', 'domain', 'db', 'generated'],
};

/** A few single files other layers may reach into: the jobs' settings and the steps' context. */
function targetsOf(file: string): string[] {
  const layer = layerOf(file);
  if (file === 'jobs/config.ts') return [layer, 'jobs/config'];
  if (file === 'jobs/context.ts') return [layer, 'jobs/context'];
  return [layer];
}

function sourceFiles(dir = ''): string[] {
  return readdirSync(path.join(src, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) return entry.name === 'generated' ? [] : sourceFiles(relative);
    return entry.name.endsWith('.ts') ? [relative] : [];
  });
}

/** The files under src/ a file imports (static, dynamic and type imports, and re-exports). */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(src, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)].map((m) => m[1]!);
  return specifiers.map((specifier) => path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)));
}

describe('layers', () => {
  const files = sourceFiles();

  test('every import under src/ follows the dependency rule', () => {
    const crossings: string[] = [];
    expect(files.map(layerOf).filter((layer) => !allowed[layer])).toEqual([]); // a new folder needs its rule
    for (const file of files) {
      const layer = layerOf(file);
      for (const target of importsOf(file)) {
        const ok = targetsOf(target).some((t) => t === layer || allowed[layer]!.includes(t));
        if (!ok) crossings.push(`${file} (${layer}) imports ${target} (${layerOf(target)})`);
      }
    }
    expect(crossings).toEqual([]);
  });

  test('nothing imports the schema but the server', () => {
    const importers = files.filter(
      (file) => layerOf(file) !== 'schema' && importsOf(file).some((target) => layerOf(target) === 'schema'),
    );
    expect(importers).toEqual(['server.ts']);
  });

  test('the check sees the imports it checks', () => {
    expect(importsOf('server.ts')).toContain('schema/index.ts');
    expect(importsOf('jobs/steps/plans.ts')).toContain('jobs/context.ts');
    expect(layerOf('services/plans.ts')).toBe('services');
  });
});
