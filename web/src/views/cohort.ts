// Coaches and admins: the cohort over the last 7, 30 or 90 days — one request (cohortOverview).
import { request } from '../api.ts';
import { boxPlots, dayChart } from '../charts.ts';
import { CohortDocument } from '../documents.ts';
import { h, notice, section, table } from '../dom.ts';
import { day, integer, localDate, percent } from '../format.ts';
import type { View } from '../main.ts';
import { errorNotice, learnerHref } from './common.ts';

export const presets = [7, 30, 90];

export const cohortView: View = (main, viewer, route) => {
  const days = presets.includes(Number(route.params.get('days'))) ? Number(route.params.get('days')) : 30;
  const to = localDate(0);
  const from = localDate(-(days - 1));
  const body = h('div', { class: 'stack' }, notice('loading', 'Loading the cohort…'));
  main.append(
    h('h1', {}, 'Cohort overview'),
    h(
      'nav',
      { class: 'presets', 'aria-label': 'Date range' },
      ...presets.map((n) =>
        h(
          'a',
          { class: 'preset', href: `#/cohort?days=${n}`, 'aria-current': n === days ? 'page' : null },
          `Last ${n} days`,
        ),
      ),
      h('span', { class: 'range' }, `${day(from)} – ${day(to)}`),
    ),
    body,
  );
  request(viewer.token, CohortDocument, { from, to }).then(
    ({ cohortOverview: cohort }) => {
      const dates = cohort.days.map((d) => d.date);
      const active = cohort.days.some((d) => d.attempts > 0 || d.sessions > 0);
      body.replaceChildren(
        section(
          'Activity per day',
          active
            ? [
                dayChart(`Attempts (bars, left) and sessions (line, right) per day, ${from} to ${to}`, dates, [
                  { label: 'Attempts', values: cohort.days.map((d) => d.attempts), kind: 'bars', scale: 'count' },
                  { label: 'Sessions', values: cohort.days.map((d) => d.sessions), kind: 'line', scale: 'sessions' },
                ]),
                dayChart(`Accuracy per day, ${from} to ${to}`, dates, [
                  { label: 'Accuracy', values: cohort.days.map((d) => d.accuracy), kind: 'line', scale: 'fraction' },
                ]),
              ]
            : notice('empty', 'No attempts or sessions in this range.'),
          h(
            'details',
            {},
            h('summary', {}, 'Numbers per day'),
            table(
              'Per day',
              ['Day', 'Attempts', 'Sessions', 'Active learners', 'Accuracy'],
              cohort.days.map((d) => [
                day(d.date),
                integer(d.attempts),
                integer(d.sessions),
                integer(d.activeLearners),
                percent(d.accuracy),
              ]),
              { 'data-table': 'cohort-days' },
            ),
          ),
        ),
        section(
          'Mastery per subcategory',
          cohort.subcategories.length === 0
            ? notice('empty', 'No subcategory was practised in this range.')
            : [
                boxPlots(
                  'Current mastery of the learners who practised each subcategory in the range',
                  cohort.subcategories.map((s) => ({
                    label: s.subcategory,
                    values: s.masteryQuantiles,
                    note: `${integer(s.learners)} learners`,
                  })),
                ),
                table(
                  'Practice per subcategory',
                  ['Subcategory', 'Learners', 'Attempts', 'Accuracy', 'Mean mastery'],
                  cohort.subcategories.map((s) => [
                    s.subcategory,
                    integer(s.learners),
                    integer(s.attempts),
                    percent(s.accuracy),
                    percent(s.meanMastery),
                  ]),
                  { 'data-table': 'cohort-subcategories' },
                ),
              ],
        ),
        section(
          'At risk',
          cohort.atRisk.length === 0
            ? notice('empty', 'Nobody’s accuracy or activity dropped in this range.')
            : h(
                'ol',
                { class: 'at-risk', 'data-list': 'at-risk' },
                ...cohort.atRisk.map((risk) =>
                  h('li', {}, h('a', { href: learnerHref(risk.user.id) }, risk.user.name), h('p', {}, risk.reason)),
                ),
              ),
        ),
      );
    },
    (error) => body.replaceChildren(errorNotice(error)),
  );
  return undefined;
};
