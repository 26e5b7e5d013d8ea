// Coaches and admins: every learner by name, searchable, 25 a page — one request a page.
import { request } from '../api.ts';
import { LearnersDocument } from '../documents.ts';
import { h, notice, table } from '../dom.ts';
import { dateTime, integer, percent } from '../format.ts';
import type { View } from '../main.ts';
import { errorNotice, learnerHref } from './common.ts';

export const pageSize = 25;

export const learnersView: View = (main, viewer, route) => {
  const search = route.params.get('search') ?? '';
  /** Cursors of the pages before the current one (the first page has none). */
  const cursors: (string | undefined)[] = [];
  let after: string | undefined;
  const input = h('input', { id: 'search', name: 'search', type: 'search', value: search, autocomplete: 'off' });
  const results = h('div', { 'aria-live': 'polite' }, notice('loading', 'Loading learners…'));
  main.append(
    h('h1', {}, 'Learners'),
    h(
      'form',
      {
        class: 'search',
        role: 'search',
        onsubmit: (event: Event) => {
          event.preventDefault();
          const text = input.value.trim();
          window.location.hash = text ? `#/learners?search=${encodeURIComponent(text)}` : '#/learners';
        },
      },
      h('label', { for: 'search' }, 'Name or email contains'),
      input,
      h('button', { type: 'submit' }, 'Search'),
    ),
    results,
  );

  const load = () => {
    results.replaceChildren(notice('loading', 'Loading learners…'));
    request(viewer.token, LearnersDocument, { search: search || null, first: pageSize, after }).then(
      ({ users }) => {
        const pageNumber = cursors.length + 1;
        const rows = users.edges.map(({ node }) => [
          h('a', { href: learnerHref(node.id) }, node.name),
          node.email,
          dateTime(node.stats.lastActiveAt),
          integer(node.stats.sessions),
          integer(node.stats.attempts),
          percent(node.stats.accuracy),
          percent(node.stats.meanMastery),
        ]);
        const previous = h('button', { type: 'button', disabled: cursors.length === 0 }, 'Previous page');
        const next = h('button', { type: 'button', disabled: !users.pageInfo.hasNextPage }, 'Next page');
        previous.addEventListener('click', () => {
          after = cursors.pop();
          load();
        });
        next.addEventListener('click', () => {
          cursors.push(after);
          after = users.pageInfo.endCursor ?? undefined;
          load();
        });
        results.replaceChildren(
          rows.length === 0
            ? notice('empty', search ? `No learner’s name or email contains “${search}”.` : 'No learners yet.')
            : h(
                'div',
                { class: 'scroll' },
                table(
                  search ? `Learners matching “${search}”, page ${pageNumber}` : `Learners, page ${pageNumber}`,
                  ['Name', 'Email', 'Last active', 'Sessions', 'Attempts', 'Accuracy', 'Mean mastery'],
                  rows,
                  { 'data-table': 'learners' },
                ),
              ),
          h('div', { class: 'pager' }, previous, h('span', {}, `Page ${pageNumber}`), next),
        );
      },
      (error) => results.replaceChildren(errorNotice(error)),
    );
  };
  load();
  return undefined;
};
