// Bearer tokens: HS256 JWTs from the platform's identity service (claims sub, role, exp).
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';

export const roles = ['LEARNER', 'COACH', 'ADMIN'] as const;
export type Role = (typeof roles)[number];

export interface Viewer {
  /** The user id of the token's subject (a learner's always exists; staff tokens need not match a user). */
  userId: string;
  role: Role;
}

const claimsSchema = z.object({ sub: z.string().min(1), role: z.enum(roles) });

export class TokenError extends Error {
  override name = 'TokenError';
}

export function secretKey(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

export async function signToken(key: Uint8Array, viewer: Viewer, expiresIn: string | number = '30d'): Promise<string> {
  return new SignJWT({ role: viewer.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(viewer.userId)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(key);
}

export interface VerifiedToken {
  viewer: Viewer;
  /** When the token expires (ms since the epoch); null when it has no exp. */
  expiresAt: number | null;
}

export async function verifyToken(key: Uint8Array, token: string): Promise<VerifiedToken> {
  let payload: { exp?: number };
  try {
    ({ payload } = await jwtVerify(token, key, { algorithms: ['HS256'] }));
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw new TokenError('The token has expired: get a new one.');
    throw new TokenError('The token is not valid (bad signature or malformed).');
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) throw new TokenError('The token lacks a subject or a role of LEARNER, COACH or ADMIN.');
  return {
    viewer: { userId: claims.data.sub, role: claims.data.role },
    expiresAt: payload.exp === undefined ? null : payload.exp * 1000,
  };
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
