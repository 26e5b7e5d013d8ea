// Numbers and dates as the viewer reads them: instants in the viewer's time zone and locale;
// calendar days (a learner's day, a cohort day) as the dates they are.
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dayFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });

export const percent = (value: number | null | undefined, digits = 1): string =>
  value === null || value === undefined ? '—' : `${(value * 100).toFixed(digits)}%`;

export const decimal = (value: number | null | undefined, digits = 2): string =>
  value === null || value === undefined ? '—' : value.toFixed(digits);

export const integer = (value: number): string => value.toLocaleString();

/** An instant (ISO string) in the viewer's time zone. */
export const dateTime = (iso: string | null | undefined): string => (iso ? dateTimeFormat.format(new Date(iso)) : '—');

/** A calendar day (YYYY-MM-DD), whatever the viewer's zone. */
export const day = (date: string): string => dayFormat.format(dayInstant(date));

/** Midnight UTC of a calendar day: charts place days on it, and show them in UTC. */
export const dayInstant = (date: string): Date => new Date(`${date}T00:00:00Z`);

/** Today (offset 0), tomorrow (1), … as YYYY-MM-DD in a time zone (the viewer's by default). */
export function localDate(offsetDays = 0, timeZone?: string): string {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
    .format(new Date())
    .slice(0, 10);
  const shifted = dayInstant(today);
  shifted.setUTCDate(shifted.getUTCDate() + offsetDays);
  return shifted.toISOString().slice(0, 10);
}

export const minutes = (seconds: number | null | undefined): string =>
  seconds === null || seconds === undefined ? '—' : `${(seconds / 60).toFixed(1)} min`;
