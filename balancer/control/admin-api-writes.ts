import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { listAdminActions, logAdminAction } from '../../common/db/queries/admin-actions.js';
import { listSiteWarnings, replaceManifest } from '../../common/db/queries/manifests.js';
import { manifestFromJson } from '../../common/manifest/build.js';
import { listJoinTokens } from '../../common/db/queries/tokens.js';
import { findSiteByHost, listSites } from '../../common/db/queries/sites.js';
import { createTokenFor, MAX_TOKEN_TTL_MS, MAX_TOKEN_USES, MIN_TOKEN_TTL_MS, rescanAudit, revokeToken, tokenTtlMs } from './admin-ops.js';
import { domainErrorStatus, isUuid, parseOr400, sendError, writer } from './api-helpers.js';
import { authOf } from './auth.js';
import { forbidden, maySite, siteFilter } from './scope.js';
import type { ControlDeps } from './types.js';

// Admin endpoints beyond the core ones of admin-api.ts: join tokens, rescans and the admin log.

const tokenBody = z.object({
  site: z.string().min(1).max(253),
  uses: z.coerce.number().int().min(1).max(MAX_TOKEN_USES).default(1),
  /** A duration with its unit, as on the command line: "24h", "7d". */
  ttl: z.string().max(32).optional(),
  /** The older spelling, in seconds; still accepted. */
  ttlSeconds: z.coerce.number().int().min(MIN_TOKEN_TTL_MS / 1000).max(MAX_TOKEN_TTL_MS / 1000).optional(),
  _csrf: z.string().optional(),
});

export function adminApiWriteRoutes(api: FastifyInstance, deps: ControlDeps): void {
  api.get<{ Querystring: { site?: string } }>('/api/v1/tokens', async (req) => {
    const hosts = new Map((await listSites(deps.pool)).map((s) => [s.id, s.host]));
    return (await listJoinTokens(deps.pool)).filter((t) => maySite(authOf(req), t.siteId)).map((t) => ({
      id: t.id, site: hosts.get(t.siteId) ?? t.siteId, usesAllowed: t.usesAllowed, usesCount: t.usesCount,
      expiresAt: t.expiresAt.toISOString(), revokedAt: t.revokedAt ? t.revokedAt.toISOString() : null, createdAt: t.createdAt.toISOString(),
    }));
  });

  api.post('/api/v1/tokens', async (req, reply) => {
    const auth = writer(req, reply, req.body);
    if (!auth) return reply;
    const body = parseOr400(tokenBody, req.body, reply);
    if (!body) return reply;
    if (body.ttl !== undefined && body.ttlSeconds !== undefined) return sendError(reply, 400, 'bad_request', 'give ttl or ttlSeconds, not both');
    const ttl = body.ttlSeconds !== undefined ? { ms: body.ttlSeconds * 1000 } : tokenTtlMs(body.ttl);
    if ('problem' in ttl) return sendError(reply, 400, 'bad_request', `ttl: ${ttl.problem}`);
    try {
      const created = await createTokenFor(deps, auth, body.site, body.uses, ttl.ms);
      return reply.code(201).send({ id: created.record.id, token: created.token, site: created.siteHost, usesAllowed: created.record.usesAllowed, expiresAt: created.record.expiresAt.toISOString() });
    } catch (err) {
      const known = domainErrorStatus(err);
      if (known) return sendError(reply, known.status, known.error, known.message);
      throw err;
    }
  });

  api.post<{ Params: { id: string } }>('/api/v1/tokens/:id/revoke', async (req, reply) => {
    const auth = writer(req, reply, req.body);
    if (!auth) return reply;
    const revoked = isUuid(req.params.id) && (await revokeToken(deps, auth, req.params.id));
    return revoked ? { id: req.params.id, revoked: true } : sendError(reply, 404, 'not_found', 'no active token has this id');
  });

  api.post<{ Params: { id: string } }>('/api/v1/audits/:id/rescan', async (req, reply) => {
    const auth = writer(req, reply, req.body);
    if (!auth) return reply;
    const id = isUuid(req.params.id) ? await rescanAudit(deps, auth, req.params.id) : null;
    return id ? reply.code(201).send({ id, reason: 'rescan' }) : sendError(reply, 404, 'not_found', 'no audit has this id');
  });

  // A deploy publishes its files' digests (the JSON `verity manifest` builds), replacing the last.
  api.put<{ Params: { host: string } }>('/api/v1/sites/:host/manifest', { bodyLimit: 64 * 1024 * 1024 }, async (req, reply) => {
    const auth = writer(req, reply, req.body);
    if (!auth) return reply;
    const site = await findSiteByHost(deps.pool, req.params.host);
    if (!site) return sendError(reply, 404, 'not_found', `no site ${req.params.host.slice(0, 253)}`);
    if (!maySite(auth, site.id)) return forbidden(reply, `${site.host} is not one of your sites`);
    let manifest;
    try {
      manifest = manifestFromJson(req.body);
    } catch (err) {
      return sendError(reply, 400, 'bad_request', (err as Error).message);
    }
    const paths = await replaceManifest(deps.pool, site.id, manifest);
    await logAdminAction(deps.pool, { actor: auth.actor, action: 'manifest', targetKind: 'site', targetId: site.host, siteId: site.id, detail: { paths } });
    return { site: site.host, paths };
  });

  api.get<{ Params: { host: string } }>('/api/v1/sites/:host/warnings', async (req, reply) => {
    const site = await findSiteByHost(deps.pool, req.params.host);
    if (!site) return sendError(reply, 404, 'not_found', `no site ${req.params.host.slice(0, 253)}`);
    if (!maySite(authOf(req), site.id)) return forbidden(reply, `${site.host} is not one of your sites`);
    return (await listSiteWarnings(deps.pool, site.id)).map((w) => ({ at: w.at.toISOString(), kind: w.kind, message: w.message }));
  });

  api.get<{ Querystring: { limit?: string } }>('/api/v1/admin-log', async (req) => {
    const limit = Math.min(1000, Math.max(1, Number(req.query.limit) || 200));
    return (await listAdminActions(deps.pool, limit, siteFilter(req))).map((a) => ({ ...a, at: a.at.toISOString() }));
  });
}
