import type { Queryable } from '../pool.js';

// The credit ledger: verified bytes each node served visitors, per UTC day and site. Several
// balancers add into the same rows.

export interface CreditSample {
  nodeId: string;
  siteId: string;
  /** "2030-01-31" (UTC). */
  day: string;
  bytes: number;
  requests: number;
}

export async function addCredit(db: Queryable, s: CreditSample): Promise<void> {
  await db.query(
    `INSERT INTO node_credit (node_id, site_id, day, bytes, requests) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (node_id, site_id, day) DO UPDATE SET bytes = node_credit.bytes + EXCLUDED.bytes, requests = node_credit.requests + EXCLUDED.requests`,
    [s.nodeId, s.siteId, s.day, s.bytes, s.requests]);
}

export interface CreditRow {
  nodeId: string;
  nodeName: string;
  status: string;
  bytes: number;
  requests: number;
  days: number;
  sites: string[];
}

/** Nodes by verified bytes since `since` (a date), most first; `siteIds` narrows to those sites. */
export async function creditLeaderboard(db: Queryable, since: string, siteIds: readonly string[] | null, limit = 100): Promise<CreditRow[]> {
  const { rows } = await db.query<{ node_id: string; name: string; status: string; bytes: string; requests: string; days: number; sites: string[] }>(
    `SELECT c.node_id, n.name, n.status, sum(c.bytes)::text AS bytes, sum(c.requests)::text AS requests, count(DISTINCT c.day)::int AS days,
            array_agg(DISTINCT s.host) AS sites
       FROM node_credit c JOIN nodes n ON n.id = c.node_id JOIN sites s ON s.id = c.site_id
      WHERE c.day >= $1::date AND ($2::uuid[] IS NULL OR c.site_id = ANY($2::uuid[]))
      GROUP BY c.node_id, n.name, n.status ORDER BY sum(c.bytes) DESC, c.node_id LIMIT $3`,
    [since, siteIds, limit]);
  return rows.map((r) => ({ nodeId: r.node_id, nodeName: r.name, status: r.status, bytes: Number(r.bytes), requests: Number(r.requests), days: r.days, sites: r.sites }));
}

/** One node's ledger, newest day first. */
export async function nodeCredit(db: Queryable, nodeId: string, since: string): Promise<{ day: string; site: string; bytes: number; requests: number }[]> {
  const { rows } = await db.query<{ day: string; site: string; bytes: string; requests: string }>(
    `SELECT to_char(c.day, 'YYYY-MM-DD') AS day, s.host AS site, c.bytes::text, c.requests::text FROM node_credit c JOIN sites s ON s.id = c.site_id
      WHERE c.node_id = $1 AND c.day >= $2::date ORDER BY c.day DESC, s.host`, [nodeId, since]);
  return rows.map((r) => ({ day: r.day, site: r.site, bytes: Number(r.bytes), requests: Number(r.requests) }));
}
