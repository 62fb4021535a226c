import { createHash, randomBytes } from 'node:crypto';
import { parseDurationMs } from '../../config/shared.js';
import type { Queryable } from '../pool.js';

export interface JoinToken {
  id: string;
  siteId: string;
  usesAllowed: number;
  usesCount: number;
  expiresAt: Date;
  revokedAt: Date | null;
  createdAt: Date;
}

interface TokenRow {
  id: string;
  site_id: string;
  uses_allowed: number;
  uses_count: number;
  expires_at: Date;
  revoked_at: Date | null;
  created_at: Date;
}

const columns = 'id, site_id, uses_allowed, uses_count, expires_at, revoked_at, created_at';

function toToken(r: TokenRow): JoinToken {
  return { id: r.id, siteId: r.site_id, usesAllowed: r.uses_allowed, usesCount: r.uses_count, expiresAt: r.expires_at, revokedAt: r.revoked_at, createdAt: r.created_at };
}

/** Tokens are stored only as this hash: a database leak does not let anyone enroll nodes. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export function generateToken(): string {
  return `vjt_${randomBytes(24).toString('base64url')}`;
}

/** One default lifetime for join tokens, whichever way they are made (CLI, dashboard, admin API). */
export const DEFAULT_TOKEN_TTL = '24h';
export const DEFAULT_TOKEN_TTL_MS = parseDurationMs(DEFAULT_TOKEN_TTL) ?? 0;

export interface NewToken {
  siteId: string;
  uses: number;
  ttlMs: number;
  createdBy?: string;
  now?: Date;
  /** A caller-chosen value (provisioning automation); random when omitted. */
  value?: string;
}

/** Returns the token in clear exactly once; only its hash is kept. */
export async function createJoinToken(db: Queryable, t: NewToken): Promise<{ token: string; record: JoinToken }> {
  const token = t.value ?? generateToken();
  const now = t.now ?? new Date();
  const { rows } = await db.query<TokenRow>(
    `INSERT INTO join_tokens (site_id, token_hash, uses_allowed, expires_at, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING ${columns}`,
    [t.siteId, hashToken(token), t.uses, new Date(now.getTime() + t.ttlMs), t.createdBy ?? 'cli'],
  );
  return { token, record: toToken(rows[0] as TokenRow) };
}

/**
 * Spends one use of a token, atomically: of two concurrent registrations with a one-use
 * token exactly one gets a row back. Returns null for unknown, used up, revoked or expired.
 */
export async function consumeJoinToken(db: Queryable, token: string, now = new Date()): Promise<JoinToken | null> {
  const { rows } = await db.query<TokenRow>(
    `UPDATE join_tokens SET uses_count = uses_count + 1
      WHERE token_hash = $1 AND uses_count < uses_allowed AND revoked_at IS NULL AND expires_at > $2
      RETURNING ${columns}`,
    [hashToken(token), now],
  );
  return rows[0] ? toToken(rows[0]) : null;
}

export async function listJoinTokens(db: Queryable, siteId?: string): Promise<JoinToken[]> {
  const { rows } = siteId
    ? await db.query<TokenRow>(`SELECT ${columns} FROM join_tokens WHERE site_id = $1 ORDER BY created_at DESC`, [siteId])
    : await db.query<TokenRow>(`SELECT ${columns} FROM join_tokens ORDER BY created_at DESC`);
  return rows.map(toToken);
}

export async function revokeJoinToken(db: Queryable, id: string, now = new Date()): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE join_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL', [id, now]);
  return (rowCount ?? 0) > 0;
}
