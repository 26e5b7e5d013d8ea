import { z } from 'zod';
import { type Role, roles } from '../auth.ts';
import type { Database } from '../db/client.ts';
import { isTimeZone } from '../domain/calendar.ts';
import { badInput, conflict, type ErrorCode } from '../errors.ts';
import type { Prisma, User } from '../generated/prisma/client.ts';
import { isUniqueViolation } from './prisma-errors.ts';

export interface NewUser {
  name: string;
  email: string;
  role: Role;
  timezone: string;
  dailyQuestionBudget: number;
  /** The identity provider's subject (a token's sub may be it); null: none. */
  externalId: string | null;
}

/** One user row as createUser and upsertUsers take it; the GraphQL inputs validate their fields with these. */
export const userFields = {
  name: z.string().trim().min(1, 'must not be empty').max(200),
  email: z.string().trim().toLowerCase().email('must be an email address').max(320),
  role: z.enum(roles),
  timezone: z.string().max(100).refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin'),
  dailyQuestionBudget: z.number().int().min(1).max(500),
  externalId: z.string().trim().min(1, 'must not be empty').max(255).nullable(),
};

const userRow = z.object({
  name: userFields.name,
  email: userFields.email,
  role: userFields.role.default('LEARNER'),
  timezone: userFields.timezone.default('UTC'),
  dailyQuestionBudget: userFields.dailyQuestionBudget.default(30),
  externalId: userFields.externalId.default(null),
});

export type UserRowInput = z.input<typeof userRow>;

const zonesByDatabase = new WeakMap<Database, Promise<Set<string>>>();

/**
 * The time zones the database knows (`pg_timezone_names`): a zone JavaScript accepts but PostgreSQL
 * does not (US/Pacific-New, say) would make every `AT TIME ZONE` over the learner fail.
 */
export function databaseTimeZones(db: Database): Promise<Set<string>> {
  let zones = zonesByDatabase.get(db);
  if (!zones) {
    zones = db.prisma.$queryRaw<{ name: string }[]>`SELECT name FROM pg_timezone_names`.then(
      (rows) => new Set(rows.map((r) => r.name)),
    );
    zones.catch(() => zonesByDatabase.delete(db));
    zonesByDatabase.set(db, zones);
  }
  return zones;
}

function unknownZone(zone: string): string {
  return `timezone: ${zone} is not a time zone the database knows: use a canonical IANA name (America/Los_Angeles)`;
}

export async function createUser<Q extends Omit<Prisma.UserCreateArgs, 'data'>>(db: Database, query: Q, user: NewUser) {
  if (!(await databaseTimeZones(db)).has(user.timezone)) throw badInput(unknownZone(user.timezone));
  try {
    return await db.prisma.user.create({ ...query, data: user });
  } catch (error) {
    if (isUniqueViolation(error)) {
      const orExternalId = user.externalId === null ? '' : ` or the externalId ${user.externalId}`;
      throw conflict(`A user with the email ${user.email}${orExternalId} already exists.`);
    }
    throw error;
  }
}

/** At most this many users per upsertUsers call. */
export const maxUserUpsert = 1000;

export type UpsertOutcome = 'CREATED' | 'UPDATED' | 'REFUSED';

export interface UpsertUserResult {
  /** The row's position in the input. */
  index: number;
  outcome: UpsertOutcome;
  /** The stored user (null when refused). */
  user: User | null;
  /** Why the row was refused (null otherwise). */
  error: { code: ErrorCode; message: string } | null;
}

/**
 * Creates or updates users keyed on externalId, else on email (a user found by email without an
 * externalId gets the row's). Each row stands alone: a row that is invalid or collides with another
 * user is reported in its result and the others are written, in one transaction, set-based.
 */
export async function upsertUsers(db: Database, rows: readonly UserRowInput[]): Promise<UpsertUserResult[]> {
  if (rows.length > maxUserUpsert) throw badInput(`At most ${maxUserUpsert} users a call; split the import.`);
  const zones = await databaseTimeZones(db);
  const results: UpsertUserResult[] = rows.map((_, index) => ({ index, outcome: 'REFUSED', user: null, error: null }));
  const refuse = (index: number, code: ErrorCode, message: string) => {
    results[index]!.error = { code, message };
  };
  const valid: { index: number; user: NewUser }[] = [];
  for (const [index, row] of rows.entries()) {
    const parsed = userRow.safeParse(row);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      refuse(index, 'BAD_USER_INPUT', `${issue.path.join('.') || 'input'}: ${issue.message}`);
    } else if (!zones.has(parsed.data.timezone)) refuse(index, 'BAD_USER_INPUT', unknownZone(parsed.data.timezone));
    else valid.push({ index, user: parsed.data });
  }

  return db.prisma.$transaction(async (tx) => {
    const emails = valid.map((v) => v.user.email);
    const externalIds = valid.flatMap((v) => (v.user.externalId === null ? [] : [v.user.externalId]));
    // Locked so that two imports of the same users run one after the other.
    const existing = await tx.$queryRaw<{ id: string; email: string; external_id: string | null }[]>`
      SELECT id::text, email, external_id FROM users
      WHERE email = ANY(${emails}::text[]) OR external_id = ANY(${externalIds}::text[])
      ORDER BY id FOR UPDATE`;
    const byEmail = new Map(existing.map((u) => [u.email, u]));
    const byExternalId = new Map(existing.flatMap((u) => (u.external_id === null ? [] : [[u.external_id, u]])));
    const claimedEmails = new Set<string>();
    const claimedExternalIds = new Set<string>();
    const claimedUsers = new Set<string>();
    const updates: { id: string; index: number; user: NewUser }[] = [];
    const inserts: { index: number; user: NewUser }[] = [];
    for (const { index, user } of valid) {
      const { email, externalId } = user;
      if (claimedEmails.has(email) || (externalId !== null && claimedExternalIds.has(externalId))) {
        refuse(index, 'CONFLICT', 'Another row of this call has the same email or externalId: send each user once.');
        continue;
      }
      const emailOwner = byEmail.get(email);
      const target =
        (externalId === null ? undefined : byExternalId.get(externalId)) ??
        (emailOwner && (emailOwner.external_id === null || emailOwner.external_id === externalId)
          ? emailOwner
          : undefined);
      if (emailOwner && emailOwner !== target) {
        refuse(index, 'CONFLICT', `The email ${email} belongs to another user (with another externalId).`);
        continue;
      }
      if (target && claimedUsers.has(target.id)) {
        refuse(index, 'CONFLICT', 'Another row of this call names the same user: send each user once.');
        continue;
      }
      claimedEmails.add(email);
      if (externalId !== null) claimedExternalIds.add(externalId);
      if (target) {
        claimedUsers.add(target.id);
        updates.push({ id: target.id, index, user: { ...user, externalId: externalId ?? target.external_id } });
      } else inserts.push({ index, user });
    }
    const column = <K extends keyof NewUser>(list: { user: NewUser }[], key: K) => list.map((v) => v.user[key]);
    if (updates.length > 0) {
      await tx.$executeRaw`
        UPDATE users u SET name = t.name, email = t.email, role = t.role::"Role", timezone = t.timezone,
               daily_question_budget = t.budget, external_id = t.external_id
        FROM unnest(${updates.map((u) => u.id)}::uuid[], ${column(updates, 'name')}::text[],
                    ${column(updates, 'email')}::text[], ${column(updates, 'role')}::text[],
                    ${column(updates, 'timezone')}::text[], ${column(updates, 'dailyQuestionBudget')}::int[],
                    ${column(updates, 'externalId')}::text[])
          AS t(id, name, email, role, timezone, budget, external_id)
        WHERE u.id = t.id`;
    }
    const inserted =
      inserts.length === 0
        ? []
        : await tx.$queryRaw<{ id: string; email: string }[]>`
        INSERT INTO users (name, email, role, timezone, daily_question_budget, external_id)
        SELECT name, email, role::"Role", timezone, budget, external_id
        FROM unnest(${column(inserts, 'name')}::text[], ${column(inserts, 'email')}::text[],
                    ${column(inserts, 'role')}::text[], ${column(inserts, 'timezone')}::text[],
                    ${column(inserts, 'dailyQuestionBudget')}::int[], ${column(inserts, 'externalId')}::text[])
          AS t(name, email, role, timezone, budget, external_id)
        ON CONFLICT DO NOTHING
        RETURNING id::text, email`;
    const insertedIds = new Map(inserted.map((r) => [r.email, r.id]));
    const ids = new Map<number, string>(updates.map((u) => [u.index, u.id]));
    for (const { index, user } of inserts) {
      const id = insertedIds.get(user.email);
      if (id) ids.set(index, id);
      else refuse(index, 'CONFLICT', 'A user with this email or externalId was created meanwhile: send the row again.');
    }
    const users = new Map(
      (await tx.user.findMany({ where: { id: { in: [...ids.values()] } } })).map((user) => [user.id, user]),
    );
    const created = new Set(inserts.map((i) => i.index));
    for (const [index, id] of ids) {
      Object.assign(results[index]!, { outcome: created.has(index) ? 'CREATED' : 'UPDATED', user: users.get(id)! });
    }
    return results;
  });
}
