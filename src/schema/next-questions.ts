import { z } from 'zod';
import type { NextQuestion } from '../services/next-questions.ts';
import { maxNextQuestions, nextQuestions } from '../services/next-questions.ts';
import { builder } from './builder.ts';
import { QuestionRef } from './question.ts';
import { SessionRef } from './session.ts';

const QuestionPick = builder.objectRef<NextQuestion>('QuestionPick').implement({
  description: 'A question picked for the learner, with why.',
  fields: (t) => ({
    question: t.field({ type: QuestionRef, resolve: (pick) => pick.question }),
    predictedCorrect: t.exposeFloat('predictedCorrect', {
      description: "The live model's P(correct) for the learner on this question now.",
    }),
    reason: t.exposeString('reason', { description: 'Short human text: why this question is here.' }),
  }),
});

builder.queryFields((t) => ({
  nextQuestions: t.field({
    type: [QuestionPick],
    complexity: (args) => ({ field: 1, multiplier: Math.min(Math.max(args.count ?? 5, 1), maxNextQuestions) }),
    description:
      "The questions the session's learner should answer next, in order: P(correct) nearest TARGET_SUCCESS, " +
      'not answered recently, subcategories interleaved, reviews of decayed subcategories first. From the ' +
      "session's units (else the learner's latest plan). The learner, or a coach or admin.",
    authScopes: { authenticated: true },
    args: {
      sessionId: t.arg.globalID({ required: true, for: SessionRef }),
      count: t.arg.int({
        defaultValue: 5,
        validate: z
          .number()
          .int()
          .min(1, 'must be at least 1')
          .max(maxNextQuestions, `must be at most ${maxNextQuestions}`),
      }),
    },
    resolve: (_root, args, ctx) =>
      nextQuestions(ctx.db, ctx.viewer!, args.sessionId.id, args.count ?? 5, ctx.adaptation),
  }),
}));
