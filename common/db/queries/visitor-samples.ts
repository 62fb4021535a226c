import type { Queryable } from '../pool.js';

// The traffic mix the balancer sampled (balancer/background/url-samples.ts), read by the auditor
// to build audits that look like the visitors of each node, and to choose its pages.

export interface VisitorSampleRow {
  path: string;
  country: string | null;
  acceptLanguage: string | null;
  userAgent: string | null;
  secFetchSite: string | null;
  conditional: boolean;
  secure: boolean;
  at: Date;
  /** Served by this node (else by another node of the site: used while this one has few samples). */
  own: boolean;
}

/** The node's visitors on this site, newest first (falls back to the site's when the node has none). */
export async function listVisitorSamples(db: Queryable, siteId: string, nodeId: string, limit = 200): Promise<VisitorSampleRow[]> {
  const { rows } = await db.query<{
    path: string; country: string | null; accept_language: string | null; user_agent: string | null; sec_fetch_site: string | null; conditional: boolean; secure: boolean; at: Date; own: boolean;
  }>(
    `SELECT path, country, accept_language, user_agent, sec_fetch_site, conditional, secure, at, node_id = $2 AS own
       FROM visitor_samples WHERE site_id = $1 AND node_id IS NOT NULL
      ORDER BY (node_id = $2) DESC, at DESC LIMIT $3`,
    [siteId, nodeId, limit],
  );
  const own = rows.filter((r) => r.own);
  return (own.length >= 20 ? own : rows).map((r) => ({
    path: r.path, country: r.country, acceptLanguage: r.accept_language, userAgent: r.user_agent, secFetchSite: r.sec_fetch_site, conditional: r.conditional, secure: r.secure, at: r.at, own: r.own,
  }));
}

/** Pages first requested on the site recently (a rogue may tamper only the first time it sees a URL). */
export async function listNewUrls(db: Queryable, siteId: string, sinceMs: number, now = new Date(), limit = 50): Promise<string[]> {
  const { rows } = await db.query<{ path: string }>(
    'SELECT path FROM url_samples WHERE site_id = $1 AND first_seen_at >= $2 ORDER BY first_seen_at DESC LIMIT $3',
    [siteId, new Date(now.getTime() - sinceMs), limit],
  );
  return rows.map((r) => r.path);
}

/** A uniform sample of every page visitors asked for, the long tail included. */
export async function listTailUrls(db: Queryable, siteId: string, limit = 100): Promise<string[]> {
  const { rows } = await db.query<{ path: string }>('SELECT path FROM url_samples WHERE site_id = $1 ORDER BY random() LIMIT $2', [siteId, limit]);
  return rows.map((r) => r.path);
}
