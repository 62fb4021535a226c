import { VerityError } from '../../errors.js';
import type { Queryable } from '../pool.js';

/** What the site's owner lets nodes serve of pages whose bytes change between origin fetches. */
export type DynamicPolicy = 'origin' | 'sampled';

export interface Site {
  id: string;
  host: string;
  origin: string;
  privateRoutes: string[];
  /** Empty: every URL the origin publishes may be node-served; else only those matching. */
  publicRoutes: string[];
  dynamicPolicy: DynamicPolicy;
  integrityManifestUrl: string | null;
  /** Plain-HTTP visitors are redirected to HTTPS (308). */
  httpsRedirect: boolean;
  /** Strict-Transport-Security max-age (seconds) sent on HTTPS answers; null: none. */
  hstsMaxAgeS: number | null;
}

/** A sites row as PostgreSQL returns it (shared with the balancer's routing-table loader). */
export interface SiteRow {
  id: string;
  host: string;
  origin: string;
  private_routes: string[];
  public_routes: string[];
  dynamic_policy: DynamicPolicy;
  integrity_manifest_url: string | null;
  https_redirect: boolean;
  hsts_max_age_s: number | null;
}

export const siteColumns = 'id::text AS id, host, origin, private_routes, public_routes, dynamic_policy, integrity_manifest_url, https_redirect, hsts_max_age_s';
const columns = siteColumns;

function toSite(r: SiteRow): Site {
  return {
    id: r.id, host: r.host, origin: r.origin, privateRoutes: r.private_routes, publicRoutes: r.public_routes, dynamicPolicy: r.dynamic_policy,
    integrityManifestUrl: r.integrity_manifest_url, httpsRedirect: r.https_redirect, hstsMaxAgeS: r.hsts_max_age_s,
  };
}

export interface NewSite {
  host: string;
  origin: string;
  privateRoutes: string[];
  publicRoutes?: string[];
  dynamicPolicy?: DynamicPolicy;
  integrityManifestUrl?: string | null;
  httpsRedirect?: boolean;
  hstsMaxAgeS?: number | null;
}

export async function insertSite(db: Queryable, site: NewSite): Promise<Site> {
  try {
    const { rows } = await db.query<SiteRow>(
      `INSERT INTO sites (host, origin, private_routes, public_routes, dynamic_policy, integrity_manifest_url, https_redirect, hsts_max_age_s)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${columns}`,
      [site.host, site.origin, site.privateRoutes, site.publicRoutes ?? [], site.dynamicPolicy ?? 'origin', site.integrityManifestUrl ?? null, site.httpsRedirect ?? false, site.hstsMaxAgeS ?? null],
    );
    return toSite(rows[0] as SiteRow);
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw new VerityError('SITE_ERR_EXISTS', `a site with host ${site.host} already exists`, { cause: err });
    throw err;
  }
}

/** Adds the site, or brings an existing one with this host up to date (the demo, whose origin port may change). */
export async function upsertSite(db: Queryable, site: NewSite): Promise<Site> {
  const { rows } = await db.query<SiteRow>(
    `INSERT INTO sites (host, origin, private_routes, public_routes, dynamic_policy, integrity_manifest_url) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (host) DO UPDATE SET origin = EXCLUDED.origin, private_routes = EXCLUDED.private_routes, public_routes = EXCLUDED.public_routes,
       dynamic_policy = EXCLUDED.dynamic_policy, integrity_manifest_url = EXCLUDED.integrity_manifest_url
     RETURNING ${columns}`,
    [site.host, site.origin, site.privateRoutes, site.publicRoutes ?? [], site.dynamicPolicy ?? 'origin', site.integrityManifestUrl ?? null],
  );
  return toSite(rows[0] as SiteRow);
}

export async function listSites(db: Queryable): Promise<Site[]> {
  const { rows } = await db.query<SiteRow>(`SELECT ${columns} FROM sites ORDER BY host`);
  return rows.map(toSite);
}

export async function findSiteByHost(db: Queryable, host: string): Promise<Site | null> {
  const { rows } = await db.query<SiteRow>(`SELECT ${columns} FROM sites WHERE host = $1`, [host.toLowerCase()]);
  return rows[0] ? toSite(rows[0]) : null;
}

export async function findSiteById(db: Queryable, id: string): Promise<Site | null> {
  const { rows } = await db.query<SiteRow>(`SELECT ${columns} FROM sites WHERE id = $1`, [id]);
  return rows[0] ? toSite(rows[0]) : null;
}
