import { createHash, randomBytes } from 'node:crypto';
import { VerityError } from '../../errors.js';
import type { Queryable } from '../pool.js';

// Accounts: admins and site owners, the sites each owner has, one-time login links and API
// tokens. Secrets (links, tokens) are stored as sha256 only; passwords as scrypt hashes
// (common/auth/password.ts).

export const roles = ['admin', 'owner'] as const;
export type Role = (typeof roles)[number];

export interface User {
  id: string;
  email: string;
  role: Role;
  hasPassword: boolean;
  /** The sites an owner has (an admin has every site; this lists none for them). */
  siteIds: string[];
  createdAt: Date;
}

interface UserRow {
  id: string;
  email: string;
  role: Role;
  password_hash: string | null;
  site_ids: string[];
  created_at: Date;
}

const select = `SELECT u.id::text, u.email, u.role, u.password_hash, u.created_at,
  COALESCE((SELECT array_agg(us.site_id::text ORDER BY us.site_id) FROM user_sites us WHERE us.user_id = u.id), '{}') AS site_ids
  FROM users u`;

const toUser = (r: UserRow): User => ({ id: r.id, email: r.email, role: r.role, hasPassword: r.password_hash !== null, siteIds: r.site_ids, createdAt: r.created_at });

export const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function createUser(db: Queryable, u: { email: string; role: Role; siteIds: readonly string[]; createdBy: string; passwordHash?: string | null }): Promise<User> {
  let id: string;
  try {
    const { rows } = await db.query<{ id: string }>('INSERT INTO users (email, role, password_hash, created_by) VALUES ($1, $2, $3, $4) RETURNING id::text',
      [normaliseEmail(u.email), u.role, u.passwordHash ?? null, u.createdBy]);
    id = (rows[0] as { id: string }).id;
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw new VerityError('USER_ERR_EXISTS', `an account with e-mail ${normaliseEmail(u.email)} already exists`, { cause: err });
    throw err;
  }
  for (const siteId of u.siteIds) await addUserSite(db, id, siteId);
  return (await findUserById(db, id)) as User;
}

export async function addUserSite(db: Queryable, userId: string, siteId: string): Promise<void> {
  await db.query('INSERT INTO user_sites (user_id, site_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [userId, siteId]);
}

export async function findUserById(db: Queryable, id: string): Promise<User | null> {
  const { rows } = await db.query<UserRow>(`${select} WHERE u.id = $1 AND u.disabled_at IS NULL`, [id]);
  return rows[0] ? toUser(rows[0]) : null;
}

/** The user and their password hash, for a login. */
export async function findLogin(db: Queryable, email: string): Promise<{ user: User; passwordHash: string | null } | null> {
  const { rows } = await db.query<UserRow>(`${select} WHERE u.email = $1 AND u.disabled_at IS NULL`, [normaliseEmail(email)]);
  const r = rows[0];
  return r ? { user: toUser(r), passwordHash: r.password_hash } : null;
}

export async function listUsers(db: Queryable): Promise<User[]> {
  const { rows } = await db.query<UserRow>(`${select} WHERE u.disabled_at IS NULL ORDER BY u.email`);
  return rows.map(toUser);
}

export async function setPasswordHash(db: Queryable, userId: string, hash: string): Promise<void> {
  await db.query('UPDATE users SET password_hash = $2 WHERE id = $1', [userId, hash]);
}

/** A one-time login link's secret; only its hash is kept. */
export async function createLoginLink(db: Queryable, userId: string, ttlMs: number, now: Date): Promise<string> {
  const token = `vll_${randomBytes(24).toString('base64url')}`;
  await db.query('INSERT INTO login_links (token_hash, user_id, expires_at) VALUES ($1, $2, $3)', [sha256(token), userId, new Date(now.getTime() + ttlMs)]);
  return token;
}

/** Spends a login link (once, atomically); the user it was for, or null. */
export async function consumeLoginLink(db: Queryable, token: string, now: Date): Promise<User | null> {
  const { rows } = await db.query<{ user_id: string }>(
    'UPDATE login_links SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id::text', [sha256(token), now]);
  return rows[0] ? findUserById(db, rows[0].user_id) : null;
}

export interface ApiToken {
  id: string;
  name: string;
  siteIds: string[] | null;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export async function createApiToken(db: Queryable, t: { userId: string; name: string; siteIds: readonly string[] | null }): Promise<{ token: string; record: ApiToken }> {
  const token = `vat_${randomBytes(24).toString('base64url')}`;
  const { rows } = await db.query<{ id: string; created_at: Date }>(
    'INSERT INTO api_tokens (user_id, name, token_hash, site_ids) VALUES ($1, $2, $3, $4) RETURNING id::text, created_at', [t.userId, t.name, sha256(token), t.siteIds]);
  const r = rows[0] as { id: string; created_at: Date };
  return { token, record: { id: r.id, name: t.name, siteIds: t.siteIds ? [...t.siteIds] : null, createdAt: r.created_at, lastUsedAt: null } };
}

/** The user an API token acts for, and the sites it is narrowed to (null: all of the user's). */
export async function findApiToken(db: Queryable, token: string, now: Date): Promise<{ user: User; tokenId: string; tokenName: string; siteIds: string[] | null } | null> {
  const { rows } = await db.query<{ id: string; user_id: string; name: string; site_ids: string[] | null }>(
    'UPDATE api_tokens SET last_used_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL RETURNING id::text, user_id::text, name, site_ids::text[]', [sha256(token), now]);
  const r = rows[0];
  if (!r) return null;
  const user = await findUserById(db, r.user_id);
  return user ? { user, tokenId: r.id, tokenName: r.name, siteIds: r.site_ids } : null;
}

export async function listApiTokens(db: Queryable, userId: string): Promise<ApiToken[]> {
  const { rows } = await db.query<{ id: string; name: string; site_ids: string[] | null; created_at: Date; last_used_at: Date | null }>(
    'SELECT id::text, name, site_ids::text[], created_at, last_used_at FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at', [userId]);
  return rows.map((r) => ({ id: r.id, name: r.name, siteIds: r.site_ids, createdAt: r.created_at, lastUsedAt: r.last_used_at }));
}

export async function revokeApiToken(db: Queryable, userId: string, id: string, now: Date): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL', [id, userId, now]);
  return (rowCount ?? 0) > 0;
}
