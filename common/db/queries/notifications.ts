import type { Pool, Queryable } from '../pool.js';
import { withTransaction } from '../pool.js';

// The notification outbox: events, their deliveries (one per webhook or e-mail address) and every
// attempt to send one. Triggers (migration 0701) write node and finding events; other programs
// call notifyEvent. Deliveries are claimed with FOR UPDATE SKIP LOCKED and a lease, so several
// balancers share the work and none sends a delivery another is sending.

export const eventKinds = ['node.quarantined', 'node.banned', 'node.offline', 'node.back', 'finding.critical', 'certificate.trouble', 'audit.backlog'] as const;
export type EventKind = (typeof eventKinds)[number];
/** What the "send test" button sends: not an event Verity emits on its own. */
export const TEST_EVENT = 'test';

export async function notifyEvent(db: Queryable, e: { kind: EventKind | typeof TEST_EVENT; at: Date; siteId?: string | null; nodeId?: string | null; reason: string }): Promise<void> {
  await db.query('SELECT verity_emit_event($1, $2, $3, $4, $5)', [e.kind, e.at, e.siteId ?? null, e.nodeId ?? null, e.reason]);
}

/** Was there an event of this kind (for this site, or for none) since `since`? For alerts that repeat at most so often. */
export async function recentEvent(db: Queryable, kind: EventKind, siteId: string | null, since: Date): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM notification_events WHERE kind = $1 AND site_id IS NOT DISTINCT FROM $2 AND at >= $3 LIMIT 1', [kind, siteId, since]);
  return (rowCount ?? 0) > 0;
}

const CERTIFICATE_REPEAT_MS = 6 * 3600_000;

/**
 * For the HTTPS/ACME code: a site's certificate is in trouble (issuance or renewal failed, it
 * expires soon). Admins and the site's owners hear of it, at most once per 6 hours per site.
 * Returns whether an event was written.
 */
export async function notifyCertificateTrouble(db: Queryable, t: { siteId: string; reason: string; now: Date }): Promise<boolean> {
  if (await recentEvent(db, 'certificate.trouble', t.siteId, new Date(t.now.getTime() - CERTIFICATE_REPEAT_MS))) return false;
  await notifyEvent(db, { kind: 'certificate.trouble', at: t.now, siteId: t.siteId, reason: t.reason });
  return true;
}

const webhookFanOut = `
  INSERT INTO notification_deliveries (event_id, channel, webhook_id, site_host, next_attempt_at)
  SELECT e.id, 'webhook', w.id, CASE WHEN w.site_id IS NULL THEN e.site_host ELSE s.host END, $2
    FROM notification_events e
    JOIN webhooks w ON w.disabled_at IS NULL AND (w.site_id IS NULL OR w.site_id = e.site_id
      OR (e.site_id IS NULL AND e.node_id IS NOT NULL AND EXISTS (SELECT 1 FROM node_sites ns WHERE ns.node_id = e.node_id AND ns.site_id = w.site_id)))
    LEFT JOIN sites s ON s.id = w.site_id
   WHERE e.id = ANY($1::bigint[])`;

// Admins hear of everything; owners of their sites' events, and of nodes serving their sites.
const emailFanOut = `
  INSERT INTO notification_deliveries (event_id, channel, address, site_host, next_attempt_at)
  SELECT e.id, 'email', u.email, e.site_host, $2
    FROM notification_events e
    JOIN users u ON u.disabled_at IS NULL AND (u.role = 'admin' OR EXISTS (
      SELECT 1 FROM user_sites us WHERE us.user_id = u.id AND (us.site_id = e.site_id
        OR (e.site_id IS NULL AND e.node_id IS NOT NULL AND EXISTS (SELECT 1 FROM node_sites ns WHERE ns.node_id = e.node_id AND ns.site_id = us.site_id)))))
   WHERE e.id = ANY($1::bigint[])`;

/** Turns new events into deliveries; `email` when SMTP is configured. Returns the events handled. */
export async function fanOutEvents(pool: Pool, o: { email: boolean; now: Date; limit?: number }): Promise<number> {
  return withTransaction(pool, async (c) => {
    const { rows } = await c.query<{ id: string }>(
      'SELECT id::text FROM notification_events WHERE NOT fanned_out ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED', [o.limit ?? 100]);
    if (rows.length === 0) return 0;
    const ids = rows.map((r) => r.id);
    await c.query(webhookFanOut, [ids, o.now]);
    if (o.email) await c.query(emailFanOut, [ids, o.now]);
    await c.query('UPDATE notification_events SET fanned_out = true WHERE id = ANY($1::bigint[])', [ids]);
    return ids.length;
  });
}

/** A "send test" for one webhook: an event of its own, delivered to that webhook only. */
export async function queueTestDelivery(db: Queryable, webhookId: string, reason: string, now: Date): Promise<void> {
  await db.query(
    `WITH e AS (
       INSERT INTO notification_events (kind, at, site_id, site_host, reason, fanned_out)
       SELECT $2, $3, w.site_id, s.host, $4, true FROM webhooks w LEFT JOIN sites s ON s.id = w.site_id WHERE w.id = $1
       RETURNING id, site_host)
     INSERT INTO notification_deliveries (event_id, channel, webhook_id, site_host, next_attempt_at) SELECT e.id, 'webhook', $1, e.site_host, $3 FROM e`,
    [webhookId, TEST_EVENT, now, reason]);
}

export interface DueDelivery {
  id: string;
  channel: 'webhook' | 'email';
  attempts: number;
  webhookId: string | null;
  url: string | null;
  secret: string | null;
  format: 'verity' | 'slack' | null;
  /** Made by a site owner: its address must still be public when it is sent to. */
  ownerMade: boolean;
  address: string | null;
  event: { id: string; kind: string; at: Date; siteHost: string | null; nodeId: string | null; nodeName: string | null; reason: string };
}

interface DueRow {
  id: string; channel: 'webhook' | 'email'; attempts: number; webhook_id: string | null; url: string | null; secret: string | null;
  format: 'verity' | 'slack' | null; owner_made: boolean | null; address: string | null; event_id: string; kind: string; at: Date; site_host: string | null;
  node_id: string | null; node_name: string | null; reason: string;
}

/**
 * Takes up to `limit` deliveries that are due (or whose sender's lease ran out) for `leaseMs`.
 * Whoever holds the lease sends; another balancer skips the rows.
 */
export async function claimDueDeliveries(pool: Pool, o: { now: Date; leaseMs: number; limit: number }): Promise<DueDelivery[]> {
  const { rows } = await pool.query<DueRow>(
    `WITH due AS (
       SELECT id FROM notification_deliveries
        WHERE (status = 'pending' AND next_attempt_at <= $1) OR (status = 'sending' AND lease_until < $1)
        ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED),
     taken AS (
       UPDATE notification_deliveries d SET status = 'sending', lease_until = $2 FROM due WHERE d.id = due.id RETURNING d.*)
     SELECT t.id::text, t.channel, t.attempts, t.webhook_id::text, w.url, w.secret, w.format, w.owner_made, t.address,
            e.id::text AS event_id, e.kind, e.at, t.site_host, e.node_id, e.node_name, e.reason
       FROM taken t JOIN notification_events e ON e.id = t.event_id LEFT JOIN webhooks w ON w.id = t.webhook_id`,
    [o.now, new Date(o.now.getTime() + o.leaseMs), o.limit]);
  return rows.map((r) => ({
    id: r.id, channel: r.channel, attempts: r.attempts, webhookId: r.webhook_id, url: r.url, secret: r.secret, format: r.format, ownerMade: r.owner_made === true, address: r.address,
    event: { id: r.event_id, kind: r.kind, at: r.at, siteHost: r.site_host, nodeId: r.node_id, nodeName: r.node_name, reason: r.reason },
  }));
}

export interface AttemptOutcome {
  at: Date;
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** Records an attempt; the delivery is delivered, failed for good, or pending again at `retryAt`. */
export async function recordAttempt(pool: Pool, deliveryId: string, a: AttemptOutcome, retryAt: Date | null): Promise<void> {
  await withTransaction(pool, async (c) => {
    await c.query('INSERT INTO notification_attempts (delivery_id, at, ok, status_code, error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6)',
      [deliveryId, a.at, a.ok, a.statusCode, a.error?.slice(0, 500) ?? null, a.durationMs]);
    const status = a.ok ? 'delivered' : retryAt === null ? 'failed' : 'pending';
    await c.query(
      `UPDATE notification_deliveries SET status = $2, attempts = attempts + 1, lease_until = NULL, last_status = $3, last_error = $4,
              delivered_at = CASE WHEN $5 THEN $6::timestamptz ELSE delivered_at END, next_attempt_at = COALESCE($7, next_attempt_at)
        WHERE id = $1`,
      [deliveryId, status, a.statusCode, a.error?.slice(0, 500) ?? null, a.ok, a.at, retryAt]);
  });
}

export interface DeliveryLogEntry {
  id: string;
  event: string;
  eventAt: Date;
  siteHost: string | null;
  nodeName: string | null;
  channel: 'webhook' | 'email';
  target: string;
  status: string;
  attempts: { at: Date; ok: boolean; statusCode: number | null; error: string | null }[];
  nextAttemptAt: Date | null;
}

/** The newest deliveries, with every attempt; `siteIds` narrows to webhooks of those sites. */
export async function listDeliveries(db: Queryable, o: { siteIds: readonly string[] | null; webhookId?: string | null; limit: number }): Promise<DeliveryLogEntry[]> {
  const { rows } = await db.query<{
    id: string; kind: string; at: Date; site_host: string | null; node_name: string | null; channel: 'webhook' | 'email'; target: string; status: string;
    next_attempt_at: Date; attempts: { at: string; ok: boolean; statusCode: number | null; error: string | null }[];
  }>(
    `SELECT d.id::text, e.kind, e.at, d.site_host, e.node_name, d.channel, COALESCE(w.url, d.address) AS target, d.status, d.next_attempt_at,
            COALESCE((SELECT json_agg(json_build_object('at', a.at, 'ok', a.ok, 'statusCode', a.status_code, 'error', a.error) ORDER BY a.at, a.id)
                        FROM notification_attempts a WHERE a.delivery_id = d.id), '[]'::json) AS attempts
       FROM notification_deliveries d JOIN notification_events e ON e.id = d.event_id LEFT JOIN webhooks w ON w.id = d.webhook_id
      WHERE ($1::uuid[] IS NULL OR w.site_id = ANY($1::uuid[])) AND ($2::uuid IS NULL OR d.webhook_id = $2)
      ORDER BY d.id DESC LIMIT $3`,
    [o.siteIds, o.webhookId ?? null, o.limit]);
  return rows.map((r) => ({
    id: r.id, event: r.kind, eventAt: r.at, siteHost: r.site_host, nodeName: r.node_name, channel: r.channel, target: r.target, status: r.status,
    attempts: r.attempts.map((a) => ({ ...a, at: new Date(a.at) })), nextAttemptAt: r.status === 'pending' ? r.next_attempt_at : null,
  }));
}

/** Audits due but not started: what the audit.backlog alert watches. */
export async function auditBacklog(db: Queryable, olderThan: Date): Promise<number> {
  const { rows } = await db.query<{ n: string }>("SELECT count(*) AS n FROM audits WHERE status = 'queued' AND run_after <= $1", [olderThan]);
  return Number(rows[0]?.n ?? 0);
}
