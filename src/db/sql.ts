// SQL fragments the services and the job steps share.
import { Prisma } from '../generated/prisma/client.ts';

/** Whole seconds from `startedAt` to `endedAt`, never negative: a session's stored duration_sec. */
export function durationSeconds(startedAt: string, endedAt: string): Prisma.Sql {
  return Prisma.sql`GREATEST(0, round(extract(epoch FROM ${Prisma.raw(endedAt)} - ${Prisma.raw(startedAt)})))`;
}

/** The duration in seconds of an ended session `s`: as stored, or worked out where it lacks one (imported). */
export const endedSessionSeconds = Prisma.sql`COALESCE(s.duration_sec,
  ${durationSeconds('s.started_at', 's.ended_at')})`;
