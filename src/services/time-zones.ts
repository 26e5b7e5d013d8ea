// A learner's zone as SQL uses it: a zone the database does not know (stored before createUser
// checked zones against pg_timezone_names) counts as UTC, so that one learner never fails a
// statement over many (cohort figures, rollups) or their own dashboard. The known zones are read from
// time_zone_names, the copy of pg_timezone_names made at start: pg_timezone_names itself reads every
// zone file wherever a statement names it (several times in one plan).
import { Prisma } from '../generated/prisma/client.ts';

export function zoneOrUtc(zone: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`(CASE WHEN ${zone} IN (SELECT name FROM time_zone_names) THEN ${zone} ELSE 'UTC' END)`;
}
