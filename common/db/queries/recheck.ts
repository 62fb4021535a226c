import type { Pool } from '../pool.js';
import { withTransaction } from '../pool.js';

// A volunteer who thinks a penalty was wrong can ask for a re-check: an audit of the page behind
// that penalty (or of a site's home page), queued like any other and judged the same way. At most
// one per node per interval, so a node cannot use it to flood the auditor.

export type RecheckOutcome =
  | { kind: 'queued'; auditId: string; url: string; host: string; nextAllowedAt: Date }
  | { kind: 'rate_limited'; nextAllowedAt: Date }
  | { kind: 'unknown_audit' }
  | { kind: 'no_site' };

export interface RecheckInput {
  nodeId: string;
  /** Re-check the page of this audit (one of this node's, disclosed by `disclosedBefore`). */
  auditId?: string;
  disclosedBefore: Date;
  now: Date;
  intervalMs: number;
  runAfter: Date;
}

async function target(db: Pick<Pool, 'query'>, input: RecheckInput): Promise<{ siteId: string; url: string; host: string } | 'unknown_audit' | 'no_site'> {
  if (input.auditId) {
    const { rows } = await db.query<{ site_id: string; url: string; host: string }>(
      `SELECT a.site_id, a.url, s.host FROM audits a JOIN sites s ON s.id = a.site_id
        WHERE a.id = $1 AND EXISTS (SELECT 1 FROM trust_events e WHERE e.node_id = $2 AND e.audit_id = a.id AND e.at < $3)
          AND EXISTS (SELECT 1 FROM node_sites ns WHERE ns.node_id = $2 AND ns.site_id = a.site_id)`,
      [input.auditId, input.nodeId, input.disclosedBefore],
    );
    const r = rows[0];
    return r ? { siteId: r.site_id, url: r.url, host: r.host } : 'unknown_audit';
  }
  const { rows } = await db.query<{ site_id: string; host: string }>(
    'SELECT ns.site_id, s.host FROM node_sites ns JOIN sites s ON s.id = ns.site_id WHERE ns.node_id = $1 ORDER BY s.host LIMIT 1',
    [input.nodeId],
  );
  const r = rows[0];
  return r ? { siteId: r.site_id, url: '/', host: r.host } : 'no_site';
}

export async function queueRecheck(pool: Pool, input: RecheckInput): Promise<RecheckOutcome> {
  return withTransaction(pool, async (client) => {
    // The node row lock serialises concurrent requests of one node: exactly one wins the slot.
    await client.query('SELECT 1 FROM nodes WHERE id = $1 FOR UPDATE', [input.nodeId]);
    const { rows } = await client.query<{ last: Date | null }>("SELECT max(created_at) AS last FROM audits WHERE node_id = $1 AND reason = 'recheck'", [input.nodeId]);
    const last = rows[0]?.last ?? null;
    if (last && input.now.getTime() - last.getTime() < input.intervalMs) return { kind: 'rate_limited', nextAllowedAt: new Date(last.getTime() + input.intervalMs) };
    const t = await target(client, input);
    if (typeof t === 'string') return { kind: t };
    const inserted = await client.query<{ id: string }>(
      "INSERT INTO audits (node_id, site_id, url, reason, run_after, created_at) VALUES ($1, $2, $3, 'recheck', $4, $5) RETURNING id",
      [input.nodeId, t.siteId, t.url, input.runAfter, input.now],
    );
    return { kind: 'queued', auditId: inserted.rows[0]?.id ?? '', url: t.url, host: t.host, nextAllowedAt: new Date(input.now.getTime() + input.intervalMs) };
  });
}
