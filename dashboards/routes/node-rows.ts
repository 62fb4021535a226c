import type { ControlDeps } from '../../balancer/control/types.js';
import { listNodes, type NodeRecord } from '../../common/db/queries/nodes.js';
import { summarizeNodeTraffic } from '../../common/db/queries/node-traffic.js';

export interface NodeRow {
  node: NodeRecord;
  /** Share of the last hour's balancer traffic (falls back to the node's own counters). */
  trafficShare: number | null;
  requests: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
}

function heartbeatRequests(n: NodeRecord): number | null {
  const hb = n.lastHeartbeat;
  if (typeof hb !== 'object' || hb === null) return null;
  const v = (hb as Record<string, unknown>).requestsTotal;
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export async function nodeRows(deps: ControlDeps): Promise<NodeRow[]> {
  const [nodes, traffic] = await Promise.all([listNodes(deps.pool), summarizeNodeTraffic(deps.pool, new Date(deps.now() - 3600_000))]);
  const balancerTotal = [...traffic.values()].reduce((a, t) => a + t.requests, 0);
  // Once a balancer records traffic (audits included) its figures are used; a node's own
  // heartbeat counters would count audits as traffic.
  const useBalancer = traffic.size > 0;
  const own = nodes.map(heartbeatRequests);
  const ownTotal = own.reduce<number>((a, v) => a + (v ?? 0), 0);
  return nodes.map((node, i) => {
    const t = traffic.get(node.id);
    const requests = useBalancer ? (t?.requests ?? 0) : (own[i] ?? null);
    const total = useBalancer ? balancerTotal : ownTotal;
    return { node, requests, trafficShare: requests === null || total === 0 ? null : requests / total, p50Ms: t?.p50Ms ?? null, p99Ms: t?.p99Ms ?? null };
  });
}

export const sortKeys = ['name', 'status', 'integrity', 'availability', 'location', 'traffic', 'latency', 'seen'] as const;
export type SortKey = (typeof sortKeys)[number];

const statusOrder: Record<string, number> = { banned: 0, quarantined: 1, offline: 2, probation: 3, active: 4 };

function sortValue(r: NodeRow, key: SortKey): number | string {
  switch (key) {
    case 'name': return r.node.name.toLowerCase();
    case 'status': return statusOrder[r.node.status] ?? 9;
    case 'integrity': return r.node.integrity;
    case 'availability': return r.node.availability;
    case 'location': return r.node.location?.country ?? '~';
    case 'traffic': return r.trafficShare ?? -1;
    case 'latency': return r.p50Ms ?? Number.MAX_SAFE_INTEGER;
    case 'seen': return r.node.lastSeenAt?.getTime() ?? 0;
  }
}

export interface NodeFilter {
  sort: SortKey;
  dir: 'asc' | 'desc';
  status: string | null;
  q: string;
}

/** Pure: filter by status and a text match on name, id, country or site; then sort. */
export function filterAndSort(rows: NodeRow[], f: NodeFilter): NodeRow[] {
  const q = f.q.trim().toLowerCase();
  const kept = rows.filter((r) => (f.status === null || r.node.status === f.status)
    && (q === '' || [r.node.name, r.node.id, r.node.location?.country ?? '', ...r.node.sites].some((s) => s.toLowerCase().includes(q))));
  const sign = f.dir === 'asc' ? 1 : -1;
  return kept.sort((a, b) => {
    const va = sortValue(a, f.sort);
    const vb = sortValue(b, f.sort);
    if (va < vb) return -sign;
    if (va > vb) return sign;
    return a.node.name.localeCompare(b.node.name);
  });
}
