// The web dashboard in headless Chromium, on a server with known data: every view renders the API's
// numbers for the same range, a learner cannot open another learner's view, a session ended over
// HTTP shows up in the open learner view within 2 s, and the keyboard reaches every control.
// Screenshots of each view go to test-artifacts/screenshots/.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  CohortDocument,
  LearnerDocument,
  LearnersDocument,
  OperationsDocument,
  PlansDocument,
} from '../../web/src/documents.ts';
import type { TypedDocumentString } from '../../web/src/gql/graphql.ts';
import { graphql } from '../gql/index.ts';
import { insertAttempts } from '../jobs/support.ts';
import { launchBrowser, saveScreenshot } from '../support/browser.ts';
import { createPerson, createWorld, type Person, rawId, type World } from '../support/fixtures.ts';
import { dataOf, type GraphQLResponse, startTestServer, type TestServer } from '../support/server.ts';

const StartSession = graphql(`
  mutation BrowserStartSession($units: [String!]) { startSession(input: { units: $units }) { id } }
`);
const Answer = graphql(`
  mutation BrowserAnswer($input: RecordAttemptInput!) { recordAttempt(input: $input) { id } }
`);
const EndSession = graphql(`
  mutation BrowserEndSession($id: ID!) { endSession(id: $id) { id } }
`);
const RunNightly = graphql(`
  mutation BrowserRunNightly { runJob(job: NIGHTLY) { status } }
`);

let server: TestServer;
let world: World;
let fading: Person;
let browser: Browser;
let dashboardDir: string;
let answers = 0;

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

/** A request with one of the dashboard's own documents. */
async function api<R, V>(document: TypedDocumentString<R, V>, variables: V, token: string): Promise<R> {
  return dataOf((await server.request(document.toString(), variables, token)) as GraphQLResponse<R>);
}

/** A session of `n` answers by `person` in a subcategory, the first `correct` right, ended. */
async function session(person: Person, subcategory: string, n: number, correct: number): Promise<void> {
  const { startSession } = dataOf(await server.request(StartSession, { units: [subcategory] }, person.token));
  const questions = world.questions.filter((q) => q.subcategory === subcategory);
  for (let i = 0; i < n; i++) {
    const q = questions[i % questions.length]!;
    dataOf(
      await server.request(
        Answer,
        {
          input: {
            sessionId: startSession.id,
            questionId: q.id,
            userAnswer: i < correct ? q.answer : 'wrong',
            timeSec: 20,
            clientAttemptId: `browser-${answers++}`,
          },
        },
        person.token,
      ),
    );
  }
  dataOf(await server.request(EndSession, { id: startSession.id }, person.token));
}

beforeAll(async () => {
  dashboardDir = await mkdtemp(path.join(tmpdir(), 'learnloop-dashboard-'));
  await build({
    configFile: path.resolve('web/vite.config.ts'),
    logLevel: 'warn',
    build: { outDir: dashboardDir, emptyOutDir: true },
  });
  server = await startTestServer({ dashboardDir });
  world = await createWorld(server);
  fading = await createPerson(server, world.admin.token, 'Fading Learner');
  await session(world.alice, 'Algebra', 6, 4);
  await session(world.alice, 'Geometry', 5, 2);
  await session(world.bob, 'Geometry', 4, 3);
  // Fading practised 4 days ago and not since: at risk over the last 7 days.
  const question = world.questions[0]!;
  const fourDaysAgo = new Date(`${day(-4)}T12:00:00Z`);
  await insertAttempts(
    server.db,
    Array.from({ length: 8 }, (_, i) => ({
      userId: fading.userId,
      questionId: rawId(question.id),
      correct: i % 2 === 0,
      context: 'PRACTICE' as const,
      recordedAt: new Date(fourDaysAgo.getTime() + i * 1000),
    })),
  );
  expect(dataOf(await server.request(RunNightly, {}, world.admin.token)).runJob.status).toBe('SUCCEEDED');
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (dashboardDir) await rm(dashboardDir, { recursive: true, force: true });
});

/** A page signed in with `token` through the URL fragment, in UTC, at a route. */
async function open(token: string, route: string, width = 1280): Promise<Page> {
  const page = await browser.newPage();
  await page.emulateTimezone('UTC');
  await page.setViewport({ width, height: 900 });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.goto(`${server.url}/dashboard/#token=${token}`);
  expect(page.url()).toBe(`${server.url}/dashboard/`);
  await page.evaluate((hash) => {
    window.location.hash = hash;
  }, route);
  (page as Page & { errors?: string[] }).errors = errors;
  return page;
}

async function rows(page: Page, table: string): Promise<string[][]> {
  await page.waitForSelector(`[data-table="${table}"]`);
  return page.$$eval(`[data-table="${table}"] tbody tr`, (trs) =>
    trs.map((tr) => [...(tr as HTMLTableRowElement).cells].map((cell) => cell.textContent?.trim() ?? '')),
  );
}

const percent = (value: number | null | undefined) => (value == null ? '—' : `${(value * 100).toFixed(1)}%`);

/** Tabs through the page and says which of its controls were never focused. */
async function unreachedByKeyboard(page: Page): Promise<string[]> {
  const controls = await page.$$eval('a[href], button:not([disabled]), input, textarea, select, summary', (all) =>
    all.map((element, i) => {
      element.setAttribute('data-kb', String(i));
      return `${element.tagName.toLowerCase()} “${element.textContent?.trim().slice(0, 40)}”`;
    }),
  );
  const reached = new Set<string>();
  for (let i = 0; i < controls.length + 3; i++) {
    await page.keyboard.press('Tab');
    const index = await page.evaluate(() => document.activeElement?.getAttribute('data-kb') ?? null);
    if (index !== null) reached.add(index);
  }
  return controls.filter((_, i) => !reached.has(String(i)));
}

describe('coach and admin views', () => {
  test('cohort overview: the API’s numbers per day and subcategory, at-risk learners link to their view', async () => {
    const page = await open(world.admin.token, '#/cohort?days=7');
    const { cohortOverview } = await api(CohortDocument, { from: day(-6), to: day(0) }, world.admin.token);
    const days = await rows(page, 'cohort-days');
    expect(days.map((cells) => cells.slice(1))).toEqual(
      cohortOverview.days.map((d) => [
        String(d.attempts),
        String(d.sessions),
        String(d.activeLearners),
        percent(d.accuracy),
      ]),
    );
    expect(cohortOverview.days.at(-1)!.attempts).toBe(15);
    expect(await rows(page, 'cohort-subcategories')).toEqual(
      cohortOverview.subcategories.map((s) => [
        s.subcategory,
        String(s.learners),
        String(s.attempts),
        percent(s.accuracy),
        percent(s.meanMastery),
      ]),
    );
    const atRisk = await page.$$eval('[data-list="at-risk"] li', (items) =>
      items.map((li) => ({ name: li.querySelector('a')!.textContent, reason: li.querySelector('p')!.textContent })),
    );
    expect(atRisk).toEqual(cohortOverview.atRisk.map((r) => ({ name: r.user.name, reason: r.reason })));
    expect(atRisk.map((r) => r.name)).toEqual(['Fading Learner']);
    expect(await page.$$('.chart canvas')).toHaveLength(2);
    await saveScreenshot(page, 'dashboard-cohort');
    expect(await unreachedByKeyboard(page)).toEqual([]);

    // The at-risk learner's view through the link, then the 30-day preset, by keyboard.
    await page.focus('[data-list="at-risk"] a');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'Fading Learner');
    await page.evaluate(() => {
      window.location.hash = '#/cohort?days=7';
    });
    await page.waitForSelector('a.preset[href="#/cohort?days=30"]');
    await page.focus('a.preset[href="#/cohort?days=30"]');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelectorAll('[data-table="cohort-days"] tbody tr').length === 30);
    expect((page as Page & { errors?: string[] }).errors).toEqual([]);
    await page.close();
  });

  test('learners: searchable and paged, with the API’s stats', async () => {
    const page = await open(world.coach.token, '#/learners');
    const { users } = await api(LearnersDocument, { first: 25, search: null }, world.coach.token);
    const table = await rows(page, 'learners');
    expect(table.map((cells) => [cells[0], cells[1], ...cells.slice(3)])).toEqual(
      users.edges.map(({ node }) => [
        node.name,
        node.email,
        String(node.stats.sessions),
        String(node.stats.attempts),
        percent(node.stats.accuracy),
        percent(node.stats.meanMastery),
      ]),
    );
    expect(table.map((cells) => cells[0])).toEqual(['Alice Learner', 'Bob Learner', 'Fading Learner']);
    await saveScreenshot(page, 'dashboard-learners');
    expect(await unreachedByKeyboard(page)).toEqual([]);

    await page.type('#search', 'bob');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelectorAll('[data-table="learners"] tbody tr').length === 1);
    expect((await rows(page, 'learners'))[0]![0]).toBe('Bob Learner');
    await page.evaluate(() => {
      (document.getElementById('search') as HTMLInputElement).value = '';
    });
    await page.type('#search', 'no such learner');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.notice.empty');
    await page.close();
  });

  test('operations: the NIGHTLY run with its steps, and usage per day as the API has them', async () => {
    const page = await open(world.admin.token, '#/operations');
    const { jobRuns, usageStats } = await api(OperationsDocument, { from: day(-29), to: day(0) }, world.admin.token);
    await page.waitForSelector('[data-list="job-runs"]');
    const runs = await page.$$eval('[data-list="job-runs"] > li > p:first-child', (ps) =>
      ps.map((p) => p.textContent ?? ''),
    );
    expect(runs).toHaveLength(jobRuns.edges.length);
    expect(runs[0]).toMatch(/^NIGHTLY SUCCEEDED slot /);
    const steps = await page.$$eval('[data-list="job-runs"] li table:first-of-type tbody tr', (trs) =>
      trs.map((tr) => tr.querySelector('td')!.textContent),
    );
    const stepMs = (jobRuns.edges[0]!.node.stats as { stepMs: Record<string, number> }).stepMs;
    expect(steps).toEqual(Object.keys(stepMs).sort((a, b) => stepMs[b]! - stepMs[a]!));
    expect((await rows(page, 'usage')).map((cells) => cells.slice(1, 5))).toEqual(
      usageStats.map((u) => [String(u.attempts), String(u.activeUsers), percent(u.accuracy), String(u.sessions)]),
    );
    expect(usageStats.at(-1)).toMatchObject({ date: day(0), attempts: 15, sessions: 3 });
    await page.click('[data-list="job-runs"] summary');
    await saveScreenshot(page, 'dashboard-operations');
    expect(await unreachedByKeyboard(page)).toEqual([]);
    await page.close();
  });
});

describe('learner view', () => {
  test('a coach sees a learner’s masteries, sessions and plans as the API has them', async () => {
    const page = await open(world.coach.token, `#/learner/${encodeURIComponent(world.alice.id)}`);
    const { user } = await api(LearnerDocument, { id: world.alice.id, historyFrom: day(-89) }, world.coach.token);
    expect(user!.masteries.map((m) => m.subcategory)).toEqual(['Algebra', 'Geometry']);
    expect((await rows(page, 'masteries')).map((cells) => cells.slice(0, 4))).toEqual(
      user!.masteries.map((m) => [m.subcategory, percent(m.score), percent(m.estimate), String(m.attemptsCount)]),
    );
    expect((await rows(page, 'sessions')).map((cells) => [cells[2], cells[3]])).toEqual(
      user!.sessions.edges.map(({ node }) => [
        `${node.summary!.questionsCorrect}/${node.summary!.questionsAttempted}`,
        percent(node.summary!.accuracy),
      ]),
    );
    const plans = await api(PlansDocument, { id: world.alice.id, today: day(0), tomorrow: day(1) }, world.coach.token);
    expect(plans.user!.tomorrow.units.length).toBeGreaterThan(0);
    await page.waitForSelector('[data-plan="tomorrow"] li');
    const tomorrow = await page.$$eval('[data-plan="tomorrow"] li strong', (s) => s.map((x) => x.textContent));
    expect(tomorrow).toEqual(plans.user!.tomorrow.units.map((u) => u.subcategory));
    await page.waitForSelector('.chart canvas');
    await saveScreenshot(page, 'dashboard-learner-coach');
    expect(await unreachedByKeyboard(page)).toEqual([]);
    await page.close();
  });

  test('a learner cannot open another learner’s view: the page shows the API’s FORBIDDEN', async () => {
    const page = await open(world.bob.token, `#/learner/${encodeURIComponent(world.alice.id)}`);
    await page.waitForSelector('.notice.error');
    const message = await page.$eval('.notice.error', (p) => p.textContent);
    expect(message).toMatch(/^FORBIDDEN: /);
    expect(await page.$('[data-table="masteries"]')).toBeNull();
    await saveScreenshot(page, 'dashboard-learner-forbidden');
    await page.close();
  });

  test('a session ended over HTTP updates the open view (plan and sessions) within 2 s, without reload', async () => {
    const page = await open(world.alice.token, '#/me', 390);
    await page.waitForSelector('[data-plan="tomorrow"] li');
    await page.waitForSelector('[data-table="sessions"]');
    const before = await page.$eval('.live', (p) => p.textContent);
    const sessionsBefore = (await rows(page, 'sessions')).length;
    await page.evaluate(() => {
      (window as unknown as { marker: boolean }).marker = true;
    });
    // Wait until the live feed is subscribed: the page opens it right after drawing the plans.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await session(world.alice, 'Algebra', 5, 0);
    const ended = Date.now();
    await page.waitForFunction(
      (previous) => {
        const text = document.querySelector('.live')?.textContent ?? '';
        return text !== previous && text.startsWith('A session just ended');
      },
      { timeout: 2000 },
      before,
    );
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-table="sessions"] tbody tr').length === n + 1,
      { timeout: Math.max(1, 2000 - (Date.now() - ended)) },
      sessionsBefore,
    );
    expect(Date.now() - ended).toBeLessThan(2000);
    expect(await page.evaluate(() => (window as unknown as { marker?: boolean }).marker)).toBe(true);
    const plans = await api(PlansDocument, { id: world.alice.id, today: day(0), tomorrow: day(1) }, world.alice.token);
    const shown = await page.$$eval('[data-plan="tomorrow"] li', (items) =>
      items.map((li) => `${li.querySelector('strong')!.textContent}${li.childNodes[1]!.textContent}`),
    );
    expect(shown).toEqual(plans.user!.tomorrow.units.map((u) => `${u.subcategory} — ${u.targetQuestions} questions`));
    await saveScreenshot(page, 'dashboard-learner-phone');
    expect(await unreachedByKeyboard(page)).toEqual([]);
    await page.close();
  });

  test('signing in by pasting a token; a bad one is refused with a message', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/dashboard/`);
    await page.waitForSelector('#token');
    await page.type('#token', 'not a token');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.notice.error');
    await saveScreenshot(page, 'dashboard-sign-in');
    await page.$eval('#token', (t) => {
      (t as HTMLTextAreaElement).value = '';
    });
    await page.type('#token', `Bearer ${world.bob.token}`);
    await page.click('button[type="submit"]');
    await page.waitForFunction(() => document.querySelector('h1')?.textContent?.startsWith('My learning'));
    expect(await page.evaluate(() => sessionStorage.getItem('learnloop.token'))).toBe(world.bob.token);
    await page.close();
  });
});
