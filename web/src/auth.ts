// Sign-in: a token pasted once (kept in sessionStorage, so for this tab's session), or handed over
// in the link as #token=<JWT> — read, stored, and removed from the address bar.
const storageKey = 'learnloop.token';

export interface Viewer {
  token: string;
  role: 'LEARNER' | 'COACH' | 'ADMIN';
  /** The token's subject: the database id of the user. */
  userId: string;
  expiresAt: Date | null;
}

/** The claims of a JWT (not verified here: the API verifies every request). */
export function viewerOf(token: string): Viewer | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
    const role = claims.role;
    if (typeof claims.sub !== 'string' || (role !== 'LEARNER' && role !== 'COACH' && role !== 'ADMIN')) return null;
    const expiresAt = typeof claims.exp === 'number' ? new Date(claims.exp * 1000) : null;
    if (expiresAt && expiresAt.getTime() <= Date.now()) return null;
    return { token, role, userId: claims.sub, expiresAt };
  } catch {
    return null;
  }
}

/** Takes a token from the URL fragment (and removes it from the address bar), or the stored one. */
export function currentViewer(): Viewer | null {
  const fragment = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  const handed = fragment.get('token');
  if (handed) {
    history.replaceState(null, '', `${window.location.pathname}${window.location.search}`);
    const viewer = viewerOf(handed.trim());
    if (viewer) sessionStorage.setItem(storageKey, viewer.token);
    return viewer;
  }
  const stored = sessionStorage.getItem(storageKey);
  return stored ? viewerOf(stored) : null;
}

export function signIn(token: string): Viewer | null {
  const viewer = viewerOf(token.trim().replace(/^Bearer\s+/i, ''));
  if (viewer) sessionStorage.setItem(storageKey, viewer.token);
  return viewer;
}

export function signOut(): void {
  sessionStorage.removeItem(storageKey);
}
