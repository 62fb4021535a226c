import type { Queryable } from '../pool.js';
import type { DynamicPolicy } from './sites.js';

// What owners do to their sites beyond `verity site add`: claims waiting for the ownership
// check, edits, pausing, deletion once drained, and quarantining a node for one site.

export interface SiteClaim {
  id: string;
  userId: string | null;
  host: string;
  origin: string;
  privateRoutes: string[];
  publicRoutes: string[];
  dynamicPolicy: DynamicPolicy;
  challengeToken: string;
  challengeProof: string;
  lastError: string | null;
  expiresAt: Date;
}

interface ClaimRow {
  id: string; user_id: string | null; host: string; origin: string; private_routes: string[]; public_routes: string[]; dynamic_policy: DynamicPolicy;
  challenge_token: string; challenge_proof: string; last_error: string | null; expires_at: Date;
}

const toClaim = (r: ClaimRow): SiteClaim => ({
  id: r.id, userId: r.user_id, host: r.host, origin: r.origin, privateRoutes: r.private_routes, publicRoutes: r.public_routes, dynamicPolicy: r.dynamic_policy,
  challengeToken: r.challenge_token, challengeProof: r.challenge_proof, lastError: r.last_error, expiresAt: r.expires_at,
});

const claimColumns = 'id::text, user_id::text, host, origin, private_routes, public_routes, dynamic_policy, challenge_token, challenge_proof, last_error, expires_at';

export async function createClaim(db: Queryable, c: Omit<SiteClaim, 'id' | 'lastError'>): Promise<SiteClaim> {
  const { rows } = await db.query<ClaimRow>(
    `INSERT INTO site_claims (user_id, host, origin, private_routes, public_routes, dynamic_policy, challenge_token, challenge_proof, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${claimColumns}`,
    [c.userId, c.host, c.origin, c.privateRoutes, c.publicRoutes, c.dynamicPolicy, c.challengeToken, c.challengeProof, c.expiresAt]);
  return toClaim(rows[0] as ClaimRow);
}

export async function findClaim(db: Queryable, id: string, now: Date): Promise<SiteClaim | null> {
  const { rows } = await db.query<ClaimRow>(`SELECT ${claimColumns} FROM site_claims WHERE id = $1 AND expires_at > $2`, [id, now]);
  return rows[0] ? toClaim(rows[0]) : null;
}

export async function listClaims(db: Queryable, userId: string | null, now: Date): Promise<SiteClaim[]> {
  const { rows } = await db.query<ClaimRow>(`SELECT ${claimColumns} FROM site_claims WHERE user_id IS NOT DISTINCT FROM $1 AND expires_at > $2 ORDER BY created_at`, [userId, now]);
  return rows.map(toClaim);
}

export async function noteClaimError(db: Queryable, id: string, error: string): Promise<void> {
  await db.query('UPDATE site_claims SET last_error = $2 WHERE id = $1', [id, error.slice(0, 1000)]);
}

export async function deleteClaim(db: Queryable, id: string): Promise<void> {
  await db.query('DELETE FROM site_claims WHERE id = $1', [id]);
}

export interface SiteState {
  paused: boolean;
  deleteAfter: Date | null;
  challengeToken: string | null;
  challengeProof: string | null;
}

export async function siteState(db: Queryable, siteId: string): Promise<SiteState | null> {
  const { rows } = await db.query<{ paused: boolean; delete_after: Date | null; challenge_token: string | null; challenge_proof: string | null }>(
    'SELECT paused, delete_after, challenge_token, challenge_proof FROM sites WHERE id = $1', [siteId]);
  const r = rows[0];
  return r ? { paused: r.paused, deleteAfter: r.delete_after, challengeToken: r.challenge_token, challengeProof: r.challenge_proof } : null;
}

export async function setSiteChallenge(db: Queryable, siteId: string, token: string, proof: string): Promise<void> {
  await db.query('UPDATE sites SET challenge_token = $2, challenge_proof = $3 WHERE id = $1', [siteId, token, proof]);
}

export interface SitePatch {
  origin?: string;
  privateRoutes?: string[];
  publicRoutes?: string[];
  dynamicPolicy?: DynamicPolicy;
  paused?: boolean;
}

/** Every balancer reloads the site (and, when paused changes, its nodes) by NOTIFY (migrations 0020, 0700). */
export async function updateSite(db: Queryable, siteId: string, p: SitePatch): Promise<void> {
  await db.query(
    `UPDATE sites SET origin = COALESCE($2, origin), private_routes = COALESCE($3, private_routes), public_routes = COALESCE($4, public_routes),
            dynamic_policy = COALESCE($5, dynamic_policy), paused = COALESCE($6, paused)
      WHERE id = $1`,
    [siteId, p.origin ?? null, p.privateRoutes ?? null, p.publicRoutes ?? null, p.dynamicPolicy ?? null, p.paused ?? null]);
}

/** Deletion starts by pausing: nodes get no more visitors of the site; it is deleted after `deleteAfter`. */
export async function scheduleSiteDeletion(db: Queryable, siteId: string, deleteAfter: Date): Promise<void> {
  await db.query('UPDATE sites SET paused = true, delete_after = COALESCE(delete_after, $2) WHERE id = $1', [siteId, deleteAfter]);
}

/** Deletes the sites whose drain is over; returns their hosts. */
export async function deleteDrainedSites(db: Queryable, now: Date): Promise<string[]> {
  const { rows } = await db.query<{ host: string }>('DELETE FROM sites WHERE delete_after IS NOT NULL AND delete_after <= $1 RETURNING host', [now]);
  return rows.map((r) => r.host);
}

export interface Exclusion {
  nodeId: string;
  reason: string;
  actor: string;
  createdAt: Date;
}

export async function excludeNode(db: Queryable, e: { siteId: string; nodeId: string; reason: string; actor: string; now: Date }): Promise<boolean> {
  const { rowCount } = await db.query(
    'INSERT INTO site_node_exclusions (site_id, node_id, reason, actor, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING',
    [e.siteId, e.nodeId, e.reason, e.actor, e.now]);
  return (rowCount ?? 0) > 0;
}

export async function includeNode(db: Queryable, siteId: string, nodeId: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM site_node_exclusions WHERE site_id = $1 AND node_id = $2', [siteId, nodeId]);
  return (rowCount ?? 0) > 0;
}

export async function listExclusions(db: Queryable, siteId: string): Promise<Exclusion[]> {
  const { rows } = await db.query<{ node_id: string; reason: string; actor: string; created_at: Date }>(
    'SELECT node_id, reason, actor, created_at FROM site_node_exclusions WHERE site_id = $1 ORDER BY created_at', [siteId]);
  return rows.map((r) => ({ nodeId: r.node_id, reason: r.reason, actor: r.actor, createdAt: r.created_at }));
}
