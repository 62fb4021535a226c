import { z } from 'zod';
import { hostName, httpUrl, routeGlobs } from '../../common/config/shared.js';
import { logAdminAction } from '../../common/db/queries/admin-actions.js';
import {
  createClaim, deleteClaim, excludeNode, findClaim, includeNode, noteClaimError, scheduleSiteDeletion, setSiteChallenge, siteState, updateSite, type SiteClaim, type SitePatch,
} from '../../common/db/queries/site-owners.js';
import { findSiteByHost, insertSite, type Site } from '../../common/db/queries/sites.js';
import { addUserSite } from '../../common/db/queries/users.js';
import { VerityError } from '../../common/errors.js';
import { assertSite } from './admin-ops.js';
import type { AdminAuth } from './auth.js';
import { challengeProblem, newChallenge } from './ownership.js';
import { isAdmin } from './scope.js';
import type { ControlDeps } from './types.js';

// Sites as their owners manage them, the same for the admin API and the dashboard: add (with the
// ownership check for owners), edit, pause, delete after a drain, quarantine a node for the site.

export const CLAIM_TTL_MS = 7 * 24 * 3600_000;
/** Paused this long before a deleted site's row goes: requests in flight at nodes finish. */
export const DELETE_DRAIN_MS = 60_000;

const globs = (kind: 'private' | 'public') => z.union([z.array(z.string()), z.string()]).optional().pipe(routeGlobs(kind).optional());

export const siteInput = z.object({
  host: hostName,
  origin: httpUrl.transform((u) => u.replace(/\/+$/, '')),
  private: globs('private'),
  public: globs('public'),
  dynamic: z.enum(['origin', 'sampled']).optional(),
});
export type SiteInput = z.infer<typeof siteInput>;

export const sitePatchInput = z.object({
  origin: httpUrl.transform((u) => u.replace(/\/+$/, '')).optional(),
  private: globs('private'),
  public: globs('public'),
  dynamic: z.enum(['origin', 'sampled']).optional(),
  paused: z.boolean().optional(),
});

export type AddOutcome = { kind: 'site'; site: Site } | { kind: 'claim'; claim: SiteClaim };

/** An admin's site is added at once; an owner's waits for its origin to serve the challenge. */
export async function addSite(deps: ControlDeps, auth: AdminAuth, input: SiteInput): Promise<AddOutcome> {
  if (await findSiteByHost(deps.pool, input.host)) throw new VerityError('SITE_ERR_EXISTS', `a site with host ${input.host} already exists`);
  const fields = { host: input.host, origin: input.origin, privateRoutes: input.private ?? [], publicRoutes: input.public ?? [], dynamicPolicy: input.dynamic ?? 'origin' as const };
  if (isAdmin(auth)) {
    const site = await insertSite(deps.pool, fields);
    const c = newChallenge();
    await setSiteChallenge(deps.pool, site.id, c.token, c.proof);
    await logAdminAction(deps.pool, { actor: auth.actor, action: 'site.add', targetKind: 'site', targetId: site.host, siteId: site.id, detail: { origin: site.origin } });
    return { kind: 'site', site };
  }
  const c = newChallenge();
  const claim = await createClaim(deps.pool, { ...fields, userId: auth.userId, challengeToken: c.token, challengeProof: c.proof, expiresAt: new Date(deps.now() + CLAIM_TTL_MS) });
  return { kind: 'claim', claim };
}

/** Fetches the challenge from the claimed origin; on success the site exists and is the owner's. */
export async function verifyClaim(deps: ControlDeps, auth: AdminAuth, claimId: string): Promise<Site> {
  const claim = await findClaim(deps.pool, claimId, new Date(deps.now()));
  if (!claim || (claim.userId !== auth.userId && !isAdmin(auth))) throw new VerityError('SITE_ERR_UNKNOWN', 'no pending site claim has this id (claims expire after 7 days)');
  const problem = await challengeProblem(claim.origin, { token: claim.challengeToken, proof: claim.challengeProof }, { allowPrivate: deps.allowPrivateOwnerUrls === true, resolve: deps.resolveHost });
  if (problem) {
    await noteClaimError(deps.pool, claim.id, problem);
    throw new VerityError('CLAIM_ERR_FAILED', `ownership check failed: ${problem}`);
  }
  const site = await insertSite(deps.pool, { host: claim.host, origin: claim.origin, privateRoutes: claim.privateRoutes, publicRoutes: claim.publicRoutes, dynamicPolicy: claim.dynamicPolicy });
  await setSiteChallenge(deps.pool, site.id, claim.challengeToken, claim.challengeProof);
  if (claim.userId) await addUserSite(deps.pool, claim.userId, site.id);
  await deleteClaim(deps.pool, claim.id);
  await logAdminAction(deps.pool, { actor: auth.actor, action: 'site.add', targetKind: 'site', targetId: site.host, siteId: site.id, detail: { origin: site.origin, ownershipCheck: 'http-file' } });
  return site;
}

export async function ownedSite(deps: ControlDeps, auth: AdminAuth, host: string): Promise<Site> {
  const site = await findSiteByHost(deps.pool, host);
  if (!site) throw new VerityError('SITE_ERR_UNKNOWN', `no site has host ${host.slice(0, 253)}`);
  assertSite(auth, site.id, site.host);
  return site;
}

/** Edits a site; an owner's new origin must serve the site's challenge first (the check of its add). */
export async function editSite(deps: ControlDeps, auth: AdminAuth, host: string, input: z.infer<typeof sitePatchInput>): Promise<Site> {
  const site = await ownedSite(deps, auth, host);
  if (input.origin !== undefined && input.origin !== site.origin && !isAdmin(auth)) {
    const state = await siteState(deps.pool, site.id);
    const c = state?.challengeToken && state.challengeProof ? { token: state.challengeToken, proof: state.challengeProof } : null;
    const problem = c ? await challengeProblem(input.origin, c, { allowPrivate: deps.allowPrivateOwnerUrls === true, resolve: deps.resolveHost }) : 'this site has no ownership challenge: ask an admin to change its origin';
    if (problem) throw new VerityError('CLAIM_ERR_FAILED', `the new origin failed the ownership check: ${problem}`);
  }
  const patch: SitePatch = { origin: input.origin, privateRoutes: input.private, publicRoutes: input.public, dynamicPolicy: input.dynamic, paused: input.paused };
  await updateSite(deps.pool, site.id, patch);
  await logAdminAction(deps.pool, { actor: auth.actor, action: 'site.edit', targetKind: 'site', targetId: site.host, siteId: site.id, detail: { ...input } });
  return (await findSiteByHost(deps.pool, site.host)) ?? site;
}

/** Pauses the site at once and deletes it once nodes have drained. Returns when. */
export async function deleteSite(deps: ControlDeps, auth: AdminAuth, host: string): Promise<Date> {
  const site = await ownedSite(deps, auth, host);
  const at = new Date(deps.now() + DELETE_DRAIN_MS);
  await scheduleSiteDeletion(deps.pool, site.id, at);
  await logAdminAction(deps.pool, { actor: auth.actor, action: 'site.delete', targetKind: 'site', targetId: site.host, siteId: site.id, detail: { deleteAfter: at.toISOString() } });
  return at;
}

/** Quarantine for one site: that site's visitors never reach the node; its trust is untouched. */
export async function quarantineForSite(deps: ControlDeps, auth: AdminAuth, host: string, nodeId: string, reason: string): Promise<void> {
  const site = await ownedSite(deps, auth, host);
  if (reason.trim() === '') throw new VerityError('ADMIN_ERR_NO_REASON', 'quarantine needs a reason (it is shown to admins and kept in the admin log)');
  const { rowCount } = await deps.pool.query('SELECT 1 FROM node_sites WHERE node_id = $1 AND site_id = $2', [nodeId, site.id]);
  if (!rowCount) throw new VerityError('NODE_ERR_UNKNOWN', `no node ${nodeId.slice(0, 64)} serves ${site.host}`);
  await excludeNode(deps.pool, { siteId: site.id, nodeId, reason: reason.trim().slice(0, 2000), actor: auth.actor, now: new Date(deps.now()) });
  await logAdminAction(deps.pool, { actor: auth.actor, action: 'site.node.quarantine', targetKind: 'node', targetId: nodeId, siteId: site.id, reason: reason.trim().slice(0, 2000), detail: { site: site.host } });
}

export async function reinstateForSite(deps: ControlDeps, auth: AdminAuth, host: string, nodeId: string): Promise<boolean> {
  const site = await ownedSite(deps, auth, host);
  const lifted = await includeNode(deps.pool, site.id, nodeId);
  if (lifted) await logAdminAction(deps.pool, { actor: auth.actor, action: 'site.node.reinstate', targetKind: 'node', targetId: nodeId, siteId: site.id, detail: { site: site.host } });
  return lifted;
}
