// `npm run import`, `npm run rebuild` and `npm run export:xapi` as an operator runs them: the report
// on stdout, plain progress lines without a terminal, exit 2 on a bad request.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { writeSeedExport } from '../../src/demo/seed-export.ts';
import { type CommandDatabase, commandDatabase } from '../support/commands.ts';

let commands: CommandDatabase;
let dir: string;
let exported: Awaited<ReturnType<typeof writeSeedExport>>;

beforeAll(async () => {
  commands = await commandDatabase('import-cli');
  dir = await mkdtemp(path.join(tmpdir(), 'learnloop-import-cli-'));
  exported = await writeSeedExport(dir, {
    learners: 8,
    attempts: 120,
    days: 5,
    end: new Date(Date.now() - 86_400_000),
    seed: 3,
  });
});
afterAll(async () => {
  await commands?.destroy();
  await rm(dir, { recursive: true, force: true });
});

test('import, import again, rebuild and export', async () => {
  const first = await commands.run('import', dir);
  expect(first.code).toBe(0);
  expect(first.stderr).toContain('attempts.csv: reading');
  expect(first.stdout).toContain(`attempts         ${exported.attempts} imported, 0 skipped as present, 0 refused`);
  expect(first.stdout).toMatch(/rebuild as of \S+ \(\d+ nightly slots\)/);
  expect(first.stdout).toContain(`mastery: ${exported.users} learners`);

  const again = await commands.run('import', dir, '--no-rebuild');
  expect(again.code).toBe(0);
  expect(again.stdout).toContain(`attempts         0 imported, ${exported.attempts} skipped as present, 0 refused`);
  expect(again.stdout).not.toContain('rebuild as of');

  const rebuilt = await commands.run('rebuild');
  expect(rebuilt.code).toBe(0);
  expect(rebuilt.stdout).toContain("0 attempts' masteryAtAttempt set");

  const xapi = await commands.run('export-xapi');
  expect(xapi.code).toBe(0);
  expect(xapi.stdout.trim().split('\n')).toHaveLength(exported.attempts);
  expect(JSON.parse(xapi.stdout.split('\n')[0]!).verb.id).toBe('http://adlnet.gov/expapi/verbs/answered');
  expect(xapi.stderr).toContain(`export-xapi: ${exported.attempts} statements`);
}, 180_000);

test('a bad request exits 2 and says what is wrong', async () => {
  const none = await commands.run('import');
  expect(none.code).toBe(2);
  expect(none.stderr).toContain('import needs a directory of CSV files');
  const zone = await commands.run('import', dir, '--timezone', 'Mars/Olympus');
  expect(zone.code).toBe(2);
  expect(zone.stderr).toContain('--timezone Mars/Olympus is not an IANA zone');
  const day = await commands.run('export-xapi', '--from', '2025-13-01');
  expect(day.code).toBe(2);
}, 120_000);
