// The demo's two weeks as the scheduler would have processed them: every NIGHTLY and MASTERY_DECAY
// slot from the first demo attempt to now, oldest first, through the real job code (runJob, as the
// scheduler calls it). Masteries, their history, question statistics, plans, usage and learning
// patterns then hold real values from the first start, and the scheduler finds no slot to catch up.
import type { Database } from '../db/client.ts';
import type { JobName } from '../generated/prisma/client.ts';
import type { JobsConfig } from '../jobs/config.ts';
import { runJob } from '../jobs/run.ts';
import { cronSlots, scheduledRunDate } from '../jobs/slots.ts';

export interface DemoHistoryResult {
  nightly: number;
  decay: number;
  failed: number;
}

export async function processDemoHistory(
  db: Database,
  config: JobsConfig,
  now = new Date(),
): Promise<DemoHistoryResult> {
  const [first] = await db.prisma.$queryRaw<{ at: Date | null }[]>`SELECT min(recorded_at) AS at FROM attempts`;
  const result: DemoHistoryResult = { nightly: 0, decay: 0, failed: 0 };
  if (!first?.at) return result;
  const after = new Date(first.at.getTime() - 1);
  const slotsOf = (job: JobName, cron: string) =>
    cronSlots(cron, config.timezone, after, now).map((slot) => ({ job, slot }));
  const slots = [...slotsOf('NIGHTLY', config.nightlyCron), ...slotsOf('MASTERY_DECAY', config.decayCron)].sort(
    (a, b) => a.slot.getTime() - b.slot.getTime() || (a.job === 'NIGHTLY' ? -1 : 1),
  );
  for (const { job, slot } of slots) {
    const date = job === 'NIGHTLY' ? scheduledRunDate(slot, config.timezone) : undefined;
    const run = await runJob(db, config, { job, slot, at: slot, date });
    if (run.outcome === 'failed') result.failed++;
    else if (job === 'NIGHTLY') result.nightly++;
    else result.decay++;
  }
  return result;
}
