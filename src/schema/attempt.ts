import { z } from 'zod';
import { recordAttempt } from '../services/attempts.ts';
import {
  type ImportAttemptsResult,
  type ImportRefusal,
  importAttempts,
  maxImportAttempts,
} from '../services/import-attempts.ts';
import { builder } from './builder.ts';
import { AttemptContextEnum } from './enums.ts';
import { QuestionRef } from './question.ts';
import { SessionRef } from './session.ts';
import { UserRef } from './user.ts';

const AttemptRef = builder.prismaNode('Attempt', {
  id: { field: 'id' },
  authScopes: (attempt) => ({ readsUser: attempt.userId }),
  fields: (t) => ({
    user: t.relation('user'),
    question: t.relation('question'),
    session: t.relation('session', { nullable: true }),
    attemptNo: t.exposeInt('attemptNo', { description: 'The n-th attempt of this learner on this question.' }),
    context: t.expose('context', { type: AttemptContextEnum }),
    options: t.expose('options', { type: 'JSON', nullable: true, description: 'The choices shown.' }),
    userAnswer: t.exposeString('userAnswer'),
    correct: t.exposeBoolean('correct', { description: 'Graded by the server.' }),
    timeSec: t.exposeFloat('timeSec'),
    hintUsed: t.exposeBoolean('hintUsed'),
    answeredAt: t.expose('answeredAt', { type: 'DateTime', nullable: true, description: "The client's clock." }),
    recordedAt: t.expose('recordedAt', { type: 'DateTime', description: "The server's clock." }),
    clientAttemptId: t.exposeString('clientAttemptId'),
    predictedCorrect: t.exposeFloat('predictedCorrect', {
      nullable: true,
      description:
        "The live model's P(correct) for this attempt, made before it was graded (it never depends on the answer). " +
        'Null for attempts recorded before the model or imported.',
    }),
    masteryAfter: t.exposeFloat('masteryAfter', {
      nullable: true,
      description:
        "The live estimate of the question's subcategory right after this attempt " +
        '(Mastery.estimate as it stood then). ' +
        'Null for attempts recorded before the model or imported.',
    }),
  }),
});

type InputFields = PothosSchemaTypes.InputFieldBuilder<
  typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never,
  'InputObject'
>;

/** What recordAttempt and importAttempts both take of an answer. */
function answerFields(t: InputFields) {
  return {
    sessionId: t.globalID({ for: SessionRef, description: 'Required with context SESSION; absent otherwise.' }),
    questionId: t.globalID({ for: QuestionRef, required: true }),
    userAnswer: t.string({ required: true, validate: z.string().max(10_000) }),
    options: t.field({ type: 'JSON' }),
    timeSec: t.float({
      required: true,
      validate: z.number().min(0, 'must be 0 or more').max(86_400, 'must be at most 86400 (a day)'),
    }),
    hintUsed: t.boolean({ defaultValue: false }),
  };
}

const RecordAttemptInput = builder.inputType('RecordAttemptInput', {
  fields: (t) => ({
    ...answerFields(t),
    context: t.field({ type: AttemptContextEnum, defaultValue: 'SESSION' }),
    answeredAt: t.field({
      type: 'DateTime',
      description: "When the learner answered (the device's clock); late syncs are welcome.",
    }),
    clientAttemptId: t.string({
      required: true,
      validate: z.string().trim().min(1).max(200),
      description: 'Idempotency key: a retry returns the first attempt.',
    }),
  }),
});

builder.mutationFields((t) => ({
  recordAttempt: t.field({
    type: AttemptRef,
    description: 'Records and grades an answer of the signed-in learner. Idempotent on clientAttemptId.',
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: RecordAttemptInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      // The row the statement returned answers the attempt's own fields; Pothos loads a selected
      // relation (question, session, user) with one query of its own.
      return recordAttempt(
        ctx.db,
        ctx.viewer!,
        {
          sessionId: input.sessionId?.id ?? null,
          questionId: input.questionId.id,
          userAnswer: input.userAnswer,
          options: input.options ?? null,
          timeSec: input.timeSec,
          hintUsed: input.hintUsed ?? false,
          context: input.context ?? 'SESSION',
          answeredAt: input.answeredAt ?? null,
          clientAttemptId: input.clientAttemptId,
        },
        ctx.adaptation.learnerModel,
      );
    },
  }),
}));

const ImportAttemptInput = builder.inputType('ImportAttemptInput', {
  fields: (t) => ({
    userId: t.globalID({ for: UserRef, required: true }),
    ...answerFields(t),
    context: t.field({ type: AttemptContextEnum, defaultValue: 'PRACTICE' }),
    answeredAt: t.field({ type: 'DateTime', required: true, description: 'When the learner answered.' }),
    idempotencyKey: t.string({
      required: true,
      validate: z.string().trim().min(1).max(200),
      description: "Unique per learner (the attempt's clientAttemptId): a repeated row writes nothing.",
    }),
  }),
});

const ImportRefusalRef = builder.objectRef<ImportRefusal>('ImportRefusal').implement({
  description: 'A row importAttempts did not store, and why.',
  fields: (t) => ({
    index: t.exposeInt('index', { description: 'Position of the row in the input list, from 0.' }),
    code: t.exposeString('code', { description: 'BAD_USER_INPUT, NOT_FOUND, FORBIDDEN or CONFLICT.' }),
    reason: t.exposeString('reason'),
  }),
});

const ImportAttemptsResultRef = builder.objectRef<ImportAttemptsResult>('ImportAttemptsResult').implement({
  fields: (t) => ({
    imported: t.exposeInt('imported', { description: 'Rows stored now.' }),
    alreadyPresent: t.exposeInt('alreadyPresent', {
      description: 'Rows whose idempotencyKey was stored before with the same content: nothing written.',
    }),
    refused: t.expose('refused', { type: [ImportRefusalRef] }),
    beforeWatermark: t.exposeInt('beforeWatermark', {
      description:
        'Stored rows answered before the last NIGHTLY run: they reach mastery and question statistics ' +
        'by `npm run rebuild`.',
    }),
  }),
});

builder.mutationFields((t) => ({
  importAttempts: t.field({
    type: ImportAttemptsResultRef,
    description:
      `Stores attempts of any learners (admin; at most ${maxImportAttempts} a call), graded like recordAttempt ` +
      'and recorded at their answeredAt. A bad row is refused with its index; the others land.',
    authScopes: { admin: true },
    args: { input: t.arg({ type: [ImportAttemptInput], required: true }) },
    resolve: (_root, { input }, ctx) =>
      importAttempts(
        ctx.db,
        input.map((row) => ({
          userId: row.userId.id,
          questionId: row.questionId.id,
          sessionId: row.sessionId?.id ?? null,
          userAnswer: row.userAnswer,
          options: row.options ?? null,
          timeSec: row.timeSec,
          hintUsed: row.hintUsed ?? false,
          context: row.context ?? 'PRACTICE',
          answeredAt: row.answeredAt,
          clientAttemptId: row.idempotencyKey,
        })),
      ),
  }),
}));
