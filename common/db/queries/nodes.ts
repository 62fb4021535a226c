import type { LocationCheck } from '../../domain/location-check.js';
import type { NodeStatus } from '../../domain/trust.js';
import type { Queryable } from '../pool.js';

/** A node as the admin API, dashboard and routing table see it. */
export interface NodeRecord {
  id: string;
  name: string;
  publicKey: string;
  publicUrl: string;
  /** Where the node is routed: its claim when it passed or was not checked, its GeoIP position when it failed. */
  location: { lat: number; lon: number; country: string | null } | null;
  declaredLocation: { lat: number; lon: number } | null;
  /** The verdict on the declared location; null until the node registers with checks on. */
  locationCheck: (LocationCheck & { checkedAt?: string }) | null;
  status: NodeStatus;
  draining: boolean;
  integrity: number;
  availability: number;
  subnet: string | null;
  /** Decaying weight of confirmed or unambiguous failures (quarantine at the policy's failure mass). */
  provenFailures: number;
  sites: string[];
  /** Ids of the sites in `sites`, in the same order. */
  siteIds: string[];
  /** Sent no visitors for now: outside its volunteer's schedule or near a cap (resting_reason says which). */
  resting: boolean;
  restingReason: string | null;
  /** The caps its volunteer set, and its usage, as its last heartbeat reported them. */
  caps: unknown;
  lastHeartbeat: unknown;
  lastSeenAt: Date | null;
  createdAt: Date;
}

interface NodeRow {
  id: string;
  name: string;
  public_key: string;
  public_url: string;
  declared_lat: number | null;
  declared_lon: number | null;
  effective_lat: number | null;
  effective_lon: number | null;
  location_check: NodeRecord['locationCheck'];
  country: string | null;
  status: NodeStatus;
  draining: boolean;
  integrity: number;
  availability: number;
  subnet: string | null;
  proven_failures: number;
  sites: string[] | null;
  site_ids: string[] | null;
  resting: boolean;
  resting_reason: string | null;
  caps: unknown;
  last_heartbeat: unknown;
  last_seen_at: Date | null;
  created_at: Date;
}

export const nodeSelect = `
  SELECT n.id, n.name, n.public_key, n.public_url, n.declared_lat, n.declared_lon, n.effective_lat, n.effective_lon, n.location_check, n.country, n.status, n.draining,
         n.integrity, n.availability, n.subnet, n.proven_failures, n.last_heartbeat, n.last_seen_at, n.created_at,
         n.resting, n.resting_reason, n.caps,
         COALESCE((SELECT array_agg(s.host ORDER BY s.host) FROM node_sites ns JOIN sites s ON s.id = ns.site_id WHERE ns.node_id = n.id), '{}') AS sites,
         COALESCE((SELECT array_agg(s.id::text ORDER BY s.host) FROM node_sites ns JOIN sites s ON s.id = ns.site_id WHERE ns.node_id = n.id), '{}') AS site_ids
    FROM nodes n`;

export function toNodeRecord(r: NodeRow): NodeRecord {
  const checked = r.location_check !== null;
  const lat = checked ? r.effective_lat : r.declared_lat;
  const lon = checked ? r.effective_lon : r.declared_lon;
  return {
    id: r.id,
    name: r.name,
    publicKey: r.public_key,
    publicUrl: r.public_url,
    location: lat === null || lon === null ? null : { lat, lon, country: r.country },
    declaredLocation: r.declared_lat === null || r.declared_lon === null ? null : { lat: r.declared_lat, lon: r.declared_lon },
    locationCheck: r.location_check,
    status: r.status,
    draining: r.draining,
    integrity: r.integrity,
    availability: r.availability,
    subnet: r.subnet,
    provenFailures: r.proven_failures,
    sites: r.sites ?? [],
    siteIds: r.site_ids ?? [],
    resting: r.resting,
    restingReason: r.resting_reason,
    caps: r.caps,
    lastHeartbeat: r.last_heartbeat,
    lastSeenAt: r.last_seen_at,
    createdAt: r.created_at,
  };
}

/** Every node, or (owners) those serving one of `siteIds`, with only those sites listed. */
export async function listNodes(db: Queryable, siteIds: readonly string[] | null = null): Promise<NodeRecord[]> {
  const { rows } = siteIds === null
    ? await db.query<NodeRow>(`${nodeSelect} ORDER BY n.created_at`)
    : await db.query<NodeRow>(`${nodeSelect} WHERE EXISTS (SELECT 1 FROM node_sites x WHERE x.node_id = n.id AND x.site_id = ANY($1::uuid[])) ORDER BY n.created_at`, [siteIds]);
  return rows.map(toNodeRecord).map((n) => (siteIds === null ? n : onlySites(n, siteIds)));
}

/** The node as an owner of `siteIds` sees it: only their sites among those it serves. */
export function onlySites(n: NodeRecord, siteIds: readonly string[]): NodeRecord {
  const keep = n.siteIds.map((id, i) => [id, n.sites[i] ?? ''] as const).filter(([id]) => siteIds.includes(id));
  return { ...n, siteIds: keep.map(([id]) => id), sites: keep.map(([, host]) => host) };
}

export async function findNode(db: Queryable, id: string): Promise<NodeRecord | null> {
  const { rows } = await db.query<NodeRow>(`${nodeSelect} WHERE n.id = $1`, [id]);
  return rows[0] ? toNodeRecord(rows[0]) : null;
}
