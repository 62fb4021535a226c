import ipaddr from 'ipaddr.js';
import { urlIdentity } from '../../domain/identity.js';
import type { Queryable } from '../pool.js';

// Nodes sharing a public URL or a public address are linked: they are one operator, or one
// machine, whatever keys they hold, so trust events apply to the group (common/db/queries/trust.ts).
// (A key is a node: the node id is derived from it.) Loopback and private addresses link
// nothing: every local trial registers from 127.0.0.1.

/** Identities count for linking this long after they were last used. */
export const LINK_WINDOW_MS = 30 * 24 * 3600_000;

export interface NodeLink {
  nodeId: string;
  name: string;
  status: string;
  /** What they share, e.g. "address 198.51.100.7". */
  via: string;
}

function isPublicAddress(address: string): boolean {
  try {
    return ipaddr.process(address).range() === 'unicast';
  } catch {
    return false;
  }
}

/** Records where a node is reached and where it registered from (the latter only when public). */
export async function recordIdentities(db: Queryable, nodeId: string, ids: { publicUrl: string; address: string | null }, now: Date): Promise<void> {
  const rows: [string, string][] = [['url', urlIdentity(ids.publicUrl)]];
  if (ids.address && isPublicAddress(ids.address)) rows.push(['address', ids.address]);
  for (const [kind, value] of rows) {
    await db.query(
      `INSERT INTO node_identities (node_id, kind, value, first_seen_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)
       ON CONFLICT (node_id, kind, value) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at`,
      [nodeId, kind, value, now],
    );
  }
}

/** The other nodes that shared a URL or an address with this one within the link window. */
export async function linkedNodes(db: Queryable, nodeId: string, now: Date): Promise<NodeLink[]> {
  const { rows } = await db.query<{ node_id: string; name: string; status: string; kind: string; value: string }>(
    `SELECT DISTINCT ON (o.node_id) o.node_id, n.name, n.status, o.kind, o.value
       FROM node_identities me
       JOIN node_identities o ON o.kind = me.kind AND o.value = me.value AND o.node_id <> me.node_id
       JOIN nodes n ON n.id = o.node_id
      WHERE me.node_id = $1 AND me.last_seen_at > $2 AND o.last_seen_at > $2
      ORDER BY o.node_id, o.kind DESC, o.value`,
    [nodeId, new Date(now.getTime() - LINK_WINDOW_MS)],
  );
  return rows.map((r) => ({ nodeId: r.node_id, name: r.name, status: r.status, via: `${r.kind === 'url' ? 'public URL' : 'address'} ${r.value}` }));
}
