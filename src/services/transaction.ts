import type { Database } from '../db/client.ts';

/** The client inside `db.prisma.$transaction(async (tx) => …)`. */
export type Transaction = Parameters<Parameters<Database['prisma']['$transaction']>[0]>[0];
