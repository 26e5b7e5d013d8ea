// Schema-driven fuzzing: every root query and mutation, and every field with arguments of User, is
// called with arguments fast-check builds from the schema's own input types: well-formed values mixed
// with hostile ones (NUL characters, lone surrogates, huge and odd strings, ids of other types, bad
// cursors, negative and huge numbers, out-of-range dates, nulls for required values, deep JSON).
// Whatever comes in: no 5xx, no INTERNAL_SERVER_ERROR, a code on every error, no stack or SQL text in
// a message, and a request refused with errors writes nothing. FUZZ_RUNS (default 2000 per database)
// and FUZZ_SEED replay a run.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import {
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
} from 'graphql';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { userGlobalId } from '../../src/ids.ts';
import { schema } from '../../src/schema/index.ts';
import { createWorld, type World } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const runs = Number(process.env.FUZZ_RUNS ?? 2000);
const seed = Number(process.env.FUZZ_SEED ?? 20261201);

let server: TestServer;
let world: World;
let sessionId: string;

beforeAll(async () => {
  server = await startTestServer();
  world = await createWorld(server);
  const started = await server.request<{ startSession: { id: string } }, object>(
    'mutation { startSession { id } }',
    {},
    world.alice.token,
  );
  sessionId = started.data!.startSession.id;
});
afterAll(async () => server?.stop());

const hostileStrings = [
  '',
  ' ',
  'a\u0000b',
  '\u0000',
  'x\uD800',
  '\uDC00y',
  '\uDBFF\uDBFF',
  '🎓 ünïcödé',
  '\u202Eevil',
  "'; DROP TABLE users; --",
  '%s%n%x',
  '../../etc/passwd',
  'null',
  '-1',
  'NaN',
  '0000-01-01',
  '9999-12-31T23:59:60Z',
  'US/Pacific-New',
  'x'.repeat(10_000),
  'y'.repeat(300),
  '00000000-0000-0000-0000-000000000000',
  'YXJyYXljb25uZWN0aW9uOjA=',
  Buffer.from('User:not-a-uuid').toString('base64'),
  Buffer.from('Question:00000000-0000-0000-0000-000000000000').toString('base64'),
  Buffer.from('PlanUnit:00000000-0000-0000-0000-000000000000:2026-13-45:Algebra').toString('base64'),
];

const hostileString = fc.oneof(
  fc.constantFrom(...hostileStrings),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: fc.constantFrom('\u0000', '\uD800', '\uDFFF', 'a', 'é', '😀'), maxLength: 8 }),
);

/** Ids the world holds (of every type), and ids that are not. */
function idArbitrary(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(
      world.alice.id,
      world.bob.id,
      world.coach.id,
      world.questions[0]!.id,
      sessionId,
      userGlobalId(randomUUID()),
      world.alice.userId,
    ),
    hostileString,
  );
}

const dates = fc.oneof(
  fc
    .date({ min: new Date('1950-01-01'), max: new Date('2030-12-31'), noInvalidDate: true })
    .map((d) => d.toISOString().slice(0, 10)),
  fc.constantFrom('0000-01-01', '1899-12-31', '3000-01-01', '2026-02-30', '2026-13-01', '+275760-09-13', 'today'),
  hostileString,
);

const dateTimes = fc.oneof(
  fc
    .date({ min: new Date('1950-01-01'), max: new Date('2030-12-31'), noInvalidDate: true })
    .map((d) => d.toISOString()),
  fc.constantFrom('0000-01-01T00:00:00Z', '3000-01-01T00:00:00Z', '2026-02-30T10:00:00Z', '1970-01-01T00:00:00+25:00'),
  hostileString,
);

const ints = fc.oneof(
  fc.integer({ min: -5, max: 150 }),
  fc.constantFrom(-1, 0, 2 ** 31 - 1, -(2 ** 31), 1e6),
  fc.constantFrom(1.5, 2 ** 53, '3' as unknown as number),
);
const floats = fc.oneof(fc.double({ min: -10, max: 100_000, noNaN: true }), fc.constantFrom(-1, 0, 1e308, -0, 86_401));

const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    hostileString,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(hostileString, tie('value'), { maxKeys: 3 }),
  ),
})).value;

function scalarArbitrary(name: string): fc.Arbitrary<unknown> {
  switch (name) {
    case 'ID':
      return idArbitrary();
    case 'String':
      return fc.oneof(hostileString, fc.constantFrom('Algebra', 'Geometry', 'UTC', 'alice@example.com'));
    case 'Int':
      return ints;
    case 'Float':
      return floats;
    case 'Boolean':
      return fc.oneof(fc.boolean(), fc.constant('true' as unknown as boolean));
    case 'Date':
      return dates;
    case 'DateTime':
      return dateTimes;
    case 'JSON':
      return json;
    default:
      return hostileString;
  }
}

/** Values of an input type: mostly of the type, sometimes null or of another shape. */
function inputArbitrary(type: GraphQLInputType, depth = 0): fc.Arbitrary<unknown> {
  const nullable = !isNonNullType(type);
  const inner = isNonNullType(type) ? type.ofType : type;
  let value: fc.Arbitrary<unknown>;
  if (isListType(inner)) {
    value = fc.array(inputArbitrary(inner.ofType, depth + 1), { maxLength: depth > 1 ? 1 : 3 });
  } else if (isInputObjectType(inner)) {
    const fields = Object.values(inner.getFields());
    value = fc.record(Object.fromEntries(fields.map((f) => [f.name, inputArbitrary(f.type, depth + 1)])), {
      requiredKeys: fields.filter((f) => isNonNullType(f.type)).map((f) => f.name),
    });
  } else if (isEnumType(inner)) {
    value = fc.oneof(fc.constantFrom(...inner.getValues().map((v) => v.value as string)), hostileString);
  } else {
    value = scalarArbitrary((inner as GraphQLNamedType).name);
  }
  // Nulls for required values too (variables must refuse them with a code).
  return fc.oneof({ weight: 8, arbitrary: value }, { weight: nullable ? 2 : 1, arbitrary: fc.constant(null) });
}

function selectionOf(field: GraphQLField<unknown, unknown>): string {
  const named = getNamedType(field.type);
  return isObjectType(named) ? ' { __typename }' : '';
}

interface Target {
  name: string;
  args: readonly GraphQLArgument[];
  document: (variables: string, call: string) => string;
  field: GraphQLField<unknown, unknown>;
}

function targets(): Target[] {
  const roots: Target[] = [];
  for (const [kind, type] of [
    ['query', schema.getQueryType()!],
    ['mutation', schema.getMutationType()!],
  ] as const) {
    for (const field of Object.values(type.getFields())) {
      // Erasing the fuzz's own learners would end its world mid-run; erasure has test/erasure.test.ts.
      if (field.name === 'eraseUser') continue;
      roots.push({
        name: `${kind} ${field.name}`,
        args: field.args,
        field,
        document: (variables, call) => `${kind}${variables} { ${call} }`,
      });
    }
  }
  const user = schema.getType('User');
  if (isObjectType(user)) {
    for (const field of Object.values(user.getFields()).filter((f) => f.args.length > 0)) {
      roots.push({
        name: `User.${field.name}`,
        args: field.args,
        field,
        document: (variables, call) =>
          `query($uid: ID!${variables ? `, ${variables.slice(1, -1)}` : ''}) { user(id: $uid) { ${call} } }`,
      });
    }
  }
  return roots;
}

const callers = () => [world.admin.token, world.alice.token, world.coach.token, null];

const fuzzCase = (all: Target[]) =>
  fc.constantFrom(...all).chain((target) =>
    fc.record({
      target: fc.constant(target),
      caller: fc.nat({ max: 3 }),
      // Each argument: sent as a variable, or left out.
      values: fc.tuple(...target.args.map((arg) => fc.option(inputArbitrary(arg.type), { nil: undefined, freq: 6 }))),
    }),
  );

async function rowCounts(): Promise<string> {
  const [row] = await server.db.prisma.$queryRaw<Record<string, number>[]>`
    SELECT (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM questions)::int AS questions,
           (SELECT count(*) FROM sessions)::int AS sessions, (SELECT count(*) FROM attempts)::int AS attempts,
           (SELECT count(*) FROM plan_adjustments)::int AS plans, (SELECT count(*) FROM masteries)::int AS masteries,
           (SELECT count(*) FROM session_summaries)::int AS summaries,
           (SELECT count(*) FROM pending_replans)::int AS pending,
           (SELECT max(ended_at) FROM sessions)::text AS ended`;
  return JSON.stringify(row);
}

const internals = /\n\s+at |prisma|invocation|SELECT |INSERT |UPDATE |syntax error|violates|\bpg_|Raw query/i;

test(`${runs} schema-driven requests: no 5xx, no internal error, a code on every error, nothing written when refused`, {
  timeout: 240_000,
}, async () => {
  const all = targets();
  expect(all.length).toBeGreaterThan(20);
  const tokens = callers();
  const seen = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(fuzzCase(all), async ({ target, caller, values }) => {
      const variables: Record<string, unknown> = target.name.startsWith('User.') ? { uid: world.alice.id } : {};
      const declared: string[] = [];
      const passed: string[] = [];
      target.args.forEach((arg, i) => {
        if (values[i] === undefined) return;
        declared.push(`$a${i}: ${String(arg.type)}`);
        passed.push(`${arg.name}: $a${i}`);
        variables[`a${i}`] = values[i];
      });
      const call = `${target.field.name}${passed.length ? `(${passed.join(', ')})` : ''}${selectionOf(target.field)}`;
      const query = target.document(declared.length ? `(${declared.join(', ')})` : '', call);
      const before = await rowCounts();
      const response = await server.request<Record<string, unknown>, Record<string, unknown>>(
        query,
        variables,
        tokens[caller],
      );
      const context = `${query} ${JSON.stringify(variables).slice(0, 500)} → ${JSON.stringify(response).slice(0, 800)}`;
      expect(response.status, context).toBeLessThan(500);
      for (const error of response.errors ?? []) {
        expect(error.extensions?.code, context).toBeTypeOf('string');
        expect(error.extensions?.code, context).not.toBe('INTERNAL_SERVER_ERROR');
        expect(error.message, context).not.toMatch(internals);
      }
      const code = response.errors?.[0]?.extensions?.code ?? 'ok';
      seen.set(code, (seen.get(code) ?? 0) + 1);
      if (response.errors?.length && target.name.startsWith('mutation')) {
        expect(await rowCounts(), context).toBe(before);
      }
    }),
    { numRuns: runs, seed, endOnFailure: true },
  );
  // The fuzz reached past the argument checks as well as into them.
  expect(seen.get('ok') ?? 0).toBeGreaterThan(runs / 20);
  expect(seen.get('BAD_USER_INPUT') ?? 0).toBeGreaterThan(runs / 5);
});
