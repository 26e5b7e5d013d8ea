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

/** The id of a User as the API gives it out (a Relay global ID). */
export function userGlobalId(userId: string): string {
  return Buffer.from(`User:${userId}`).toString('base64');
}

/**
 * The stored user id a token subject names by its form: a raw UUID (any case), or a User id as the
 * API gives it out; null when it is neither (it may still be an externalId).
 */
export function userIdOfSubject(subject: string): string | null {
  if (uuidPattern.test(subject)) return subject.toLowerCase();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(subject)) return null;
  const decoded = Buffer.from(subject, 'base64').toString('utf8');
  const id = decoded.slice(5);
  return decoded.startsWith('User:') && uuidPattern.test(id) ? id.toLowerCase() : null;
}
