import { randomBytes } from 'node:crypto';
import type { Queryable } from '../pool.js';

// Webhooks: a URL that hears of every event (site_id NULL) or of one site's, HMAC-signed with a
// secret that is shown once when the webhook is made.

export const webhookFormats = ['verity', 'slack'] as const;
export type WebhookFormat = (typeof webhookFormats)[number];

export interface Webhook {
  id: string;
  siteId: string | null;
  siteHost: string | null;
  url: string;
  format: WebhookFormat;
  createdBy: string;
  createdAt: Date;
}

interface WebhookRow {
  id: string;
  site_id: string | null;
  site_host: string | null;
  url: string;
  format: WebhookFormat;
  created_by: string;
  created_at: Date;
}

const toWebhook = (r: WebhookRow): Webhook => ({
  id: r.id, siteId: r.site_id, siteHost: r.site_host, url: r.url, format: r.format, createdBy: r.created_by, createdAt: r.created_at,
});

const select = `SELECT w.id::text, w.site_id::text, s.host AS site_host, w.url, w.format, w.created_by, w.created_at
  FROM webhooks w LEFT JOIN sites s ON s.id = w.site_id`;

export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64url')}`;
}

export async function createWebhook(db: Queryable, w: { siteId: string | null; url: string; format: WebhookFormat; createdBy: string; ownerMade?: boolean }): Promise<{ webhook: Webhook; secret: string }> {
  const secret = generateWebhookSecret();
  const { rows } = await db.query<{ id: string }>(
    'INSERT INTO webhooks (site_id, url, secret, format, created_by, owner_made) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id::text',
    [w.siteId, w.url, secret, w.format, w.createdBy, w.ownerMade === true],
  );
  const webhook = await findWebhook(db, (rows[0] as { id: string }).id);
  if (!webhook) throw new Error('webhook vanished after insert');
  return { webhook, secret };
}

export async function findWebhook(db: Queryable, id: string): Promise<Webhook | null> {
  const { rows } = await db.query<WebhookRow>(`${select} WHERE w.id = $1 AND w.disabled_at IS NULL`, [id]);
  return rows[0] ? toWebhook(rows[0]) : null;
}

/** Every active webhook, or those of the given sites only (global ones are an admin's). */
export async function listWebhooks(db: Queryable, siteIds: readonly string[] | null): Promise<Webhook[]> {
  const { rows } = siteIds === null
    ? await db.query<WebhookRow>(`${select} WHERE w.disabled_at IS NULL ORDER BY w.created_at`)
    : await db.query<WebhookRow>(`${select} WHERE w.disabled_at IS NULL AND w.site_id = ANY($1::uuid[]) ORDER BY w.created_at`, [siteIds]);
  return rows.map(toWebhook);
}

export async function disableWebhook(db: Queryable, id: string, now: Date): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE webhooks SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL', [id, now]);
  return (rowCount ?? 0) > 0;
}

export async function webhookSecret(db: Queryable, id: string): Promise<string | null> {
  const { rows } = await db.query<{ secret: string }>('SELECT secret FROM webhooks WHERE id = $1', [id]);
  return rows[0]?.secret ?? null;
}
