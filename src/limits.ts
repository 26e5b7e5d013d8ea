// Limits against abuse and their environment variables (docs/security.md): token lifetime, real-time
// caps, message size, API statement timeout, heavy analytics concurrency.
import { z } from 'zod';
import { apiError, ConfigError } from './errors.ts';

export interface Limits {
  /** A token's lifetime (exp − iat) may be at most this (JWT_MAX_TTL, default 30 days). */
  jwtMaxTtlSeconds: number;
  /** Open subscriptions per graphql-ws connection (MAX_SUBSCRIPTIONS_PER_CONNECTION). */
  subscriptionsPerConnection: number;
  /** Open graphql-ws connections per user (MAX_CONNECTIONS_PER_USER). */
  connectionsPerUser: number;
  /** Largest graphql-ws message, in bytes (MAX_MESSAGE_BYTES; the HTTP body limit too). */
  messageBytes: number;
  /** statement_timeout of API statements (API_STATEMENT_TIMEOUT_MS); jobs are not bound by it. */
  statementTimeoutMs: number;
  /** Heavy analytics fields running at once, per instance (MAX_HEAVY_QUERIES); the rest wait their turn. */
  heavyQueries: number;
  /** Of those, one user's at once (MAX_HEAVY_QUERIES_PER_USER): one coach cannot take every slot. */
  heavyQueriesPerUser: number;
}

/** A duration: seconds, or a number with s, m, h or d (e.g. 30d). */
const duration = z
  .string()
  .regex(/^\d+\s*[smhd]?$/, 'must be seconds or a number with s, m, h or d, e.g. 30d')
  .transform((v) => {
    const unit = v.at(-1)!;
    const factor = { s: 1, m: 60, h: 3600, d: 86_400 }[unit] ?? 1;
    return Number.parseInt(v, 10) * factor;
  })
  .pipe(z.number().int().positive());

const positive = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const envSchema = z.object({
  JWT_MAX_TTL: duration.default(30 * 86_400),
  MAX_SUBSCRIPTIONS_PER_CONNECTION: positive(20),
  MAX_CONNECTIONS_PER_USER: positive(10),
  MAX_MESSAGE_BYTES: positive(4_000_000),
  API_STATEMENT_TIMEOUT_MS: positive(5_000),
  MAX_HEAVY_QUERIES: positive(2),
  MAX_HEAVY_QUERIES_PER_USER: positive(1),
});

export function limitsFromEnv(env: NodeJS.ProcessEnv = process.env): Limits {
  const parsed = envSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  return {
    jwtMaxTtlSeconds: e.JWT_MAX_TTL,
    subscriptionsPerConnection: e.MAX_SUBSCRIPTIONS_PER_CONNECTION,
    connectionsPerUser: e.MAX_CONNECTIONS_PER_USER,
    messageBytes: e.MAX_MESSAGE_BYTES,
    statementTimeoutMs: e.API_STATEMENT_TIMEOUT_MS,
    heavyQueries: e.MAX_HEAVY_QUERIES,
    heavyQueriesPerUser: e.MAX_HEAVY_QUERIES_PER_USER,
  };
}

/** Counts what each key holds (a user's connections): acquire returns a release, or null past the cap. */
export class PerKeyCap {
  private readonly held = new Map<string, number>();

  constructor(private readonly max: number) {}

  acquire(key: string): (() => void) | null {
    const count = this.held.get(key) ?? 0;
    if (count >= this.max) return null;
    this.held.set(key, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.held.get(key) ?? 1) - 1;
      if (left > 0) this.held.set(key, left);
      else this.held.delete(key);
    };
  }
}

/** Learner-days one point of query cost stands for (cohortOverview costs learners × days / this). */
export const learnerDaysPerPoint = 1_000;

/**
 * The heavy analytics fields of one instance (the cohort's, over every learner): at most `max` run
 * at once, and at most `perUser` of one user's, so that one user's dashboards can neither hold every
 * pool connection nor keep the database's CPUs busy while others wait. The rest wait their turn:
 * users take turns (round robin), each user's fields in order; with `maxWaiting` waiting, the next is
 * RATE_LIMITED. Also the learner count the cohort fields are priced by, refreshed in the background at
 * most once a minute.
 */
export class HeavyWork {
  private running = 0;
  /** Fields running per user. */
  private readonly busy = new Map<string, number>();
  /** Each waiting user's fields, in the order the users take turns (a Map keeps insertion order). */
  private readonly queues = new Map<string, (() => void)[]>();
  private waitingCount = 0;
  private learnerCount = 0;
  private countedAt = 0;
  private counting: Promise<void> | null = null;

  constructor(
    private readonly countLearners: () => Promise<number>,
    private readonly max: number,
    private readonly perUser: number,
    private readonly maxWaiting = 1_000,
  ) {}

  /** The number of learners as last counted (0 before the first count has finished). */
  learners(): number {
    if (Date.now() - this.countedAt > 60_000 && !this.counting) {
      this.counting = this.countLearners()
        .then((count) => {
          this.learnerCount = count;
          this.countedAt = Date.now();
        })
        .catch(() => {})
        .finally(() => {
          this.counting = null;
        });
    }
    return this.learnerCount;
  }

  /** Counts the learners now (at start-up, so the first queries are priced too). */
  async refresh(): Promise<void> {
    this.countedAt = 0;
    this.learners();
    await this.counting;
  }

  /** Runs one heavy field of `user` (a user id, or a staff token's subject) when its turn comes. */
  async run<T>(user: string, work: () => Promise<T>): Promise<T> {
    if (this.running < this.max && (this.busy.get(user) ?? 0) < this.perUser && !this.queues.has(user)) {
      this.start(user);
    } else {
      if (this.waitingCount >= this.maxWaiting) {
        throw apiError('RATE_LIMITED', 'Too many analytics queries are waiting: retry in a moment.');
      }
      this.waitingCount++;
      await new Promise<void>((resolve) => {
        const queue = this.queues.get(user);
        if (queue) queue.push(resolve);
        else this.queues.set(user, [resolve]);
      });
    }
    try {
      return await work();
    } finally {
      this.running--;
      const left = (this.busy.get(user) ?? 1) - 1;
      if (left > 0) this.busy.set(user, left);
      else this.busy.delete(user);
      this.dispatch();
    }
  }

  private start(user: string): void {
    this.running++;
    this.busy.set(user, (this.busy.get(user) ?? 0) + 1);
  }

  /** Fills the free slots: the first user in turn with room, whose turn then goes to the back. */
  private dispatch(): void {
    while (this.running < this.max) {
      let next: string | undefined;
      for (const user of this.queues.keys()) {
        if ((this.busy.get(user) ?? 0) < this.perUser) {
          next = user;
          break;
        }
      }
      if (next === undefined) return;
      const queue = this.queues.get(next)!;
      const wake = queue.shift()!;
      this.queues.delete(next);
      if (queue.length > 0) this.queues.set(next, queue);
      this.waitingCount--;
      this.start(next);
      wake();
    }
  }
}
