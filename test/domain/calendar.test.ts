import { describe, expect, test } from 'vitest';
import { addDays, daysBetween, isDay, localDate } from '../../src/domain/calendar.ts';

describe('calendar', () => {
  test('the local date of an instant depends on the zone', () => {
    const instant = new Date('2026-03-08T04:30:00Z');
    expect(localDate(instant, 'UTC')).toBe('2026-03-08');
    expect(localDate(instant, 'America/New_York')).toBe('2026-03-07');
    expect(localDate(new Date('2026-03-08T19:00:00Z'), 'Asia/Kolkata')).toBe('2026-03-09');
  });

  test('days are added across month and year ends', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2024-03-01', -1)).toBe('2024-02-29');
    expect(daysBetween('2026-03-01', '2026-03-15')).toBe(14);
  });

  test('a day is YYYY-MM-DD and exists', () => {
    expect(isDay('2024-02-29')).toBe(true);
    expect(isDay('2025-02-29')).toBe(false);
    expect(isDay('2025-13-45')).toBe(false); // no Invalid Date error: just not a day
    expect(isDay('2025-3-1')).toBe(false);
  });
});
