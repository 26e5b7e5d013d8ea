import { isDay } from './domain/calendar.ts';

/** Every stored row's id is a UUID. */
export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A plan unit is not a row of its own (a plan is a version of plan_adjustments): it is named by its place. */
export interface PlanUnitKey {
  userId: string;
  /** YYYY-MM-DD */
  planDate: string;
  subcategory: string;
}

export function planUnitId(unit: PlanUnitKey): string {
  return `${unit.userId}:${unit.planDate}:${unit.subcategory}`;
}

const planUnitIdPattern = new RegExp(`^(${uuidPattern.source.slice(1, -1)}):(\\d{4}-\\d{2}-\\d{2}):(.+)$`, 'is');

/** The unit a planUnitId names, or null for a string that is not one (a date that does not exist included). */
export function parsePlanUnitId(id: string): PlanUnitKey | null {
  const match = planUnitIdPattern.exec(id);
  if (!match || !isDay(match[2]!)) return null;
  return { userId: match[1]!.toLowerCase(), planDate: match[2]!, subcategory: match[3]! };
}

/** Whether `id` has the shape of a raw id of this GraphQL type. */
export function isRawId(typename: string, id: string): boolean {
  return typename === 'PlanUnit' ? parsePlanUnitId(id) !== null : uuidPattern.test(id);
}

/** A Relay global ID as the API gives it out: base64 of `Typename:rawId`. */
export function encodeGlobalId(typename: string, id: string): string {
  return Buffer.from(`${typename}:${id}`).toString('base64');
}

/** The type name and raw id a global ID carries, or null for a string that is not one. */
export function decodeGlobalId(globalId: string): { typename: string; id: string } | null {
  if (!/^[A-Za-z0-9+/=_-]+$/.test(globalId)) return null;
  const decoded = Buffer.from(globalId, 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  if (separator <= 0) return null;
  return { typename: decoded.slice(0, separator), id: decoded.slice(separator + 1) };
}

/** The id of a User as the API gives it out (a Relay global ID). */
export function userGlobalId(userId: string): string {
  return encodeGlobalId('User', userId);
}

/**
 * The stored user id a token subject names by its form: a raw UUID (any case), or a User id as the
 * API gives it out; null when it is neither (it may still be an externalId).
 */
export function userIdOfSubject(subject: string): string | null {
  if (uuidPattern.test(subject)) return subject.toLowerCase();
  const decoded = decodeGlobalId(subject);
  return decoded?.typename === 'User' && uuidPattern.test(decoded.id) ? decoded.id.toLowerCase() : null;
}
