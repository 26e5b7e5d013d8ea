import type { Database } from './db/client.ts';
import { bearerToken, TokenError, verifyToken, type Viewer } from './auth.ts';
import type { Logger } from './logger.ts';
import type { PubSub } from './pubsub.ts';
import { uuidPattern } from './ids.ts';

export interface Context {
  db: Database;
  pubsub: PubSub;
  log: Logger;
  viewer: Viewer | null;
  /** Why there is no viewer, for the UNAUTHENTICATED message. */
  authError: string | null;
}

/** Resolves bearer tokens to viewers; remembers which learner ids exist so a request costs no lookup. */
export class Authenticator {
  private readonly knownUsers = new Map<string, number>();

  constructor(
    private readonly db: Database,
    private readonly key: Uint8Array,
    private readonly cacheMs = 60_000,
  ) {}

  async authenticate(header: string | null | undefined): Promise<Pick<Context, 'viewer' | 'authError'>> {
    const token = bearerToken(header);
    if (!token) return { viewer: null, authError: 'Sign in: send Authorization: Bearer <token>.' };
    let viewer: Viewer;
    try {
      viewer = await verifyToken(this.key, token);
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

  private async userExists(userId: string): Promise<boolean> {
    const seen = this.knownUsers.get(userId);
    if (seen !== undefined && Date.now() - seen < this.cacheMs) return true;
    const user = await this.db.prisma.user.findUnique({ where: { id: userId }, select: { id: true } });
    if (user) this.knownUsers.set(userId, Date.now());
    return user !== null;
  }
}
