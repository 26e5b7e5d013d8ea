import SchemaBuilder from '@pothos/core';
import ComplexityPlugin from '@pothos/plugin-complexity';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ValidationPlugin from '@pothos/plugin-validation';
import { JSONResolver } from 'graphql-scalars';
import type { Context } from '../context.ts';
import { apiError, badInput, forbidden, unauthenticated } from '../errors.ts';
import type PrismaTypes from '../generated/pothos-types.ts';
import { getDatamodel } from '../generated/pothos-types.ts';
import { decodeGlobalId, isRawId } from '../ids.ts';
import { BoundedDateResolver, BoundedDateTimeResolver } from './scalars.ts';

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    Date: { Input: Date; Output: Date | string };
    JSON: { Input: unknown; Output: unknown };
  };
  AuthScopes: {
    authenticated: boolean;
    /** Coaches and admins read everyone's data. */
    staff: boolean;
    admin: boolean;
    /** The viewer may read this user's data: their own, or anyone's for staff. */
    readsUser: string;
    /** The viewer may write this user's data: their own only (admins excepted). */
    writesUser: string;
  };
}>({
  defaultFieldNullability: false,
  plugins: [RelayPlugin, ScopeAuthPlugin, PrismaPlugin, DataloaderPlugin, ValidationPlugin, ComplexityPlugin],
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    // A malformed ID is the client's mistake: say so with a code instead of an internal error.
    decodeGlobalID: (globalID: string) => {
      const decoded = decodeGlobalId(globalID);
      if (!decoded || !isRawId(decoded.typename, decoded.id)) {
        throw badInput(`"${globalID}" is not an ID this API gave out.`);
      }
      return decoded;
    },
  },
  scopeAuth: {
    authorizeOnSubscribe: true,
    // Built once per request: the scope checks are methods, not arrow functions, which tsx (esbuild's
    // keepNames) would rename with a defineProperty call each time.
    authScopes: (ctx) => ({
      authenticated: ctx.viewer !== null,
      staff: ctx.viewer?.role === 'COACH' || ctx.viewer?.role === 'ADMIN',
      admin: ctx.viewer?.role === 'ADMIN',
      readsUser(userId) {
        return ctx.viewer !== null && (ctx.viewer.role !== 'LEARNER' || ctx.viewer.userId === userId);
      },
      writesUser(userId) {
        return ctx.viewer !== null && (ctx.viewer.role === 'ADMIN' || ctx.viewer.userId === userId);
      },
    }),
    unauthorizedError: (_parent, ctx, _info, result) => {
      if (!ctx.viewer) return unauthenticated(ctx.authError ?? 'Sign in: send Authorization: Bearer <token>.');
      return forbidden(describeRefusal(result.failure));
    },
  },
  prisma: {
    client: (ctx) => ctx.db.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
    onUnusedQuery: process.env.NODE_ENV === 'production' ? null : 'warn',
  },
  validation: {
    validationError: (result) =>
      badInput(
        result.issues
          .map(
            (issue) =>
              `${issue.path?.map((p) => (typeof p === 'object' ? p.key : p)).join('.') || 'input'}: ${issue.message}`,
          )
          .join('; '),
        {
          issues: result.issues.map((issue) => ({
            path: issue.path?.map((p) => (typeof p === 'object' ? p.key : p)),
            message: issue.message,
          })),
        },
      ),
  },
  complexity: {
    defaultComplexity: 1,
    // Lists are priced where they are declared: connections by the page asked for (connectionComplexity),
    // bounded lists by their typical length.
    defaultListMultiplier: 1,
    // Depth and aliases are limited by GraphQL Armor in the server; this is the list-aware cost.
    limit: { complexity: 25_000 },
    complexityError: (_kind, result) =>
      apiError(
        'BAD_USER_INPUT',
        `The query costs ${result.complexity}, over the limit of ${result.maxComplexity}: ` +
          'ask for fewer items or fields, or page through them.',
      ),
  },
});

function describeRefusal(failure: { kind: string; scope?: string; failures?: unknown[] }): string {
  if (failure.kind === 'Scope' && failure.scope === 'admin') return 'Only an admin may do this.';
  if (failure.kind === 'Scope' && failure.scope === 'staff') return 'Only a coach or an admin may do this.';
  if (failure.kind === 'Scope' && failure.scope === 'writesUser') return 'You may change only your own data.';
  if (failure.kind === 'Scope' && failure.scope === 'readsUser') return 'You may read only your own data.';
  if (failure.failures?.length) return describeRefusal(failure.failures[0] as typeof failure);
  return 'You may not access this.';
}

builder.addScalarType('DateTime', BoundedDateTimeResolver);
builder.addScalarType('Date', BoundedDateResolver);
builder.addScalarType('JSON', JSONResolver);

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});

/** A connection costs what its page costs: the nodes asked for (default page 20, at most 100). */
export const connectionComplexity = (args: { first?: number | null; last?: number | null }) => ({
  field: 1,
  multiplier: Math.min(Math.max(args.first ?? args.last ?? 20, 0), 100),
});
