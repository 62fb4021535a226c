import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../pool.js';

export interface DashboardSession {
  actor: string;
  /** The account logged in; null for a session made with the admin token. */
  userId: string | null;
  csrfToken: string;
  expiresAt: Date;
}

/** Only the hash of the cookie value is stored: a database leak does not hand out sessions. */
export function hashSessionId(cookieValue: string): Buffer {
  return createHash('sha256').update(cookieValue, 'utf8').digest();
}

/** Creates a session and returns the cookie value (shown to the browser once, never stored). */
export async function createSession(db: Queryable, s: { actor: string; ttlMs: number; now: Date; userId?: string | null }): Promise<{ cookieValue: string; session: DashboardSession }> {
  const cookieValue = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  const expiresAt = new Date(s.now.getTime() + s.ttlMs);
  await db.query('INSERT INTO sessions (id_hash, csrf_token, actor, created_at, expires_at, user_id) VALUES ($1, $2, $3, $4, $5, $6)', [
    hashSessionId(cookieValue), csrfToken, s.actor, s.now, expiresAt, s.userId ?? null,
  ]);
  return { cookieValue, session: { actor: s.actor, userId: s.userId ?? null, csrfToken, expiresAt } };
}

export async function findSession(db: Queryable, cookieValue: string, now: Date): Promise<DashboardSession | null> {
  const { rows } = await db.query<{ actor: string; user_id: string | null; csrf_token: string; expires_at: Date }>(
    'SELECT actor, user_id::text, csrf_token, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2',
    [hashSessionId(cookieValue), now],
  );
  const r = rows[0];
  return r ? { actor: r.actor, userId: r.user_id, csrfToken: r.csrf_token, expiresAt: r.expires_at } : null;
}

export async function deleteSession(db: Queryable, cookieValue: string): Promise<void> {
  await db.query('DELETE FROM sessions WHERE id_hash = $1', [hashSessionId(cookieValue)]);
}

export async function deleteExpiredSessions(db: Queryable, now: Date): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM sessions WHERE expires_at <= $1', [now]);
  return rowCount ?? 0;
}
