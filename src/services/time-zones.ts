// A learner's zone as SQL uses it: a zone the database does not know (stored before createUser
// checked zones against pg_timezone_names) counts as UTC, so that one learner never fails a
// statement over many (cohort figures, rollups) or their own dashboard.
import { Prisma } from '../generated/prisma/client.ts';

export function zoneOrUtc(zone: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`(CASE WHEN ${zone} IN (SELECT name FROM pg_timezone_names) THEN ${zone} ELSE 'UTC' END)`;
}
