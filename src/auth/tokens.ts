// API tokens: 32 random bytes shown once, stored only as their sha256.
import { createHash, randomBytes } from 'node:crypto';
import type { Store, User } from '../store/store.ts';

const TOKEN_PREFIX = 'vgt_';
/** Longer values are not tokens (ours are 47 characters): they are refused without hashing or a lookup. */
export const MAX_TOKEN_LENGTH = 200;

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Creates the user if needed and a new token for it; returns the token, which is not stored anywhere. */
export async function createTokenFor(store: Store, userName: string): Promise<{ user: User; token: string }> {
  const { user } = await store.ensureUser(userName);
  const token = generateToken();
  await store.addToken(user.id, hashToken(token));
  return { user, token };
}

/** Extracts the token from an `Authorization: Bearer …` value. */
export function bearerToken(header: string | null | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match ? match[1]! : null;
}

/** On the first start with an empty database: user `local` and one token for it, to be printed once. */
export async function bootstrapLocalUser(store: Store): Promise<string | null> {
  if ((await store.countUsers()) > 0) return null;
  const { token } = await createTokenFor(store, 'local');
  return token;
}
