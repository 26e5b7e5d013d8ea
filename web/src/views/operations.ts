// Admins: the last job runs (status, per-step durations and counts) and usage per day — one request.
import { request } from '../api.ts';
import { dayChart } from '../charts.ts';
import { OperationsDocument } from '../documents.ts';
import { h, notice, section, table } from '../dom.ts';
import { dateTime, day, decimal, integer, localDate, percent } from '../format.ts';
import type { View } from '../main.ts';
import { errorNotice } from './common.ts';

const usageDays = 30;

/** A run's stats: the counts its steps reported, their durations in ms (stepMs), its attempt window. */
interface RunStats {
  stepMs?: Record<string, number>;
  window?: { after: string | null; upTo: string };
  [count: string]: unknown;
}

/** The steps, slowest first. */
function stepRows(stats: RunStats | null) {
  return Object.entries(stats?.stepMs ?? {})
    .sort(([, a], [, b]) => b - a)
    .map(([step, ms]) => [step, `${integer(ms)} ms`]);
}

function countRows(stats: RunStats | null) {
  return Object.entries(stats ?? {})
    .filter(([, value]) => typeof value === 'number')
    .map(([name, value]) => [name, integer(value as number)]);
}

export const operationsView: View = (main, viewer) => {
  const to = localDate(0);
  const from = localDate(-(usageDays - 1));
  const body = h('div', { class: 'stack' }, notice('loading', 'Loading operations…'));
  main.append(h('h1', {}, 'Operations'), body);
  request(viewer.token, OperationsDocument, { from, to }).then(
    ({ jobRuns, usageStats }) => {
      body.replaceChildren(
        section(
          'Last job runs',
          jobRuns.edges.length === 0
            ? notice('empty', 'No job has run yet.')
            : h(
                'ul',
                { class: 'runs', 'data-list': 'job-runs' },
                ...jobRuns.edges.map(({ node: run }) =>
                  h(
                    'li',
                    {},
                    h(
                      'p',
                      {},
                      h('strong', {}, run.job),
                      ' ',
                      h('span', { class: `status ${run.status.toLowerCase()}` }, run.status),
                      ` slot ${dateTime(run.slot)}`,
                      run.date ? ` · closes ${day(run.date)}` : '',
                      run.finishedAt
                        ? ` · ${decimal((Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000, 1)} s`
                        : '',
                    ),
                    run.error ? h('p', { class: 'notice error' }, run.error) : null,
                    h(
                      'details',
                      {},
                      h('summary', {}, 'Steps and counts'),
                      h(
                        'div',
                        { class: 'pair' },
                        table(
                          'Duration per step, slowest first',
                          ['Step', 'Duration'],
                          stepRows(run.stats as RunStats),
                        ),
                        table('What the run did', ['Count', 'Rows'], countRows(run.stats as RunStats)),
                      ),
                    ),
                  ),
                ),
              ),
        ),
        section(
          `Usage per day (last ${usageDays} days closed by NIGHTLY)`,
          usageStats.length === 0
            ? notice('empty', 'No day has been closed by a NIGHTLY run in this range.')
            : [
                dayChart(
                  'Attempts (left), active learners and sessions (right) per day',
                  usageStats.map((u) => u.date),
                  [
                    { label: 'Attempts', values: usageStats.map((u) => u.attempts), kind: 'bars', scale: 'count' },
                    {
                      label: 'Active learners',
                      values: usageStats.map((u) => u.activeUsers),
                      kind: 'line',
                      scale: 'people',
                    },
                    { label: 'Sessions', values: usageStats.map((u) => u.sessions), kind: 'line', scale: 'people' },
                  ],
                ),
                h(
                  'div',
                  { class: 'scroll' },
                  table(
                    'Usage per day',
                    ['Day', 'Attempts', 'Active learners', 'Accuracy', 'Sessions', 'Mean session', 'By context'],
                    usageStats.map((u) => [
                      day(u.date),
                      integer(u.attempts),
                      integer(u.activeUsers),
                      percent(u.accuracy),
                      integer(u.sessions),
                      u.averageSessionMinutes === null ? '—' : `${decimal(u.averageSessionMinutes, 1)} min`,
                      u.byContext.map((c) => `${c.context.toLowerCase()} ${integer(c.attempts)}`).join(', '),
                    ]),
                    { 'data-table': 'usage' },
                  ),
                ),
              ],
        ),
      );
    },
    (error) => body.replaceChildren(errorNotice(error)),
  );
  return undefined;
};
