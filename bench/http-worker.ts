// The HTTP load generator of bench/attempts.ts, in a worker thread so that building requests and
// parsing responses does not share the server's event loop. Keep-alive node:http clients.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { parentPort } from 'node:worker_threads';
import { type LoadOptions, type LoadResult, partition, runLoad } from './load.ts';

export interface BenchLearner {
  token: string;
  /** Global IDs, as the API takes them. */
  sessionId: string;
}

export interface BenchQuestion {
  id: string;
  options: string[];
}

export type HttpJob = LoadOptions & {
  kind: 'recordAttempt' | 'trivial';
  endpoint: string;
  learners: BenchLearner[];
  questions: BenchQuestion[];
};

export type WorkerMessage = { ok: true; result: LoadResult } | { ok: false; error: string };

export const recordAttemptDocument =
  'mutation RecordAttempt($input: RecordAttemptInput!) { ' +
  'recordAttempt(input: $input) { id attemptNo correct recordedAt } }';
export const trivialDocument = 'mutation Trivial { __typename }';

interface Reply {
  status: number;
  text: string;
}

function post(agent: http.Agent, url: URL, token: string, body: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          authorization: `Bearer ${token}`,
          'content-length': Buffer.byteLength(body),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** null when the reply is a 200 without errors whose data passes `check`. */
function problem(reply: Reply, check: (data: Record<string, unknown>) => boolean): string | null {
  if (reply.status !== 200) return `HTTP ${reply.status}: ${reply.text.slice(0, 200)}`;
  let body: { data?: Record<string, unknown> | null; errors?: unknown[] };
  try {
    body = JSON.parse(reply.text) as typeof body;
  } catch {
    return `not JSON: ${reply.text.slice(0, 200)}`;
  }
  if (body.errors?.length) return `errors: ${JSON.stringify(body.errors).slice(0, 300)}`;
  if (!body.data || !check(body.data)) return `unexpected data: ${reply.text.slice(0, 200)}`;
  return null;
}

export async function runHttpJob(job: HttpJob): Promise<LoadResult> {
  const url = new URL(job.endpoint);
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency });
  const owned = partition(job.learners, job.concurrency);
  const turns = new Array<number>(job.concurrency).fill(0);
  const prefix = randomBytes(4).toString('hex');
  let sequence = 0;
  const trivialBody = JSON.stringify({ query: trivialDocument });

  try {
    return await runLoad(job, async (loop) => {
      const mine = owned[loop]!;
      const learner = mine[turns[loop]!++ % mine.length]!;
      if (job.kind === 'trivial') {
        const reply = await post(agent, url, learner.token, trivialBody);
        return problem(reply, (data) => data.__typename === 'Mutation');
      }
      const question = job.questions[Math.floor(Math.random() * job.questions.length)]!;
      const body = JSON.stringify({
        query: recordAttemptDocument,
        variables: {
          input: {
            sessionId: learner.sessionId,
            questionId: question.id,
            userAnswer: question.options[Math.floor(Math.random() * question.options.length)],
            options: question.options,
            timeSec: Math.round(Math.random() * 900) / 10,
            hintUsed: Math.random() < 0.1,
            context: 'SESSION',
            answeredAt: new Date().toISOString(),
            clientAttemptId: `${prefix}-${sequence++}`,
          },
        },
      });
      const reply = await post(agent, url, learner.token, body);
      return problem(reply, (data) => typeof (data.recordAttempt as { id?: unknown } | null)?.id === 'string');
    });
  } finally {
    agent.destroy();
  }
}

parentPort?.on('message', (job: HttpJob) => {
  runHttpJob(job).then(
    (result) =>
      parentPort!.postMessage({ ok: true, result } satisfies WorkerMessage, [result.latencies.buffer as ArrayBuffer]),
    (error: unknown) =>
      parentPort!.postMessage({
        ok: false,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      } satisfies WorkerMessage),
  );
});

parentPort?.postMessage({ ready: true });
