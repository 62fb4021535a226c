import { applyNodeAction, logAdminAction, type NodeAction } from '../../common/db/queries/admin-actions.js';
import { queueRescan } from '../../common/db/queries/dashboard.js';
import { findSiteByHost, findSiteById } from '../../common/db/queries/sites.js';
import { durationProblem, formatDuration, parseDurationMs } from '../../common/config/shared.js';
import { createJoinToken, DEFAULT_TOKEN_TTL_MS, revokeJoinToken, type JoinToken } from '../../common/db/queries/tokens.js';
import { score, type TrustState } from '../../common/domain/trust.js';
import { VerityError } from '../../common/errors.js';
import type { ControlDeps } from './types.js';

// The admin operations the API and the dashboard both offer; each one lands in the admin log.

export const MAX_TOKEN_USES = 10_000;
export const MAX_TOKEN_TTL_MS = 365 * 24 * 3600_000;
export const MIN_TOKEN_TTL_MS = 60_000;

/**
 * A join token's lifetime from a duration with its unit ("24h", "7d"), the same spelling as
 * `verity token create --ttl`; absent → the one default all three ways of making tokens share.
 */
export function tokenTtlMs(ttl: string | undefined): { ms: number } | { problem: string } {
  if (ttl === undefined || ttl.trim() === '') return { ms: DEFAULT_TOKEN_TTL_MS };
  const ms = parseDurationMs(ttl);
  if (ms === null) return { problem: durationProblem(ttl) };
  if (ms < MIN_TOKEN_TTL_MS || ms > MAX_TOKEN_TTL_MS) return { problem: `"${ttl.trim()}" is outside ${formatDuration(MIN_TOKEN_TTL_MS)}–${formatDuration(MAX_TOKEN_TTL_MS)}` };
  return { ms };
}

export interface NodeActionResult {
  id: string;
  status: TrustState['status'];
  integrity: number;
  availability: number;
}

export async function runNodeAction(deps: ControlDeps, actor: string, nodeId: string, action: NodeAction, reason: string): Promise<NodeActionResult> {
  const state = await applyNodeAction(deps.pool, nodeId, action, reason, actor, new Date(deps.now()));
  return { id: nodeId, status: state.status, integrity: score(state.integrity), availability: score(state.availability) };
}

export interface CreatedToken {
  token: string;
  record: JoinToken;
  siteHost: string;
}

/** `site` is a host name or a site id. The token in clear is returned once and never stored. */
export async function createTokenFor(deps: ControlDeps, actor: string, site: string, uses: number, ttlMs: number): Promise<CreatedToken> {
  const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(site);
  const found = isUuid ? await findSiteById(deps.pool, site) : await findSiteByHost(deps.pool, site);
  if (!found) throw new VerityError('SITE_ERR_UNKNOWN', `no site is registered as ${site}`);
  const created = await createJoinToken(deps.pool, { siteId: found.id, uses, ttlMs, createdBy: actor, now: new Date(deps.now()) });
  await logAdminAction(deps.pool, { actor, action: 'token.create', targetKind: 'join_token', targetId: created.record.id, detail: { site: found.host, uses, ttlMs } });
  return { ...created, siteHost: found.host };
}

export async function revokeToken(deps: ControlDeps, actor: string, tokenId: string): Promise<boolean> {
  const revoked = await revokeJoinToken(deps.pool, tokenId, new Date(deps.now()));
  if (revoked) await logAdminAction(deps.pool, { actor, action: 'token.revoke', targetKind: 'join_token', targetId: tokenId });
  return revoked;
}

export async function rescanAudit(deps: ControlDeps, actor: string, auditId: string): Promise<string | null> {
  const id = await queueRescan(deps.pool, auditId, new Date(deps.now()));
  if (id) await logAdminAction(deps.pool, { actor, action: 'audit.rescan', targetKind: 'audit', targetId: auditId, detail: { newAuditId: id } });
  return id;
}
