import { randomBytes } from 'node:crypto';
import type { Queryable } from '../pool.js';

export async function getSetting(db: Queryable, key: string): Promise<string | null> {
  const { rows } = await db.query<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key]);
  return rows[0]?.value ?? null;
}

export async function setSetting(db: Queryable, key: string, value: string): Promise<void> {
  await db.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()', [key, value]);
}

/**
 * Returns the stored value, or stores `make()` if none: concurrent first starts agree on one
 * value because the insert does nothing on conflict and everyone reads back the winner.
 */
export async function getOrCreateSetting(db: Queryable, key: string, make: () => string = () => randomBytes(32).toString('base64url')): Promise<{ value: string; created: boolean }> {
  const candidate = make();
  const ins = await db.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, candidate]);
  const value = await getSetting(db, key);
  return { value: value ?? candidate, created: (ins.rowCount ?? 0) > 0 };
}
