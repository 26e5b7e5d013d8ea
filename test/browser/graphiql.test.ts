// GraphiQL in a real browser (headless Chromium): the page and all its code come from this server
// (no request leaves it), the default query runs, and a planAdjusted subscription started from
// GraphiQL receives the adjustment a session end makes. Screenshots go to test-artifacts/screenshots/.
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { topicOf } from '../../src/pubsub.ts';
import { graphqlPath } from '../../src/server.ts';
import { endSession, playSession } from '../realtime/session-play.ts';
import { launchBrowser, saveScreenshot } from '../support/browser.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createPerson, createWorld, type Person, type World } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

// What the page shows does not depend on the database: this file runs on PGlite only (test/vitest.config.ts).
describe('GraphiQL in a browser', () => {
  let server: TestServer;
  let world: World;
  let learner: Person;
  let browser: Browser;
  let page: Page;
  /** Every request the page made to a host other than the server (aborted). */
  const outside: string[] = [];

  let db: TestDatabase;

  beforeAll(async () => {
    // GraphiQL opens with the learner's token (as development mode opens it with the admin's): the
    // learner is created first, then the server that serves GraphiQL with their token.
    db = await createTestDatabase();
    const setup = await startTestServer({ db });
    world = await createWorld(setup);
    learner = await createPerson(setup, world.admin.token, 'Greta GraphiQL');
    await setup.stop();
    server = await startTestServer({ db, graphiqlToken: learner.token });
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await db?.destroy();
  });

  async function openGraphiQL(query?: string): Promise<void> {
    page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 900 });
    await page.setRequestInterception(true);
    const origin = new URL(server.url).origin;
    page.on('request', (request) => {
      const url = request.url();
      if (url.startsWith('data:') || url.startsWith('blob:') || new URL(url).origin === origin) {
        void request.continue();
      } else {
        outside.push(url);
        void request.abort();
      }
    });
    const search = query ? `?query=${encodeURIComponent(query)}` : '';
    await page.goto(`${server.url}${graphqlPath}${search}`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('.graphiql-execute-button', { timeout: 20_000 });
  }

  /** The text of GraphiQL's result pane once it contains `expected` (Monaco shows spaces as U+00A0). */
  async function resultContaining(expected: string, timeout = 10_000): Promise<string> {
    await page
      .waitForFunction(
        (text) =>
          document.querySelector('.graphiql-response')?.textContent?.replaceAll('\u00a0', ' ').includes(text) ?? false,
        { timeout },
        expected,
      )
      .catch(async (error: unknown) => {
        await saveScreenshot(page, 'graphiql-failed');
        throw error;
      });
    return page.$eval('.graphiql-response', (element) => (element.textContent ?? '').replaceAll('\u00a0', ' '));
  }

  test('the page loads from the server alone and runs the default query', async () => {
    await openGraphiQL();
    expect(await page.title()).toBe('Learnloop');
    const editor = await page.$eval('.graphiql-query-editor', (element) => element.textContent ?? '');
    expect(editor).toContain('masteries');
    await page.click('.graphiql-execute-button');
    const result = await resultContaining('Greta GraphiQL');
    expect(result).toContain('"masteries"');
    await saveScreenshot(page, 'graphiql-default-query');
    expect(outside).toEqual([]);
  }, 60_000);

  test('a planAdjusted subscription run from GraphiQL shows the adjustment a session end makes', async () => {
    const subscription = [
      'subscription {',
      `  planAdjusted(userId: "${learner.id}") {`,
      '    trigger',
      '    planDate',
      '    after { subcategory targetQuestions }',
      '  }',
      '}',
      '',
    ].join('\n');
    await openGraphiQL(subscription);
    await page.click('.graphiql-execute-button');
    await waitForSubscribers(learner, 1);
    await saveScreenshot(page, 'graphiql-subscription-listening');

    const sessionId = await playSession(server, world, learner.token, { Algebra: 'wrong', Geometry: 'right' });
    await endSession(server, learner.token, sessionId);

    const result = await resultContaining('SESSION_END');
    expect(result).toContain('Algebra');
    expect(result).not.toContain('UNAUTHENTICATED');
    await saveScreenshot(page, 'graphiql-subscription-event');
    expect(outside).toEqual([]);
  }, 60_000);

  async function waitForSubscribers(person: Person, count: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (server.bus.listenerCount(topicOf('plan-adjusted', person.userId)) < count) {
      if (Date.now() > deadline) throw new Error(`no planAdjusted subscriber of ${person.userId} after 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
});
