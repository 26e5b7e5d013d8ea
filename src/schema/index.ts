// One module per type, imported for their side effects on the builder.
import { lexicographicSortSchema } from 'graphql';
import { builder } from './builder.ts';
import './enums.ts';
import './user.ts';
import './question.ts';
import './session.ts';
import './attempt.ts';
import './plan.ts';
import './analytics.ts';
import './job.ts';
import './next-questions.ts';
import './erasure.ts';

export const schema = lexicographicSortSchema(builder.toSchema());
