// Database types the services and the job steps share.
import type { Database } from './client.ts';

/** The client inside `db.prisma.$transaction(async (tx) => …)`. */
export type Transaction = Parameters<Parameters<Database['prisma']['$transaction']>[0]>[0];

/** Anything that runs raw SQL: the Prisma client or a transaction. */
export type SqlClient = Pick<Transaction, '$queryRaw'>;
