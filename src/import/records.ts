// The existing system's rows as Learnloop takes them: one pure function per table turns a record (column
// name → text, as a CSV file or the database gives it) into a typed row, or throws a RowError that
// says what is wrong with it. Values in the existing system's style: context 'session'/'practice'/
// 'daily' (any case), booleans true/false/t/f/1/0, JSON arrays for units and options, timestamps
// without a zone in the import's time zone (UTC by default), with a zone as written.
import { isDay, isTimeZone, wallClockInstant } from '../domain/calendar.ts';
import type { AttemptContext, DifficultyBand, Role } from '../generated/prisma/client.ts';

/** A row the import refuses: the message says what is wrong, the import goes on. */
export class RowError extends Error {
  override name = 'RowError';
}

export type SourceRecord = Readonly<Record<string, string | undefined>>;

export interface UserRecord {
  sourceId: string;
  name: string;
  email: string;
  timezone: string | null;
  role: Role;
}

export interface QuestionRecord {
  sourceId: string;
  externalId: string;
  category: string;
  subcategory: string;
  difficultyBand: DifficultyBand;
  answer: string;
  options: unknown;
}

export interface SessionRecord {
  sourceId: string;
  userSourceId: string;
  startedAt: Date;
  endedAt: Date | null;
  durationSec: number | null;
  units: string[];
  notes: string | null;
}

export interface AttemptRecord {
  sourceId: string;
  userSourceId: string;
  questionSourceId: string;
  attemptNo: number;
  context: AttemptContext;
  /** JSON text, checked: copied as it is (parsing and writing it again would cost more than the copy). */
  options: string | null;
  userAnswer: string;
  correct: boolean;
  timeSec: number;
  hintUsed: boolean;
  createdAt: Date;
}

export interface MasteryHistoryRecord {
  sourceId: string;
  userSourceId: string;
  subcategory: string;
  score: number;
  date: string;
}

function text(record: SourceRecord, column: string): string {
  const value = record[column]?.trim();
  if (value === undefined || value === '') throw new RowError(`${column} is empty`);
  return value;
}

function optionalText(record: SourceRecord, column: string): string | null {
  const value = record[column]?.trim();
  return value === undefined || value === '' ? null : value;
}

const booleans = new Map([
  ['true', true],
  ['t', true],
  ['1', true],
  ['yes', true],
  ['false', false],
  ['f', false],
  ['0', false],
  ['no', false],
]);

export function parseBoolean(value: string, column: string): boolean {
  const parsed = booleans.get(value.trim().toLowerCase());
  if (parsed === undefined) throw new RowError(`${column} ${JSON.stringify(value)} is not a boolean (true/false)`);
  return parsed;
}

export function parseNumber(value: string, column: string, min: number, max: number): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < min || parsed > max)
    throw new RowError(`${column} ${JSON.stringify(value)} is not a number in ${min}..${max}`);
  return parsed;
}

function parseInteger(value: string, column: string, min: number, max: number): number {
  const parsed = parseNumber(value, column, min, max);
  if (!Number.isInteger(parsed)) throw new RowError(`${column} ${JSON.stringify(value)} is not a whole number`);
  return parsed;
}

const timestampShape =
  /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * A timestamp as the existing system writes it ('2025-08-11 14:03:22.123456', or ISO 8601). Without
 * a zone it is a wall-clock time in `timeZone`; with one, that instant. Digits past milliseconds are
 * cut (Learnloop stores milliseconds).
 */
export function parseTimestamp(value: string, column: string, timeZone: string): Date {
  const match = timestampShape.exec(value.trim());
  if (!match || !knownDay(match[1]!)) throw new RowError(`${column} ${JSON.stringify(value)} is not a timestamp`);
  const [, day, hours, minutes, seconds = '00', fraction = '', zone] = match;
  const wallClock = `${day}T${hours}:${minutes}:${seconds}.${fraction.padEnd(3, '0').slice(0, 3)}`;
  const asUtc = Date.parse(`${wallClock}Z`);
  if (Number.isNaN(asUtc)) throw new RowError(`${column} ${JSON.stringify(value)} is not a timestamp`);
  if (zone) return new Date(`${wallClock}${isoOffset(zone)}`);
  return timeZone === 'UTC' ? new Date(asUtc) : wallClockInstant(wallClock, timeZone);
}

// Checking a day builds a Date and its ISO text; a history of years names a few thousand days, each
// on many rows. Bounded all the same: a file of garbage days must not grow it without end.
const days = new Map<string, boolean>();
function knownDay(day: string): boolean {
  let known = days.get(day);
  if (known === undefined) {
    known = isDay(day);
    if (days.size >= 100_000) days.clear();
    days.set(day, known);
  }
  return known;
}

/** 'Z', '+05', '+0530', '+05:30' as ISO 8601 writes an offset. */
function isoOffset(zone: string): string {
  if (zone.toUpperCase() === 'Z') return 'Z';
  const digits = zone.slice(1).replace(':', '');
  return `${zone[0]}${digits.slice(0, 2)}:${digits.slice(2) || '00'}`;
}

function parseJson(value: string | null, column: string): unknown {
  if (value === null) return null;
  try {
    return JSON.parse(value);
  } catch {
    throw new RowError(`${column} is not JSON`);
  }
}

function jsonText(value: string | null, column: string): string | null {
  parseJson(value, column);
  return value;
}

const contexts: Record<string, AttemptContext> = { session: 'SESSION', practice: 'PRACTICE', daily: 'DAILY' };
const bands: Record<string, DifficultyBand> = { easy: 'EASY', medium: 'MEDIUM', hard: 'HARD' };
const roles: Record<string, Role> = { learner: 'LEARNER', coach: 'COACH', admin: 'ADMIN' };

function oneOf<T>(table: Record<string, T>, value: string, column: string): T {
  const found = table[value.trim().toLowerCase()];
  if (found === undefined)
    throw new RowError(`${column} ${JSON.stringify(value)} is not one of ${Object.keys(table).join(', ')}`);
  return found;
}

const emailShape = /^[^\s@]+@[^\s@]+$/;

// Checking a zone builds an Intl.DateTimeFormat (tens of µs); an export names a handful of zones.
const zones = new Map<string, boolean>();
function knownZone(zone: string): boolean {
  const known = zones.get(zone) ?? isTimeZone(zone);
  zones.set(zone, known);
  return known;
}

export function userRecord(record: SourceRecord): UserRecord {
  const email = text(record, 'email').toLowerCase();
  if (!emailShape.test(email)) throw new RowError(`email ${JSON.stringify(email)} is not an email address`);
  const timezone = optionalText(record, 'timezone');
  if (timezone !== null && !knownZone(timezone))
    throw new RowError(`timezone ${JSON.stringify(timezone)} is not an IANA time zone`);
  const role = optionalText(record, 'role');
  return {
    sourceId: text(record, 'id'),
    name: text(record, 'name'),
    email,
    timezone,
    role: role === null ? 'LEARNER' : oneOf(roles, role, 'role'),
  };
}

export function questionRecord(record: SourceRecord): QuestionRecord {
  const sourceId = text(record, 'id');
  return {
    sourceId,
    externalId: optionalText(record, 'external_id') ?? sourceId,
    category: text(record, 'category'),
    subcategory: text(record, 'subcategory'),
    difficultyBand: oneOf(bands, text(record, 'difficulty_band'), 'difficulty_band'),
    answer: text(record, 'answer'),
    options: parseJson(optionalText(record, 'options'), 'options'),
  };
}

export function sessionRecord(record: SourceRecord, timeZone: string): SessionRecord {
  const startedAt = parseTimestamp(text(record, 'started_at'), 'started_at', timeZone);
  const endedText = optionalText(record, 'ended_at');
  const endedAt = endedText === null ? null : parseTimestamp(endedText, 'ended_at', timeZone);
  if (endedAt && endedAt.getTime() < startedAt.getTime()) throw new RowError('ended_at is before started_at');
  const units = parseJson(optionalText(record, 'units'), 'units') ?? [];
  if (!Array.isArray(units) || !units.every((u) => typeof u === 'string'))
    throw new RowError('units is not a JSON array of strings');
  const duration = optionalText(record, 'duration_sec');
  return {
    sourceId: text(record, 'id'),
    userSourceId: text(record, 'user_id'),
    startedAt,
    endedAt,
    durationSec: duration === null ? null : parseInteger(duration, 'duration_sec', 0, 2_147_483_647),
    units: units.map((u: string) => u.trim()).filter(Boolean),
    notes: optionalText(record, 'notes'),
  };
}

export function attemptRecord(record: SourceRecord, timeZone: string): AttemptRecord {
  const hint = optionalText(record, 'hint_used');
  return {
    sourceId: text(record, 'id'),
    userSourceId: text(record, 'user_id'),
    questionSourceId: text(record, 'question_id'),
    attemptNo: parseInteger(text(record, 'attempt_no'), 'attempt_no', 1, 1_000_000),
    context: oneOf(contexts, text(record, 'context'), 'context'),
    options: jsonText(optionalText(record, 'options'), 'options'),
    // The existing system requires an answer; an empty one is still an answer given.
    userAnswer: record.user_answer ?? '',
    correct: parseBoolean(text(record, 'correct'), 'correct'),
    timeSec: parseNumber(text(record, 'time_sec'), 'time_sec', 0, 86_400),
    hintUsed: hint === null ? false : parseBoolean(hint, 'hint_used'),
    createdAt: parseTimestamp(text(record, 'created_at'), 'created_at', timeZone),
  };
}

export function masteryHistoryRecord(record: SourceRecord): MasteryHistoryRecord {
  const date = text(record, 'recorded_date');
  if (!knownDay(date)) throw new RowError(`recorded_date ${JSON.stringify(date)} is not a day (YYYY-MM-DD)`);
  return {
    sourceId: text(record, 'id'),
    userSourceId: text(record, 'user_id'),
    subcategory: text(record, 'subcategory'),
    score: parseNumber(text(record, 'mastery_score'), 'mastery_score', 0, 1),
    date,
  };
}
