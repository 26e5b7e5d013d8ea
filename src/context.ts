import { LRUCache } from 'lru-cache';
import { bearerToken, TokenError, type VerifiedToken, type Viewer, verifyToken } from './auth.ts';
import type { Database } from './db/client.ts';
import type { AdaptationSettings } from './domain/learner-model.ts';
import { userIdOfSubject } from './ids.ts';
import type { JobsConfig } from './jobs/config.ts';
import type { HeavyWork } from './limits.ts';
import type { Logger } from './logger.ts';
import type { PubSub } from './pubsub.ts';

export interface Context {
  db: Database;
  pubsub: PubSub;
  log: Logger;
  /** The jobs' settings, parsed at start. */
  jobs: JobsConfig;
  /** The live learner model's parameters and the target success rate. */
  adaptation: AdaptationSettings;
  viewer: Viewer | null;
  /** Why there is no viewer, for the UNAUTHENTICATED message. */
  authError: string | null;
  /** When the viewer's token expires (ms since the epoch): open subscriptions end then. */
  tokenExpiresAt: number | null;
  /** Heavy analytics run through this (a concurrency limit), and are priced by its learner count. */
  heavy: HeavyWork;
}

export type Authentication = Pick<Context, 'viewer' | 'authError' | 'tokenExpiresAt'>;

/** A deleted user's token stops working within this long (docs/security.md). */
export const subjectCacheMs = 4_000;

/**
 * Resolves bearer tokens to viewers. A client sends the same token with every request: a verified
 * token is remembered until it expires (at most a minute), and the user its subject names for a few
 * seconds, so most requests cost neither an HMAC nor a lookup while a deleted user is locked out in
 * under 5 s.
 */
export class Authenticator {
  private readonly verified = new LRUCache<string, VerifiedToken>({ max: 10_000 });
  /** subject → stored user id, or null when it names none. */
  private readonly subjects = new LRUCache<string, { userId: string | null }>({ max: 100_000, ttl: subjectCacheMs });
  /** Users erased within the cache's lifetime: a lookup that raced the erasure must not name them. */
  private readonly erased = new LRUCache<string, true>({ max: 10_000, ttl: subjectCacheMs });

  constructor(
    private readonly db: Database,
    private readonly key: Uint8Array,
    private readonly maxTtlSeconds: number,
  ) {}

  async authenticate(header: string | null | undefined): Promise<Authentication> {
    const token = bearerToken(header);
    if (!token) return refused('Sign in: send Authorization: Bearer <token>.');
    let verified: VerifiedToken;
    try {
      verified = await this.verify(token);
    } catch (error) {
      if (error instanceof TokenError) return refused(error.message);
      throw error;
    }
    const { userId: subject, role } = verified.claims;
    const userId = await this.resolve(subject);
    if (role === 'LEARNER' && userId === null) {
      return refused(`The token's subject ${subject} is not a user here (a user id, or the user's externalId).`);
    }
    return { viewer: { subject, userId, role }, authError: null, tokenExpiresAt: verified.expiresAt };
  }

  private async verify(token: string): Promise<VerifiedToken> {
    const now = Date.now();
    const cached = this.verified.get(token);
    if (cached && cached.expiresAt > now) return cached;
    const verified = await verifyToken(this.key, token, this.maxTtlSeconds);
    const ttl = Math.min(60_000, verified.expiresAt - now);
    if (ttl > 0) this.verified.set(token, verified, { ttl });
    return verified;
  }

  /** A user was erased: the subjects naming them name nobody from now on (not after the cache's 4 s). */
  forget(userId: string): void {
    this.erased.set(userId, true);
    for (const [subject, entry] of this.subjects.entries()) {
      if (entry.userId === userId) this.subjects.delete(subject);
    }
  }

  /** The stored user a subject names: by id (raw or as the API gives it out), else by externalId. */
  private async resolve(subject: string): Promise<string | null> {
    const cached = this.subjects.get(subject);
    if (cached) return cached.userId;
    const id = userIdOfSubject(subject);
    const users = await this.db.prisma.user.findMany({
      where: { OR: [...(id ? [{ id }] : []), { externalId: subject }] },
      select: { id: true },
      take: 2,
    });
    const found = users.find((u) => u.id === id)?.id ?? users[0]?.id ?? null;
    const userId = found !== null && this.erased.has(found) ? null : found;
    this.subjects.set(subject, { userId });
    return userId;
  }
}

function refused(authError: string): Authentication {
  return { viewer: null, authError, tokenExpiresAt: null };
}
