// Bearer tokens: HS256 JWTs from the platform's identity service (claims sub, role, exp).
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { forbidden, unauthenticated } from './errors.ts';

export const roles = ['LEARNER', 'COACH', 'ADMIN'] as const;
export type Role = (typeof roles)[number];

export interface Viewer {
  /** The token's subject as it was sent (a user id, a Relay id, an externalId, or any string for staff). */
  subject: string;
  /** The stored user the subject names: a learner's always exists; null for a staff token naming no user. */
  userId: string | null;
  role: Role;
}

/** The stored user who acts: a staff token whose subject names no user may read, not record learning. */
export function actingUserId(viewer: Viewer): string {
  if (viewer.userId === null) {
    throw forbidden(
      `Your token's subject ${viewer.subject} is no user here: sessions and attempts belong to users; ` +
        'sign with a user id or externalId as the subject.',
    );
  }
  return viewer.userId;
}

/**
 * The user a token named was erased (or deleted) after it was checked: the token names nobody now.
 * UNAUTHENTICATED, as the next request's check will say.
 */
export const userGone = () =>
  unauthenticated('The user your token names no longer exists (erased): sign in as a user who does.');

/** What a token says: its subject (`sub`) and role. */
export interface TokenClaims {
  /** The subject: a user id as the API returns it, the raw UUID, the user's externalId, or (staff) any string. */
  userId: string;
  role: Role;
}

const claimsSchema = z.object({ sub: z.string().min(1).max(1000), role: z.enum(roles) });

/** How far in the future a token's iat or nbf may be (clocks of identity services drift). */
export const clockSkewSeconds = 60;

export class TokenError extends Error {
  override name = 'TokenError';
}

export function secretKey(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

export async function signToken(
  key: Uint8Array,
  viewer: TokenClaims,
  expiresIn: string | number = '30d',
): Promise<string> {
  return new SignJWT({ role: viewer.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(viewer.userId)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(key);
}

export interface VerifiedToken {
  claims: TokenClaims;
  /** When the token expires (ms since the epoch). */
  expiresAt: number;
}

/**
 * Verifies a token: HS256 signature, `exp` required and at most `maxTtlSeconds` away (from `iat` when
 * given, and from now), `iat`/`nbf` at most a minute in the future, `sub` and `role` present.
 */
export async function verifyToken(key: Uint8Array, token: string, maxTtlSeconds: number): Promise<VerifiedToken> {
  let payload: { exp?: number; iat?: number };
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: ['HS256'],
      requiredClaims: ['exp'],
      clockTolerance: clockSkewSeconds,
    }));
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw new TokenError('The token has expired: get a new one.');
    if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'exp')
      throw new TokenError('The token has no expiry (exp): tokens must expire.');
    if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'nbf')
      throw new TokenError('The token is not valid yet (nbf is in the future): check the clock of its issuer.');
    throw new TokenError('The token is not valid (bad signature or malformed).');
  }
  const now = Date.now() / 1000;
  const exp = payload.exp!;
  // The tolerance above is for the issuer's clock running ahead (nbf); expiry is exact.
  if (exp <= now) throw new TokenError('The token has expired: get a new one.');
  if (payload.iat !== undefined && payload.iat > now + clockSkewSeconds)
    throw new TokenError('The token was issued in the future (iat): check the clock of its issuer.');
  if (exp - Math.min(payload.iat ?? now, now) > maxTtlSeconds)
    throw new TokenError(
      `The token lives longer than the ${maxTtlSeconds} s allowed (JWT_MAX_TTL): mint shorter ones.`,
    );
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) throw new TokenError('The token lacks a subject or a role of LEARNER, COACH or ADMIN.');
  return { claims: { userId: claims.data.sub, role: claims.data.role }, expiresAt: exp * 1000 };
}

/** The token from an `Authorization: Bearer …` value; a bare token is accepted too. */
export function bearerToken(header: string | null | undefined): string | null {
  if (!header) return null;
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : header.trim() || null;
}

/** Without JWT_SECRET the server runs in development mode with a secret generated once and kept in DATA_DIR. */
export async function developmentSecret(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'jwt-secret');
  const existing = await readFile(file, 'utf8').catch(() => '');
  if (existing.trim()) return existing.trim();
  await mkdir(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  await writeFile(file, secret, { mode: 0o600 });
  return secret;
}
