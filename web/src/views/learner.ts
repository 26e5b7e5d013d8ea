// A learner's view (their own, or any learner's for a coach): two requests — the learner with their
// masteries, history, sessions and patterns; then today's and tomorrow's plan in the learner's time
// zone — and a live feed (graphql-ws): plan adjustments update the plan in place, and a session's end
// reloads the rest.
import { request, subscribe } from '../api.ts';
import { dayChart } from '../charts.ts';
import {
  LearnerDocument,
  MyLearnerDocument,
  PlanAdjustedDocument,
  PlansDocument,
  SessionEndedDocument,
} from '../documents.ts';
import { h, notice, section, table } from '../dom.ts';
import { dateTime, day, decimal, integer, localDate, minutes, percent } from '../format.ts';
import type { DashboardMeQuery, DashboardPlansQuery } from '../gql/graphql.ts';
import type { View } from '../main.ts';
import { type Adjustment, describeAdjustment } from '../plan-changes.ts';
import { errorNotice } from './common.ts';

type Learner = NonNullable<DashboardMeQuery['me']>;
type Mastery = Learner['masteries'][number];
type Plan = NonNullable<DashboardPlansQuery['user']>['today'];

export const historyDays = 90;

/** The columns of the mastery table (a new Mastery field is one more line here and in the document). */
const masteryColumns: [string, (m: Mastery) => string | Node][] = [
  ['Subcategory', (m) => m.subcategory],
  ['Mastery (nightly)', (m) => meter(m.score)],
  ['Live estimate', (m) => meter(m.estimate)],
  ['Attempts', (m) => integer(m.attemptsCount)],
  ['Last practised', (m) => dateTime(m.lastPracticedAt)],
  ['Updated', (m) => dateTime(m.updatedAt)],
];

function meter(score: number): HTMLElement {
  return h(
    'span',
    { class: 'meter-cell' },
    h('meter', { min: 0, max: 1, low: 0.4, high: 0.7, optimum: 1, value: score, 'aria-hidden': 'true' }),
    percent(score),
  );
}

export const learnerView: View = (main, viewer, route) => {
  const id = route.path[0] === 'learner' ? route.path[1] : undefined;
  const historyFrom = localDate(-(historyDays - 1));
  const heading = h('h1', {}, 'Learner');
  const summary = h('div', { class: 'stack' }, notice('loading', 'Loading the learner…'));
  const plans = h('div', { class: 'stack plans' });
  const live = h('p', { class: 'live', role: 'status', 'aria-live': 'polite' });
  main.append(heading, live, plans, summary);
  const stops: (() => void)[] = [];
  let stopped = false;
  let learner: Learner | null = null;
  let today: Plan | null = null;
  let tomorrow: Plan | null = null;

  const loadLearner = async (): Promise<Learner> => {
    const found = id
      ? (await request(viewer.token, LearnerDocument, { id, historyFrom })).user
      : (await request(viewer.token, MyLearnerDocument, { historyFrom })).me;
    if (!found) throw new Error('There is no learner behind this token.');
    return found;
  };

  const drawPlans = () => {
    if (!today || !tomorrow) return;
    plans.replaceChildren(
      section('Plan', h('div', { class: 'pair' }, planCard('Today', today), planCard('Tomorrow', tomorrow))),
    );
  };

  const showChange = (adjustment: Adjustment & { planDate: string; createdAt: string }) => {
    const { why, changes } = describeAdjustment(adjustment);
    live.replaceChildren(
      h('strong', {}, `${why} (${dateTime(adjustment.createdAt)}): `),
      changes.length ? `plan of ${day(adjustment.planDate)} — ${changes.join('; ')}.` : 'the plan stayed as it was.',
    );
  };

  loadLearner()
    .then(async (found) => {
      if (stopped) return;
      learner = found;
      heading.textContent = id ? `${found.name}` : `My learning — ${found.name}`;
      drawLearner(summary, found);
      const dates = { today: localDate(0, found.timezone), tomorrow: localDate(1, found.timezone) };
      const planData = await request(viewer.token, PlansDocument, { id: found.id, ...dates });
      if (stopped || !planData.user) return;
      today = planData.user.today;
      tomorrow = planData.user.tomorrow;
      drawPlans();
      const latest = planData.user.planAdjustments.edges[0]?.node;
      if (latest) showChange(latest);
      const onError = (error: Error) => live.replaceChildren(errorNotice(error));
      stops.push(
        subscribe(
          viewer.token,
          PlanAdjustedDocument,
          { userId: found.id },
          ({ planAdjusted }) => {
            // The adjustment's `after` is the plan now.
            const units = planAdjusted.after;
            if (today && planAdjusted.planDate === today.date) today = { ...today, units };
            if (tomorrow && planAdjusted.planDate === tomorrow.date) tomorrow = { ...tomorrow, units };
            drawPlans();
            showChange(planAdjusted);
          },
          onError,
        ),
        subscribe(
          viewer.token,
          SessionEndedDocument,
          { userId: found.id },
          () =>
            void loadLearner().then((fresh) => {
              if (stopped) return;
              learner = fresh;
              drawLearner(summary, fresh);
            }, onError),
          onError,
        ),
      );
    })
    .catch((error) => {
      summary.replaceChildren(errorNotice(error));
      if (!learner) heading.textContent = 'Learner';
    });

  return () => {
    stopped = true;
    for (const stop of stops) stop();
  };
};

function planCard(title: string, plan: Plan): HTMLElement {
  const total = plan.units.reduce((sum, unit) => sum + unit.targetQuestions, 0);
  return h(
    'div',
    { class: 'plan', 'data-plan': title.toLowerCase() },
    h('h3', {}, `${title}, ${day(plan.date)}`, h('small', { class: 'plan-total' }, ` ${integer(total)} questions`)),
    plan.units.length === 0
      ? notice('empty', 'No plan for this day yet (one is made at the first session end or by the nightly job).')
      : h(
          'ol',
          {},
          ...plan.units.map((unit) =>
            h(
              'li',
              { class: `unit ${unit.status.toLowerCase()}` },
              h('strong', {}, unit.subcategory),
              ` — ${unit.targetQuestions} questions`,
              unit.status === 'PENDING' ? '' : ` (${unit.status.toLowerCase()})`,
              h('br', {}),
              h('small', {}, unit.reason),
            ),
          ),
        ),
  );
}

function drawLearner(container: HTMLElement, learner: Learner): void {
  container.replaceChildren(masterySection(learner), sessionsSection(learner), patternsSection(learner));
}

function masterySection(learner: Learner): HTMLElement {
  const history = learner.masteryHistory;
  const dates = [...new Set(history.map((p) => p.date))].sort();
  const subcategories = [...new Set(history.map((p) => p.subcategory))].sort();
  const index = new Map(history.map((p) => [`${p.subcategory} ${p.date}`, p.score]));
  return section(
    'Mastery per subcategory',
    learner.masteries.length === 0
      ? notice('empty', 'No mastery yet: scores come from the first nightly run after practice.')
      : h(
          'div',
          { class: 'scroll' },
          table(
            `Mastery now (time zone ${learner.timezone})`,
            masteryColumns.map(([name]) => name),
            learner.masteries.map((m) => masteryColumns.map(([, cell]) => cell(m))),
            { 'data-table': 'masteries' },
          ),
        ),
    h('h3', {}, `History, last ${historyDays} days`),
    dates.length === 0
      ? notice('empty', 'No history yet: the nightly job stores one point a day per subcategory.')
      : dayChart(
          `Mastery per subcategory per day, ${dates[0]} to ${dates[dates.length - 1]}`,
          dates,
          subcategories.map((subcategory) => ({
            label: subcategory,
            values: dates.map((date) => index.get(`${subcategory} ${date}`) ?? null),
            kind: 'line' as const,
            scale: 'fraction' as const,
          })),
          280,
        ),
  );
}

function sessionsSection(learner: Learner): HTMLElement {
  const sessions = learner.sessions.edges.map((edge) => edge.node);
  return section(
    'Recent sessions',
    sessions.length === 0
      ? notice('empty', 'No session yet.')
      : h(
          'div',
          { class: 'scroll' },
          table(
            'The last 10 sessions, newest first',
            [
              'Started',
              'Duration',
              'Questions',
              'Accuracy',
              'Topics',
              'Velocity',
              'Switches',
              'Attention',
              'Best difficulty',
            ],
            sessions.map((s) => [
              dateTime(s.startedAt),
              s.endedAt ? minutes(s.durationSec) : 'open',
              s.summary ? `${s.summary.questionsCorrect}/${s.summary.questionsAttempted}` : '—',
              percent(s.summary?.accuracy),
              s.summary?.topicsCovered.join(', ') || s.units.join(', ') || '—',
              decimal(s.analytics?.learningVelocity),
              s.analytics ? integer(s.analytics.conceptSwitches) : '—',
              s.analytics?.attentionSpanMinutes == null ? '—' : `${decimal(s.analytics.attentionSpanMinutes, 1)} min`,
              s.analytics?.optimalDifficultyRange.map((b) => b.toLowerCase()).join('–') || '—',
            ]),
            { 'data-table': 'sessions' },
          ),
        ),
  );
}

function patternsSection(learner: Learner): HTMLElement {
  const p = learner.learningPatterns;
  const hour = p.bestHourOfDay;
  const progression = p.difficultyProgression;
  return section(
    `Learning patterns (last ${p.windowDays} days)`,
    h(
      'dl',
      { class: 'facts', 'data-list': 'patterns' },
      h('dt', {}, 'Best hour'),
      h(
        'dd',
        {},
        hour === null
          ? 'not enough data'
          : `${String(hour).padStart(2, '0')}:00–${String(hour + 1).padStart(2, '0')}:00 (${learner.timezone})`,
      ),
      h('dt', {}, 'Best session length'),
      h(
        'dd',
        {},
        p.optimalSessionDurationMinutes === null
          ? 'not enough data'
          : `${decimal(p.optimalSessionDurationMinutes, 0)} min`,
      ),
    ),
    h('h3', {}, 'Retention by subcategory'),
    p.conceptRetention.length === 0
      ? notice('empty', 'No subcategory was practised on two days of the window.')
      : table(
          'Accuracy on the last day practised ÷ the first',
          ['Subcategory', 'First day', 'Last day', 'Retention'],
          p.conceptRetention.map((c) => [c.subcategory, day(c.firstDate), day(c.lastDate), percent(c.ratio, 0)]),
          { 'data-table': 'retention' },
        ),
    h('h3', {}, 'Difficulty progression'),
    progression.length === 0
      ? notice('empty', 'No attempts in the window.')
      : dayChart(
          'Mean difficulty and accuracy of the questions attempted per day',
          progression.map((d) => d.date),
          [
            {
              label: 'Mean difficulty',
              values: progression.map((d) => d.meanDifficulty),
              kind: 'line',
              scale: 'fraction',
            },
            { label: 'Accuracy', values: progression.map((d) => d.accuracy), kind: 'line', scale: 'fraction' },
          ],
        ),
  );
}
