// importAttempts (admin): a platform's backend pushes attempts of many learners at once, each with
// its own answeredAt and idempotency key. Each row is checked as recordAttempt checks one
// (checkAttemptInput, the same session rules); a bad row is refused with its index and reason and
// the others land, in one statement (insertAttemptRows).
import type { GraphQLError } from 'graphql';
import type { Database } from '../db/client.ts';
import { badInput, conflict, type ErrorCode, forbidden, notFound } from '../errors.ts';
import { type AttemptRow, insertAttemptRows, prismaRunner } from './attempt-batches.ts';
import { type AttemptInput, checkAttemptInput, sameAttempt } from './attempts.ts';

export const maxImportAttempts = 5_000;

export interface ImportAttemptInput extends Omit<AttemptInput, 'answeredAt'> {
  userId: string;
  answeredAt: Date;
}

export interface ImportRefusal {
  index: number;
  code: ErrorCode;
  reason: string;
}

export interface ImportAttemptsResult {
  imported: number;
  /** Rows whose (user, clientAttemptId) was stored before with the same content: nothing written. */
  alreadyPresent: number;
  refused: ImportRefusal[];
  /**
   * Imported attempts answered at or before the last NIGHTLY run's watermark: the nightly job will
   * not see them (they are recorded at answeredAt), `npm run rebuild` brings them into mastery.
   */
  beforeWatermark: number;
}

export async function importAttempts(
  db: Database,
  inputs: readonly ImportAttemptInput[],
  now = new Date(),
): Promise<ImportAttemptsResult> {
  if (inputs.length > maxImportAttempts)
    throw badInput(`At most ${maxImportAttempts} attempts a call: split the import into batches.`);
  const refused = new Map<number, ImportRefusal>();
  const refuse = (index: number, error: GraphQLError) =>
    refused.set(index, { index, code: error.extensions.code as ErrorCode, reason: error.message });

  const seenKeys = new Set<string>();
  for (const [index, input] of inputs.entries()) {
    try {
      checkAttemptInput(input, now);
    } catch (error) {
      refuse(index, error as GraphQLError);
      continue;
    }
    const key = `${input.userId}/${input.clientAttemptId}`;
    if (seenKeys.has(key))
      refuse(index, badInput(`idempotencyKey ${input.clientAttemptId} appears twice for one learner in this call.`));
    seenKeys.add(key);
  }
  await refuseUnknownReferences(db, inputs, refused, refuse);

  const accepted = inputs.map((input, index) => ({ input, index })).filter(({ index }) => !refused.has(index));
  const rows: AttemptRow[] = accepted.map(({ input }) => ({
    ...input,
    linkSession: false,
    attemptNo: null,
    correct: null,
  }));
  const result = await db.prisma.$transaction(async (tx) => {
    // Numbering reads what is stored: concurrent imports take turns.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(7270736951)`;
    const inserted = await insertAttemptRows(prismaRunner(tx), rows);
    const [watermark] = await tx.$queryRaw<{ at: Date | null }[]>`
      SELECT max(watermark) AS at FROM job_runs WHERE job = 'NIGHTLY' AND status = 'SUCCEEDED'`;
    return { inserted: new Set(inserted.map((a) => a.index)), watermark: watermark?.at ?? null };
  });
  const missing = accepted.filter((_, i) => !result.inserted.has(i));
  let alreadyPresent = 0;
  if (missing.length > 0) {
    const stored = await db.prisma.attempt.findMany({
      where: { OR: missing.map(({ input }) => ({ userId: input.userId, clientAttemptId: input.clientAttemptId })) },
    });
    const byKey = new Map(stored.map((a) => [`${a.userId}/${a.clientAttemptId}`, a]));
    for (const { input, index } of missing) {
      const existing = byKey.get(`${input.userId}/${input.clientAttemptId}`);
      if (existing && sameAttempt(existing, input)) alreadyPresent++;
      else if (existing)
        refuse(index, conflict(`idempotencyKey ${input.clientAttemptId} was already used for a different attempt.`));
      else refuse(index, conflict('Another import numbered this attempt at the same time: send the row again.'));
    }
  }
  const imported = accepted.filter((_, i) => result.inserted.has(i));
  return {
    imported: imported.length,
    alreadyPresent,
    refused: [...refused.values()].sort((a, b) => a.index - b.index),
    beforeWatermark: result.watermark
      ? imported.filter(({ input }) => input.answeredAt.getTime() <= result.watermark!.getTime()).length
      : 0,
  };
}

/** Users, questions and sessions the rows name: each looked up once for the whole call. */
async function refuseUnknownReferences(
  db: Database,
  inputs: readonly ImportAttemptInput[],
  refused: ReadonlyMap<number, ImportRefusal>,
  refuse: (index: number, error: GraphQLError) => void,
): Promise<void> {
  const distinct = (pick: (input: ImportAttemptInput) => string | null) => [
    ...new Set(inputs.map(pick).filter((id): id is string => id !== null)),
  ];
  const [users, questions, sessions] = await Promise.all([
    db.prisma.user.findMany({ where: { id: { in: distinct((i) => i.userId) } }, select: { id: true } }),
    db.prisma.question.findMany({ where: { id: { in: distinct((i) => i.questionId) } }, select: { id: true } }),
    db.prisma.session.findMany({
      where: { id: { in: distinct((i) => i.sessionId) } },
      select: { id: true, userId: true, endedAt: true },
    }),
  ]);
  const userIds = new Set(users.map((u) => u.id));
  const questionIds = new Set(questions.map((q) => q.id));
  const sessionById = new Map(sessions.map((s) => [s.id, s]));
  for (const [index, input] of inputs.entries()) {
    if (refused.has(index)) continue;
    const problem = referenceProblem(input, userIds, questionIds, sessionById);
    if (problem) refuse(index, problem);
  }
}

function referenceProblem(
  input: ImportAttemptInput,
  userIds: ReadonlySet<string>,
  questionIds: ReadonlySet<string>,
  sessionById: ReadonlyMap<string, { userId: string; endedAt: Date | null }>,
): GraphQLError | null {
  if (!userIds.has(input.userId)) return notFound(`The user ${input.userId}`);
  if (!questionIds.has(input.questionId)) return notFound(`The question ${input.questionId}`);
  if (input.sessionId === null) return null;
  const session = sessionById.get(input.sessionId);
  if (!session) return notFound(`The session ${input.sessionId}`);
  if (session.userId !== input.userId) return forbidden('This session belongs to another learner.');
  if (!session.endedAt) return null;
  return conflict(
    `The session ${input.sessionId} ended at ${session.endedAt.toISOString()}: ` +
      'send the attempt as PRACTICE without a session.',
  );
}
