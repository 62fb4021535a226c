import type { NodeStatus } from '../../common/domain/trust.js';
import type { Queryable } from '../../common/db/pool.js';
import { compileRoutes } from '../routes/classify.js';
import type { RouteNode, RouteSite } from './types.js';
import { siteColumns, type SiteRow } from '../../common/db/queries/sites.js';

// The routing table's two queries: everything (at start and on every reconnect) and one node
// (on NOTIFY). Run off the request path only.

interface NodeRow {
  id: string;
  name: string;
  public_url: string;
  /** The routing position (see nodeColumns). */
  route_lat: number | null;
  route_lon: number | null;
  status: NodeStatus;
  draining: boolean;
  integrity: number;
  availability: number;
  subnet: string | null;
  site_ids: string[] | null;
  tls_spki_sha256: string | null;
}

// The routing position is the checked one (common/domain/location-check.ts): the claim when it
// passed or could not be checked, the GeoIP position when it failed. A node not checked yet
// (registered before checks existed, or written by hand) is routed at its claim.
const nodeColumns = `n.id, n.name, n.public_url,
  CASE WHEN n.location_check IS NULL THEN n.declared_lat ELSE n.effective_lat END AS route_lat,
  CASE WHEN n.location_check IS NULL THEN n.declared_lon ELSE n.effective_lon END AS route_lon,
  n.status, n.draining, n.integrity, n.availability, n.subnet, n.tls_spki_sha256,
  COALESCE((SELECT array_agg(ns.site_id::text) FROM node_sites ns WHERE ns.node_id = n.id), '{}') AS site_ids`;

function toRouteNode(r: NodeRow): RouteNode | null {
  let publicUrl: URL;
  try {
    publicUrl = new URL(r.public_url);
  } catch {
    return null;
  }
  return {
    id: r.id, name: r.name, publicUrl,
    location: r.route_lat === null || r.route_lon === null ? null : { lat: r.route_lat, lon: r.route_lon },
    status: r.status, draining: r.draining, integrity: r.integrity, availability: r.availability, subnet: r.subnet,
    siteIds: r.site_ids ?? [], tlsSpki: r.tls_spki_sha256,
  };
}

export function toRouteSite(r: SiteRow): RouteSite | null {
  let origin: URL;
  try {
    origin = new URL(r.origin);
  } catch {
    return null;
  }
  return {
    id: r.id, host: r.host.toLowerCase(), origin, privateRoutes: r.private_routes,
    isPrivate: compileRoutes(r.private_routes, true), isPublic: compileRoutes(r.public_routes, false), dynamicPolicy: r.dynamic_policy,
    integrityManifestUrl: r.integrity_manifest_url, httpsRedirect: r.https_redirect, hstsMaxAgeS: r.hsts_max_age_s,
  };
}

export async function loadAllNodes(db: Queryable): Promise<RouteNode[]> {
  const { rows } = await db.query<NodeRow>(`SELECT ${nodeColumns} FROM nodes n`);
  return rows.map(toRouteNode).filter((n): n is RouteNode => n !== null);
}

export async function loadNode(db: Queryable, id: string): Promise<RouteNode | null> {
  const { rows } = await db.query<NodeRow>(`SELECT ${nodeColumns} FROM nodes n WHERE n.id = $1`, [id]);
  return rows[0] ? toRouteNode(rows[0]) : null;
}


export async function loadAllSites(db: Queryable): Promise<RouteSite[]> {
  const { rows } = await db.query<SiteRow>(`SELECT ${siteColumns} FROM sites`);
  return rows.map(toRouteSite).filter((s): s is RouteSite => s !== null);
}

export async function loadSite(db: Queryable, id: string): Promise<RouteSite | null> {
  const { rows } = await db.query<SiteRow>(`SELECT ${siteColumns} FROM sites WHERE id = $1`, [id]);
  return rows[0] ? toRouteSite(rows[0]) : null;
}
