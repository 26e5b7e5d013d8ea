// The dashboard: sign-in, the navigation, and a hash router over the four screens.
import './style.css';
import { currentViewer, signIn, signOut, type Viewer } from './auth.ts';
import { h } from './dom.ts';
import { cohortView } from './views/cohort.ts';
import { learnerView } from './views/learner.ts';
import { learnersView } from './views/learners.ts';
import { operationsView } from './views/operations.ts';

/** A screen draws into `main` and returns what stops its live parts (subscriptions), if any. */
export type View = (main: HTMLElement, viewer: Viewer, route: Route) => (() => void) | undefined;

export interface Route {
  path: string[];
  params: URLSearchParams;
}

const app = document.getElementById('app')!;
let viewer = currentViewer();
let stopView: (() => void) | undefined;

function route(): Route {
  const [path = '', query = ''] = window.location.hash.replace(/^#\/?/, '').split('?');
  return { path: path.split('/').filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(query) };
}

function viewFor(current: Viewer, { path }: Route): View | null {
  const staff = current.role !== 'LEARNER';
  switch (path[0] ?? (staff ? 'cohort' : 'me')) {
    case 'cohort':
      return staff ? cohortView : null;
    case 'learners':
      return staff ? learnersView : null;
    case 'operations':
      return current.role === 'ADMIN' ? operationsView : null;
    case 'me':
    case 'learner':
      return learnerView;
    default:
      return null;
  }
}

function navigation(current: Viewer): HTMLElement {
  const links: [string, string][] =
    current.role === 'LEARNER'
      ? [['#/me', 'My learning']]
      : [
          ['#/cohort', 'Cohort'],
          ['#/learners', 'Learners'],
          ...(current.role === 'ADMIN' ? ([['#/operations', 'Operations']] as [string, string][]) : []),
        ];
  const active = `#/${route().path[0] ?? (current.role === 'LEARNER' ? 'me' : 'cohort')}`;
  return h(
    'header',
    { class: 'top' },
    h('a', { class: 'brand', href: '#/' }, 'Learnloop'),
    h(
      'nav',
      { 'aria-label': 'Dashboard' },
      ...links.map(([href, text]) => h('a', { href, 'aria-current': href === active ? 'page' : null }, text)),
    ),
    h('span', { class: 'who' }, current.role.toLowerCase()),
    h(
      'button',
      {
        type: 'button',
        onclick: () => {
          signOut();
          viewer = null;
          render();
        },
      },
      'Sign out',
    ),
  );
}

function signInForm(message?: string): HTMLElement {
  const input = h('textarea', { id: 'token', name: 'token', rows: 4, required: true, autocomplete: 'off' });
  const form = h(
    'form',
    {
      class: 'card signin',
      onsubmit: (event: Event) => {
        event.preventDefault();
        viewer = signIn(input.value);
        render(viewer ? undefined : 'That is not a valid, unexpired Learnloop token.');
      },
    },
    h('h1', {}, 'Sign in to the Learnloop dashboard'),
    h('p', {}, 'Paste the token your platform gave you (development mode: the links printed at server start).'),
    message ? h('p', { class: 'notice error', role: 'alert' }, message) : null,
    h('label', { for: 'token' }, 'Token (JWT)'),
    input,
    h('button', { type: 'submit', class: 'signin-submit' }, 'Sign in'),
  );
  return form;
}

function render(message?: string): void {
  stopView?.();
  stopView = undefined;
  app.replaceChildren();
  if (!viewer) {
    app.append(h('main', { id: 'main' }, signInForm(message)));
    return;
  }
  const current = viewer;
  const main = h('main', { id: 'main', tabindex: -1 });
  app.append(navigation(current), main);
  const view = viewFor(current, route());
  if (!view) {
    main.append(h('p', { class: 'notice error', role: 'alert' }, 'There is no such page for your role.'));
    return;
  }
  stopView = view(main, current, route());
}

window.addEventListener('hashchange', () => {
  if (/^#token=/.test(window.location.hash)) viewer = currentViewer();
  render();
});
render();
