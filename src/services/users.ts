import type { Role } from '../auth.ts';
import type { Database } from '../db/client.ts';
import { conflict } from '../errors.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import { isUniqueViolation } from './prisma-errors.ts';

export interface NewUser {
  name: string;
  email: string;
  role: Role;
  timezone: string;
  dailyQuestionBudget: number;
}

export async function createUser<Q extends Omit<Prisma.UserCreateArgs, 'data'>>(db: Database, query: Q, user: NewUser) {
  try {
    return await db.prisma.user.create({ ...query, data: user });
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(`A user with the email ${user.email} already exists.`);
    throw error;
  }
}
