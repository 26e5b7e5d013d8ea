// Charts with uPlot: ~50 kB, canvas, draws thousands of points in a millisecond — the smallest fast
// time-series chart on npm. Each chart carries an aria-label; the numbers are also in a table.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h } from './dom.ts';
import { dayInstant } from './format.ts';

export interface Series {
  label: string;
  values: (number | null)[];
  /** Bars (counts) or a line (rates, scores). */
  kind: 'bars' | 'line';
  /** The y scale: 'fraction' (0..1, shown as %) or a name of its own (counts from 0); two scales, two axes. */
  scale: string;
}

const palette = ['#1f5fbf', '#c2410c', '#15803d', '#7e22ce', '#b91c1c', '#0e7490', '#a16207', '#be185d'];

const bars = uPlot.paths.bars?.({ size: [0.7, 40] });
const axisDay = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });

/** A chart of values per calendar day; returns the element (drawn once it is in the page). */
export function dayChart(label: string, dates: string[], series: Series[], height = 240): HTMLElement {
  const container = h('div', { class: 'chart', role: 'img', 'aria-label': label });
  const xs = dates.map((date) => dayInstant(date).getTime() / 1000);
  const scales = new Set(series.map((s) => s.scale));
  const options: uPlot.Options = {
    width: 600,
    height,
    // Days are calendar days: shown as the dates they are, not shifted into the viewer's zone.
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    scales: {
      // The days given, half a day either side (so the first and last bars are whole).
      x: { time: true, range: (): uPlot.Range.MinMax => [xs[0]! - 43_200, xs[xs.length - 1]! + 43_200] },
      ...Object.fromEntries(
        [...scales].map((scale) => [
          scale,
          scale === 'fraction'
            ? { range: [0, 1] as uPlot.Range.MinMax }
            : { range: (_u: uPlot, _min: number, max: number): uPlot.Range.MinMax => [0, Math.max(1, max)] },
        ]),
      ),
    },
    axes: [
      // Ticks on whole days only, labelled as dates.
      {
        incrs: [1, 2, 7, 14, 28, 56, 91].map((n) => n * 86_400),
        values: (_u: uPlot, ticks: number[]) => ticks.map((t) => axisDay.format(new Date(t * 1000))),
      },
      ...[...scales].map((scale, i) => ({
        scale,
        side: i === 0 ? 3 : 1,
        grid: { show: i === 0 },
        label: [...scales].length > 1 ? series.find((s) => s.scale === scale)?.label : undefined,
        values:
          scale === 'fraction'
            ? (_u: uPlot, ticks: number[]) => ticks.map((t) => `${Math.round(t * 100)}%`)
            : undefined,
      })),
    ],
    series: [
      { label: 'Day', value: (_u, ts) => (ts === null ? '—' : new Date(ts * 1000).toISOString().slice(0, 10)) },
      ...series.map((s, i) => ({
        label: s.label,
        scale: s.scale,
        stroke: palette[i % palette.length],
        width: 2,
        fill: s.kind === 'bars' ? `${palette[i % palette.length]}99` : undefined,
        paths: s.kind === 'bars' ? bars : undefined,
        points: { show: s.kind === 'line' && dates.length < 40 },
        spanGaps: s.kind === 'line',
        value: (_u: uPlot, v: number | null) =>
          v === null ? '—' : s.scale === 'fraction' ? `${(v * 100).toFixed(1)}%` : String(v),
      })),
    ],
  };
  const data: uPlot.AlignedData = [xs, ...series.map((s) => s.values)];
  mountWhenAttached(container, (width) => new uPlot({ ...options, width }, data, container));
  return container;
}

/** Draws once the container is in the document, at its width, and redraws on resize. */
function mountWhenAttached(container: HTMLElement, draw: (width: number) => uPlot): void {
  let plot: uPlot | null = null;
  const observer = new ResizeObserver(() => {
    if (!container.isConnected) {
      observer.disconnect();
      plot?.destroy();
      return;
    }
    const width = Math.max(260, Math.floor(container.clientWidth));
    if (!plot) plot = draw(width);
    else if (Math.abs(plot.width - width) > 4) plot.setSize({ width, height: plot.height });
  });
  observer.observe(container);
}

export interface Quantiles {
  label: string;
  /** Minimum, lower quartile, median, upper quartile, maximum (0..1); empty for none. */
  values: number[];
  note: string;
}

/** Box plots on a 0..100% track, one row each, with the five numbers written out. */
export function boxPlots(caption: string, rows: Quantiles[]): HTMLElement {
  return h(
    'figure',
    { class: 'boxplots' },
    h('figcaption', {}, caption),
    h(
      'ul',
      {},
      ...rows.map((row) => {
        const [min, q1, median, q3, max] = row.values;
        const text =
          min === undefined
            ? 'no mastery yet'
            : `min ${pct(min)}, quartiles ${pct(q1!)}–${pct(q3!)}, median ${pct(median!)}, max ${pct(max!)}`;
        return h(
          'li',
          {},
          h('span', { class: 'box-label' }, row.label, h('small', {}, row.note)),
          h(
            'span',
            { class: 'box-track', role: 'img', 'aria-label': `${row.label}: ${text}` },
            min === undefined
              ? null
              : [
                  h('span', { class: 'box-whisker', style: `left:${pct(min)};width:${pct(max! - min)}` }),
                  h('span', { class: 'box-box', style: `left:${pct(q1!)};width:${pct(q3! - q1!)}` }),
                  h('span', { class: 'box-median', style: `left:${pct(median!)}` }),
                ],
          ),
          h('span', { class: 'box-text' }, text),
        );
      }),
    ),
  );
}

const pct = (value: number) => `${Math.round(value * 1000) / 10}%`;
