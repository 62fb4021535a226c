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
  last_heartbeat: unknown;
  last_seen_at: Date | null;
  created_at: Date;
}

export const nodeSelect = `
  SELECT n.id, n.name, n.public_key, n.public_url, n.declared_lat, n.declared_lon, n.effective_lat, n.effective_lon, n.location_check, n.country, n.status, n.draining,
         n.integrity, n.availability, n.subnet, n.proven_failures, n.last_heartbeat, n.last_seen_at, n.created_at,
         COALESCE((SELECT array_agg(s.host ORDER BY s.host) FROM node_sites ns JOIN sites s ON s.id = ns.site_id WHERE ns.node_id = n.id), '{}') AS sites
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
    lastHeartbeat: r.last_heartbeat,
    lastSeenAt: r.last_seen_at,
    createdAt: r.created_at,
  };
}

export async function listNodes(db: Queryable): Promise<NodeRecord[]> {
  const { rows } = await db.query<NodeRow>(`${nodeSelect} ORDER BY n.created_at`);
  return rows.map(toNodeRecord);
}

export async function findNode(db: Queryable, id: string): Promise<NodeRecord | null> {
  const { rows } = await db.query<NodeRow>(`${nodeSelect} WHERE n.id = $1`, [id]);
  return rows[0] ? toNodeRecord(rows[0]) : null;
}
