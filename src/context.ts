import { LRUCache } from 'lru-cache';
import { bearerToken, TokenError, type VerifiedToken, type Viewer, verifyToken } from './auth.ts';
import type { Database } from './db/client.ts';
import { uuidPattern } from './ids.ts';
import type { JobsConfig } from './jobs/config.ts';
import type { Logger } from './logger.ts';
import type { PubSub } from './pubsub.ts';

export interface Context {
  db: Database;
  pubsub: PubSub;
  log: Logger;
  /** The jobs' settings, parsed at start. */
  jobs: JobsConfig;
  viewer: Viewer | null;
  /** Why there is no viewer, for the UNAUTHENTICATED message. */
  authError: string | null;
}

/**
 * Resolves bearer tokens to viewers. A client sends the same token with every request: a verified
 * token is remembered until it expires (at most a minute), and so is a learner id known to exist, so
 * most requests cost neither an HMAC nor a lookup.
 */
export class Authenticator {
  private readonly verified = new LRUCache<string, VerifiedToken>({ max: 10_000 });
  private readonly knownUsers = new LRUCache<string, true>({ max: 100_000, ttl: 60_000 });

  constructor(
    private readonly db: Database,
    private readonly key: Uint8Array,
  ) {}

  async authenticate(header: string | null | undefined): Promise<Pick<Context, 'viewer' | 'authError'>> {
    const token = bearerToken(header);
    if (!token) return { viewer: null, authError: 'Sign in: send Authorization: Bearer <token>.' };
    let viewer: Viewer;
    try {
      viewer = (await this.verify(token)).viewer;
    } catch (error) {
      if (error instanceof TokenError) return { viewer: null, authError: error.message };
      throw error;
    }
    if (!uuidPattern.test(viewer.userId)) {
      return { viewer: null, authError: `The token's subject ${viewer.userId} is not a user id.` };
    }
    if (viewer.role === 'LEARNER' && !(await this.userExists(viewer.userId))) {
      return { viewer: null, authError: `The token's subject ${viewer.userId} is not a user here.` };
    }
    return { viewer, authError: null };
  }

  private async verify(token: string): Promise<VerifiedToken> {
    const now = Date.now();
    const cached = this.verified.get(token);
    if (cached && (cached.expiresAt === null || cached.expiresAt > now)) return cached;
    const verified = await verifyToken(this.key, token);
    const ttl = Math.min(60_000, (verified.expiresAt ?? Infinity) - now);
    if (ttl > 0) this.verified.set(token, verified, { ttl });
    return verified;
  }

  private async userExists(userId: string): Promise<boolean> {
    if (this.knownUsers.has(userId)) return true;
    const user = await this.db.prisma.user.findUnique({ where: { id: userId }, select: { id: true } });
    if (user) this.knownUsers.set(userId, true);
    return user !== null;
  }
}
