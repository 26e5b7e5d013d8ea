// A learner's data: exportUser (admin, or the learner themselves) and eraseUser (admin).
import { publishUserErased } from '../pubsub.ts';
import { type ErasureRecord, eraseLearner, exportLearner } from '../services/erasure.ts';
import { builder } from './builder.ts';
import { UserRef } from './user.ts';

const ErasureRef = builder.objectRef<ErasureRecord>('Erasure').implement({
  description: 'What an erasure removed: rows per table. The learner is not named.',
  fields: (t) => ({
    id: t.exposeID('id'),
    erasedAt: t.expose('erasedAt', { type: 'DateTime' }),
    counts: t.field({ type: 'JSON', description: 'Rows deleted per table.', resolve: (erasure) => erasure.counts }),
  }),
});

builder.queryField('exportUser', (t) =>
  t.field({
    type: 'JSON',
    description:
      "All of a learner's data as one document: their rows of every table, columns as stored " +
      '(admin, or the learner themselves).',
    args: { id: t.arg.globalID({ required: true, for: UserRef }) },
    authScopes: (_root, args) => ({ writesUser: args.id.id }),
    resolve: (_root, args, ctx) => exportLearner(ctx.db, args.id.id),
  }),
);

builder.mutationField('eraseUser', (t) =>
  t.field({
    type: ErasureRef,
    description:
      'Deletes every row of a learner in one transaction (admin); question statistics and usage counts ' +
      'stay (they name nobody). The erasure is recorded; a second one is NOT_FOUND.',
    args: { id: t.arg.globalID({ required: true, for: UserRef }) },
    authScopes: { admin: true },
    resolve: async (_root, args, ctx) => {
      const erasure = await eraseLearner(ctx.db, args.id.id, ctx.viewer!.subject);
      publishUserErased(ctx.pubsub, args.id.id);
      return erasure;
    },
  }),
);
