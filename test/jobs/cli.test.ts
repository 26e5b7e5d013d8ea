// `npm run job`: a backfill runs the days in order through the same ledger (plain lines without a
// terminal); a run held elsewhere or a bad request exits non-zero with a clear message.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { openDatabase } from '../../src/db/client.ts';
import { type CommandDatabase, commandDatabase } from '../support/commands.ts';

let commands: CommandDatabase;
beforeAll(async () => {
  commands = await commandDatabase('job-cli');
});
afterAll(async () => commands?.destroy());

const job = (...args: string[]) => commands.run('job', ...args);

test('a backfill runs each day as the slot that closes it, once', async () => {
  const backfill = await job('nightly', '--from', '2025-03-01', '--to', '2025-03-02');
  expect(backfill.stderr).toBe('');
  expect(backfill.code).toBe(0);
  expect(backfill.stdout).toContain('NIGHTLY 2025-03-01: masteryEwma done in');
  expect(backfill.stdout).toMatch(/NIGHTLY 2025-03-01 \(as of 2025-03-02T02:00:00.000Z\): SUCCEEDED in [\d.]+ s/);
  expect(backfill.stdout).toMatch(/NIGHTLY 2025-03-02 \(as of 2025-03-03T02:00:00.000Z\): SUCCEEDED/);
  expect(backfill.stdout.indexOf('NIGHTLY 2025-03-01 (as of')).toBeLessThan(
    backfill.stdout.indexOf('NIGHTLY 2025-03-02 (as of'),
  );

  const again = await job('nightly', '--date', '2025-03-01');
  expect(again.code).toBe(0);
  expect(again.stdout).toMatch(/NIGHTLY 2025-03-01 \(as of 2025-03-02T02:00:00.000Z\): already done by run/);
});

test('a run held by another owner, or a bad request, exits non-zero with a message', async () => {
  const db = await openDatabase(commands.database);
  try {
    // MASTERY_DECAY for 2025-03-01 is the 00:00 slot of the 2nd.
    await db.prisma.jobRun.create({
      data: {
        job: 'MASTERY_DECAY',
        slot: new Date('2025-03-02T00:00:00Z'),
        owner: 'elsewhere#1',
        leaseUntil: new Date(Date.now() + 3_600_000),
      },
    });
  } finally {
    await db.close();
  }
  const busy = await job('decay', '--date', '2025-03-01');
  expect(busy.code).toBe(1);
  expect(busy.stderr).toContain('learnloop: MASTERY_DECAY 2025-03-01 is running elsewhere');

  const bad = await job('nightly', '--from', '2025-03-02');
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('learnloop: --from and --to go together');
  const noSuchDay = await job('nightly', '--date', '2025-13-45');
  expect(noSuchDay.code).toBe(2);
  expect(noSuchDay.stderr).toContain('learnloop: --date 2025-13-45 is not a day (YYYY-MM-DD)');
});

test('--full runs a day as a full rebuild, recorded in its stats', async () => {
  const full = await job('nightly', '--date', '2025-03-05', '--full');
  expect(full.stderr).toBe('');
  expect(full.code).toBe(0);
  const db = await openDatabase(commands.database);
  try {
    const run = await db.prisma.jobRun.findFirstOrThrow({ where: { job: 'NIGHTLY', runDate: new Date('2025-03-05') } });
    expect(run).toMatchObject({ status: 'SUCCEEDED', stats: expect.objectContaining({ full: true }) });
  } finally {
    await db.close();
  }
}, 120_000);
