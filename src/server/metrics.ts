// Prometheus metrics at GET /metrics (prom-client, one registry per server):
//   graphql_envelop_*            GraphQL operations: count, duration, phases (@graphql-yoga/plugin-prometheus)
//   graphql_envelop_error_result errors by operation, phase and extensions.code
//   graphql_yoga_http_duration   GraphQL over HTTP, by method, status and path
//   learnloop_open_subscriptions subscriptions open now, by transport (websocket, sse)
//   learnloop_open_connections   HTTP and WebSocket connections open now
//   learnloop_job_runs_total, learnloop_job_run_duration_seconds  runJob calls by job and outcome
//   learnloop_database_pool_connections  PostgreSQL pool: total, idle, waiting, max
//   process_*, nodejs_*          the process (prom-client's default metrics)
import type { Server } from 'node:http';
import { createCounter, createHistogram, usePrometheus } from '@graphql-yoga/plugin-prometheus';
import type { GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../db/client.ts';
import { type JobRunFinished, jobRunEvents } from '../jobs/run.ts';

export const metricsPath = '/metrics';

export interface Metrics {
  registry: Registry;
  /** The Yoga plugins: GraphQL metrics, open subscriptions, and the /metrics endpoint. */
  plugins: Plugin[];
  /** Counts the server's connections from now on (HTTP from the server, WebSocket as given). */
  watch(server: Server, websocketConnections: () => number): void;
  /** Stops listening to job runs. */
  close(): void;
}

export function createMetrics(db: Database): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const errors = createCounter<'parse' | 'validate' | 'context' | 'execute' | 'subscribe', string>({
    registry,
    counter: {
      name: 'graphql_envelop_error_result',
      help: 'GraphQL errors by operation, phase and extensions.code',
      labelNames: ['operationType', 'operationName', 'phase', 'code'],
    },
    fillLabelsFn: (params) => ({
      operationType: params.operationType ?? 'unknown',
      operationName: params.operationName ?? 'Anonymous',
      phase: params.errorPhase ?? 'unknown',
      // Refused before running (syntax, validation, limits): the client's mistake, whatever plugin codes it.
      code: String(
        (params.error as GraphQLError | undefined)?.extensions?.code ??
          (params.errorPhase === 'parse' || params.errorPhase === 'validate'
            ? 'BAD_USER_INPUT'
            : 'INTERNAL_SERVER_ERROR'),
      ),
    }),
  });
  const http = createHistogram<'request', string, { request: Request; response: Response }>({
    registry,
    histogram: {
      name: 'graphql_yoga_http_duration',
      help: 'GraphQL over HTTP: seconds from request to response',
      labelNames: ['method', 'statusCode', 'path', 'operationType'],
    },
    fillLabelsFn: (params, { request, response }) => ({
      method: request.method,
      statusCode: response.status,
      path: new URL(request.url).pathname,
      operationType: (params as { operationType?: string }).operationType ?? 'unknown',
    }),
  });

  const openSubscriptions = new Gauge({
    name: 'learnloop_open_subscriptions',
    help: 'GraphQL subscriptions open now',
    labelNames: ['transport'],
    registers: [registry],
  });
  const countSubscriptions: Plugin = {
    onSubscribe: ({ args }) => ({
      onSubscribeResult: ({ result }) => {
        if (!isAsyncIterable(result)) return;
        const transport = 'socket' in (args.contextValue as object) ? 'websocket' : 'sse';
        openSubscriptions.inc({ transport });
        return { onEnd: () => openSubscriptions.dec({ transport }) };
      },
    }),
  };

  const jobRuns = new Counter({
    name: 'learnloop_job_runs_total',
    help: 'runJob calls (scheduler, runJob mutation, CLI) by job and outcome',
    labelNames: ['job', 'outcome'],
    registers: [registry],
  });
  const jobSeconds = new Histogram({
    name: 'learnloop_job_run_duration_seconds',
    help: 'Seconds a runJob call took, by job and outcome',
    labelNames: ['job', 'outcome'],
    buckets: [0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800],
    registers: [registry],
  });
  const onJobRun = ({ job, outcome, seconds }: JobRunFinished) => {
    jobRuns.inc({ job, outcome });
    jobSeconds.observe({ job, outcome }, seconds);
  };
  jobRunEvents.on('finished', onJobRun);

  if (db.pool) {
    const pool = db.pool;
    new Gauge({
      name: 'learnloop_database_pool_connections',
      help: 'PostgreSQL connection pool of this instance: total, idle, waiting (queries queued), max',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const use = pool();
        for (const state of ['total', 'idle', 'waiting', 'max'] as const) this.set({ state }, use[state]);
      },
    });
  }

  return {
    registry,
    plugins: [
      usePrometheus({
        registry,
        endpoint: metricsPath,
        metrics: {
          graphql_envelop_error_result: errors,
          graphql_yoga_http_duration: http as never,
          graphql_envelop_request_time_summary: false,
          graphql_envelop_deprecated_field: false,
          graphql_envelop_schema_change: false,
        },
      }),
      countSubscriptions,
    ],
    watch(server, websocketConnections) {
      new Gauge({
        name: 'learnloop_open_connections',
        help: 'Connections open now: http (including those upgraded) and websocket',
        labelNames: ['protocol'],
        registers: [registry],
        async collect() {
          const count = await new Promise<number>((resolve) => server.getConnections((_, n) => resolve(n ?? 0)));
          this.set({ protocol: 'http' }, count);
          this.set({ protocol: 'websocket' }, websocketConnections());
        },
      });
    },
    close: () => void jobRunEvents.off('finished', onJobRun),
  };
}
