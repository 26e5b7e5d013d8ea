// Closed-loop load: `concurrency` loops each run one operation after another for a warm-up and then a
// measured window. Shared by the HTTP worker and the in-process measurements of bench/attempts.ts.
import { performance } from 'node:perf_hooks';

/** One operation: resolves to null when it succeeded, or to a short description of what went wrong. */
export type Operation = (loop: number) => Promise<string | null>;

export interface LoadOptions {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Called once, when the first operation completes inside the measured window. */
  onWindowStart?: () => void;
}

export interface LoadResult {
  /** Operations that completed inside the measured window (succeeded or not). */
  requests: number;
  errors: number;
  /** The measured window. */
  durationMs: number;
  /** Milliseconds, one per request counted, unsorted. */
  latencies: Float64Array;
  /** A few distinct error descriptions. */
  errorSamples: string[];
}

/**
 * Runs the loops; an operation counts when it completes inside the measured window, so the rate is
 * unbiased by requests straddling the window's edges. Loops stop starting operations at its end.
 */
export async function runLoad(options: LoadOptions, operation: Operation): Promise<LoadResult> {
  const start = performance.now();
  const measureFrom = start + options.warmupMs;
  const measureTo = measureFrom + options.durationMs;
  const latencies: number[] = [];
  const errorSamples = new Set<string>();
  let errors = 0;
  let windowStarted = false;

  const loop = async (index: number): Promise<void> => {
    while (performance.now() < measureTo) {
      const begun = performance.now();
      let failure: string | null;
      try {
        failure = await operation(index);
      } catch (error) {
        failure = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
      const ended = performance.now();
      if (ended < measureFrom || ended > measureTo) continue;
      if (!windowStarted) {
        windowStarted = true;
        options.onWindowStart?.();
      }
      latencies.push(ended - begun);
      if (failure !== null) {
        errors++;
        if (errorSamples.size < 5) errorSamples.add(failure.slice(0, 300));
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => loop(i)));
  return {
    requests: latencies.length,
    errors,
    durationMs: options.durationMs,
    latencies: Float64Array.from(latencies),
    errorSamples: [...errorSamples],
  };
}

/**
 * Splits items among loops: loop i takes items i, i + loops, … With at least as many items as loops
 * no item is shared (one learner never has two attempts in flight, as with a real learner).
 */
export function partition<T>(items: readonly T[], loops: number): T[][] {
  return Array.from({ length: loops }, (_, loop) =>
    items.length >= loops ? items.filter((_, i) => i % loops === loop) : [items[loop % items.length]!],
  );
}

export interface Summary {
  requests: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
}

/** Exact percentiles (nearest rank) from the sorted latencies. */
export function summarize(result: LoadResult): Summary {
  const sorted = Float64Array.from(result.latencies).sort();
  const at = (q: number) =>
    sorted.length === 0
      ? Number.NaN
      : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  return {
    requests: result.requests,
    perSecond: result.requests / (result.durationMs / 1000),
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
    errors: result.errors,
  };
}
