import type { Queryable } from '../pool.js';

// What a node's heartbeat says of its volunteer's caps, and the balancer's decision to rest it.
// `resting` is written only when it changes: the column wakes every balancer's routing table
// (migration 0700), a heartbeat every few seconds must not.

export async function recordVolunteerReport(db: Queryable, nodeId: string, report: unknown, resting: boolean, reason: string | null): Promise<boolean> {
  await db.query('UPDATE nodes SET caps = $2 WHERE id = $1 AND caps IS DISTINCT FROM $2::jsonb', [nodeId, report === null ? null : JSON.stringify(report)]);
  const { rowCount } = await db.query(
    'UPDATE nodes SET resting = $2, resting_reason = $3 WHERE id = $1 AND (resting IS DISTINCT FROM $2 OR resting_reason IS DISTINCT FROM $3)',
    [nodeId, resting, reason]);
  return (rowCount ?? 0) > 0;
}

/** Verified bytes per site this month and in all, for the node's standing. */
export async function creditSummary(db: Queryable, nodeId: string, monthStart: Date): Promise<{ month: { site: string; bytes: number; requests: number }[]; totalBytes: number }> {
  const { rows } = await db.query<{ site: string; bytes: string; requests: string }>(
    `SELECT s.host AS site, sum(c.bytes)::text AS bytes, sum(c.requests)::text AS requests FROM node_credit c JOIN sites s ON s.id = c.site_id
      WHERE c.node_id = $1 AND c.day >= $2::date GROUP BY s.host ORDER BY s.host`, [nodeId, monthStart]);
  const total = await db.query<{ bytes: string | null }>('SELECT sum(bytes)::text AS bytes FROM node_credit WHERE node_id = $1', [nodeId]);
  return { month: rows.map((r) => ({ site: r.site, bytes: Number(r.bytes), requests: Number(r.requests) })), totalBytes: Number(total.rows[0]?.bytes ?? 0) };
}
