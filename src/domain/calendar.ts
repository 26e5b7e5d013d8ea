// Calendar days in a learner's time zone. Dates are 'YYYY-MM-DD' strings; instants are Dates.

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The calendar date of an instant in an IANA time zone. */
export function localDate(instant: Date, timeZone: string): string {
  let format = formatters.get(timeZone);
  if (!format) {
    // en-CA formats dates as YYYY-MM-DD.
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, format);
  }
  return format.format(instant);
}

/** A calendar day written YYYY-MM-DD that exists (not 2025-02-30, not 2025-13-45). */
export function isDay(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const day = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(day.getTime()) && day.toISOString().slice(0, 10) === value;
}

/** The date n days after a date (n may be negative). */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Whole days from one date to another. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/** A date as Prisma's @db.Date wants it: midnight UTC. */
export function dateValue(date: string): Date {
  return new Date(`${date}T00:00:00Z`);
}

/** The 'YYYY-MM-DD' of a @db.Date value read back from the database. */
export function dateString(value: Date): string {
  return value.toISOString().slice(0, 10);
}

/** Whether `zone` is an IANA time zone this runtime knows (UTC, Europe/Berlin, Asia/Kolkata, …). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** The offset of a time zone from UTC at an instant, in milliseconds. */
function zoneOffsetMs(instant: Date, timeZone: string): number {
  let format = offsetFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    offsetFormats.set(timeZone, format);
  }
  const parts = format.formatToParts(instant);
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(instant.getTime() / 1000) * 1000;
}

/** The instant a calendar day ('YYYY-MM-DD') begins in a time zone (as SQL's `date::timestamp AT TIME ZONE tz`). */
export function startOfDay(date: string, timeZone: string): Date {
  return wallClockInstant(`${date}T00:00:00`, timeZone);
}

/**
 * The instant a wall-clock time ('YYYY-MM-DDTHH:MM:SS[.sss]', no zone) stands for in a time zone, as
 * SQL's `timestamp AT TIME ZONE tz`.
 */
export function wallClockInstant(wallClock: string, timeZone: string): Date {
  const asUtc = Date.parse(`${wallClock}Z`);
  if (timeZone === 'UTC') return new Date(asUtc);
  let instant = asUtc - zoneOffsetMs(new Date(asUtc), timeZone);
  // Once more with the offset in force at that instant (a DST change between the two guesses).
  instant = asUtc - zoneOffsetMs(new Date(instant), timeZone);
  return new Date(instant);
}
