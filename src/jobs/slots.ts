// Slots: the instants a cron schedule stands for, and the days runs close.
//
// Catch-up must list exactly the instants node-schedule fires at, so the cron expressions are read
// with node-schedule's own parser (cron-parser, its dependency), loaded from node-schedule's location.
import { createRequire } from 'node:module';
import { addDays, localDate, startOfDay } from '../domain/calendar.ts';

interface CronIterator {
  hasNext(): boolean;
  next(): { toDate(): Date };
}
interface CronParser {
  parseExpression(expression: string, options: { currentDate?: Date; endDate?: Date; tz?: string }): CronIterator;
}

const requireFromSchedule = createRequire(createRequire(import.meta.url).resolve('node-schedule'));
const cronParser = requireFromSchedule('cron-parser') as CronParser;

/** Throws unless `expression` is a 5-field (minute precision) or 6-field (seconds) cron expression. */
export function parseCron(expression: string, timezone: string): void {
  const fields = expression.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) throw new Error(`expected 5 or 6 fields, got ${fields}`);
  cronParser.parseExpression(expression, { tz: timezone }).next();
}

/** The instants of a cron schedule in (after, until], oldest first, at most `limit` of the newest. */
export function cronSlots(expression: string, timezone: string, after: Date, until: Date, limit = 10_000): Date[] {
  if (until.getTime() <= after.getTime()) return [];
  const iterator = cronParser.parseExpression(expression, { currentDate: after, endDate: until, tz: timezone });
  const slots: Date[] = [];
  while (iterator.hasNext()) {
    slots.push(iterator.next().toDate());
    if (slots.length > limit) slots.shift();
  }
  return slots;
}

/** The first instant of a cron schedule at or after `from` and before `before`, or null. */
export function firstSlotIn(expression: string, timezone: string, from: Date, before: Date): Date | null {
  const iterator = cronParser.parseExpression(expression, {
    currentDate: new Date(from.getTime() - 1),
    endDate: before,
    tz: timezone,
  });
  if (!iterator.hasNext()) return null;
  const slot = iterator.next().toDate();
  return slot.getTime() < before.getTime() ? slot : null;
}

/** The day a scheduled NIGHTLY slot closes: the day before the slot's date (02:00 closes yesterday). */
export function scheduledRunDate(slot: Date, timeZone: string): string {
  return addDays(localDate(slot, timeZone), -1);
}

/**
 * The slot that closes a day: the schedule's first instant on the next day (02:00 for the default
 * NIGHTLY_CRON, 00:00 for MASTERY_DECAY), or the start of the next day when the schedule has none
 * on it. A backfill of that day by hand is then the very run the scheduler would have made.
 */
export function slotClosingDay(date: string, expression: string, timeZone: string): Date {
  const nextDay = startOfDay(addDays(date, 1), timeZone);
  const dayAfter = startOfDay(addDays(date, 2), timeZone);
  return firstSlotIn(expression, timeZone, nextDay, dayAfter) ?? nextDay;
}
