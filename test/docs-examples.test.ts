// docs/examples.md is run as written: every ```graphql block, in order, with the token its first line
// names and the variables of the ```json block after it (placeholders resolved from earlier results),
// against a server holding the demo data processed as `npm start` leaves it. Any error fails.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { Kind, parse } from 'graphql';
import { afterAll, beforeAll, expect, test } from 'vitest';

import { processDemoHistory } from '../src/demo/history.ts';
import { loadDemoData } from '../src/demo/load.ts';
import { DEMO_LEARNER_EMAIL } from '../src/demo/simulation.ts';
import { addDays } from '../src/domain/calendar.ts';
import { loadJobsConfig } from '../src/jobs/config.ts';
import { type Subscription, sseSubscribe } from './realtime/clients.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestServer, type TestServer } from './support/server.ts';

interface Example {
  name: string;
  type: 'query' | 'mutation' | 'subscription';
  as: 'learner' | 'admin';
  query: string;
  variables: string | null;
}

/** The fenced blocks of the page, in order: a graphql block and the json block right after it. */
function examplesOf(markdown: string): Example[] {
  const blocks = [...markdown.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)].map(([, lang, body]) => ({ lang, body }));
  const examples: Example[] = [];
  for (const [index, block] of blocks.entries()) {
    if (block.lang === 'json') {
      if (blocks[index - 1]?.lang !== 'graphql') throw new Error(`a json block follows no operation: ${block.body}`);
      continue;
    }
    if (block.lang !== 'graphql') continue;
    const document = parse(block.body!);
    expect(document.definitions, `one operation per block:\n${block.body}`).toHaveLength(1);
    const [operation] = document.definitions;
    if (operation?.kind !== Kind.OPERATION_DEFINITION || !operation.name) throw new Error(`unnamed: ${block.body}`);
    const as = /^# as: (learner|admin)$/m.exec(block.body!)?.[1];
    if (!as) throw new Error(`${operation.name.value} does not say whose token it needs (# as: learner|admin)`);
    const next = blocks[index + 1];
    examples.push({
      name: operation.name.value,
      type: operation.operation,
      as: as as Example['as'],
      query: block.body!,
      variables: next?.lang === 'json' ? next.body! : null,
    });
  }
  return examples;
}

/** Replaces "<Name: a.b.0.c>", "<today>" and "<today-N>" as the page tells a reader to. */
function resolve(variables: string, results: Map<string, unknown>, today: string): Record<string, unknown> {
  const value = (placeholder: string): unknown => {
    const day = /^today(?:-(\d+))?$/.exec(placeholder);
    if (day) return addDays(today, -Number(day[1] ?? 0));
    const [, name, where] = /^(\w+): ([\w.]+)$/.exec(placeholder) ?? [];
    if (!name || !results.has(name)) throw new Error(`placeholder <${placeholder}> names no earlier result`);
    const found = where!
      .split('.')
      .reduce<unknown>((at, key) => (at as Record<string, unknown>)?.[key], results.get(name));
    if (found === undefined) throw new Error(`placeholder <${placeholder}>: no such value in ${name}'s result`);
    return found;
  };
  return JSON.parse(variables, (_key, v) =>
    typeof v === 'string' && /^<.*>$/.test(v) ? value(v.slice(1, -1)) : v,
  ) as Record<string, unknown>;
}

let db: TestDatabase;
let server: TestServer;
const streams: { stop(): void }[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  await loadDemoData(db);
  await processDemoHistory(db, loadJobsConfig({}, { timezone: 'UTC' }));
  server = await startTestServer({ db });
}, 180_000);

afterAll(async () => {
  for (const stream of streams) stream.stop();
  await server?.stop();
  await db?.destroy();
});

test('every example of docs/examples.md runs as written, in order, without an error', async () => {
  const examples = examplesOf(await readFile(path.join(import.meta.dirname, '../docs/examples.md'), 'utf8'));
  expect(examples.map((e) => e.name)).toEqual([
    'Me',
    'MyPlanAndPatterns',
    'PlanAdjusted',
    'StartSession',
    'AlgebraQuestions',
    'Answer',
    'End',
    'UsersAndQuestions',
    'Cohort',
  ]);
  const learner = await db.prisma.user.findUniqueOrThrow({ where: { email: DEMO_LEARNER_EMAIL } });
  const admin = await db.prisma.user.findFirstOrThrow({ where: { role: 'ADMIN' } });
  const tokens = {
    learner: await server.tokenFor(learner.id, 'LEARNER'),
    admin: await server.tokenFor(admin.id, 'ADMIN'),
  };
  const today = new Date().toISOString().slice(0, 10);
  const results = new Map<string, unknown>();
  const subscriptions: { name: string; inbox: Subscription<unknown>['inbox'] }[] = [];
  for (const example of examples) {
    const variables = example.variables ? resolve(example.variables, results, today) : undefined;
    if (example.type === 'subscription') {
      // Runs on while the rest of the page does (as in its own GraphiQL tab); its events are checked at the end.
      const document = parse(example.query) as TypedDocumentNode<unknown, Record<string, unknown>>;
      const stream = sseSubscribe(server.url, tokens[example.as], document, variables ?? {});
      streams.push(stream);
      expect(await stream.status).toBe(200);
      subscriptions.push({ name: example.name, inbox: stream.inbox });
      continue;
    }
    const response = await server.request(example.query, variables, tokens[example.as]);
    expect(response.errors, `${example.name} with ${JSON.stringify(variables)}`).toBeUndefined();
    expect(response.status).toBe(200);
    results.set(example.name, response.data);
  }
  // What a new user sees is real: masteries scored, statistics moved, the session ended.
  const me = results.get('Me') as { me: { masteries: { score: number }[] } };
  expect(me.me.masteries.length).toBeGreaterThan(0);
  expect(new Set(me.me.masteries.map((m) => m.score)).size).toBeGreaterThan(1);
  const bank = results.get('UsersAndQuestions') as { questions: { edges: { node: { difficulty: number } }[] } };
  expect(bank.questions.edges.some((e) => e.node.difficulty !== 0.5)).toBe(true);
  expect(results.get('End')).toMatchObject({ endSession: { summary: { questionsAttempted: 1 } } });
  for (const { name, inbox } of subscriptions) {
    const event = (await inbox.next(5_000)) as { data?: unknown; errors?: unknown };
    expect(event.errors, name).toBeUndefined();
    expect(event.data, name).toBeTruthy();
  }
  expect(subscriptions.map((s) => s.name)).toEqual(['PlanAdjusted']);
}, 60_000);
