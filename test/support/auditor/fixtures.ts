import { randomBytes } from 'node:crypto';
import type { Queryable } from '../../../common/db/pool.js';

// Builders for audit tests: a site and nodes that serve it, written straight to the database.

export async function makeSite(db: Queryable, s: { host?: string; origin: string }): Promise<{ id: string; host: string }> {
  const host = s.host ?? 'shop.example';
  const { rows } = await db.query<{ id: string }>('INSERT INTO sites (host, origin) VALUES ($1, $2) RETURNING id', [host, s.origin]);
  return { id: rows[0]?.id ?? '', host };
}

export async function makeNode(db: Queryable, n: { siteId: string; publicUrl: string; name?: string; status?: string }): Promise<string> {
  const id = randomBytes(16).toString('hex');
  await db.query('INSERT INTO nodes (id, name, public_key, public_url, status) VALUES ($1, $2, $3, $4, $5)',
    [id, n.name ?? `node-${id.slice(0, 6)}`, randomBytes(32).toString('base64url'), n.publicUrl, n.status ?? 'probation']);
  await db.query('INSERT INTO node_sites (node_id, site_id) VALUES ($1, $2)', [id, n.siteId]);
  return id;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 45_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
