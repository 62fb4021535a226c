import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { nodeActions } from '../../common/db/queries/admin-actions.js';
import { auditVerdicts, findAudit, getEvidence, listAudits, type AuditDetail, type AuditListItem } from '../../common/db/queries/dashboard.js';
import { findNode, listNodes, onlySites, type NodeRecord } from '../../common/db/queries/nodes.js';
import { listSites } from '../../common/db/queries/sites.js';
import { listTrustEvents } from '../../common/db/queries/trust.js';
import { accountApiRoutes } from './account-api.js';
import { adminApiWriteRoutes } from './admin-api-writes.js';
import { siteApiRoutes } from './site-api.js';
import { domainErrorStatus, isUuid, nodeJson, parseOr400, sendError, unauthorized, writer } from './api-helpers.js';
import { authOf, requireAdmin } from './auth.js';
import { adminOnly, forbidden, maySite, siteFilter } from './scope.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendEvidence } from './evidence.js';
import { runNodeAction } from './admin-ops.js';
import type { ControlDeps, ControlPlugin } from './types.js';

// The admin HTTP API (README, "Admin API"). Everything here needs the bearer
// admin token or a dashboard session; state changes from a session also need its CSRF token.

const auditsQuery = z.object({
  node: z.string().min(1).max(64).optional(),
  verdict: z.enum(auditVerdicts).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
});

const actionBody = z.object({
  action: z.enum(nodeActions),
  reason: z.string({ error: 'required: say why (shown to the volunteer and kept in the admin log)' }).trim().min(1, 'required: say why (shown to the volunteer and kept in the admin log)').max(2000),
  _csrf: z.string().optional(),
});

export function auditListJson(a: AuditListItem) {
  return { id: a.id, nodeId: a.nodeId, siteHost: a.siteHost, url: a.url, verdict: a.verdict, startedAt: a.startedAt.toISOString(), findings: a.findings };
}

export function auditDetailJson(a: AuditDetail) {
  return {
    ...auditListJson(a),
    nodeName: a.nodeName,
    reason: a.reason,
    status: a.status,
    finishedAt: a.finishedAt ? a.finishedAt.toISOString() : null,
    summary: a.summary,
    findings: a.findingsDetail,
    evidence: a.evidence.map((e) => ({ id: e.id, kind: e.kind, contentType: e.contentType, size: e.size, url: `/api/v1/evidence/${e.id}` })),
  };
}

/** The node as the caller may see it (owners: only if it serves one of their sites), or an answer already sent. */
export async function visibleNode(deps: ControlDeps, req: FastifyRequest, reply: FastifyReply, id: string): Promise<NodeRecord | null> {
  const node = await findNode(deps.pool, id);
  if (!node) {
    void sendError(reply, 404, 'not_found', 'no node has this id');
    return null;
  }
  const scope = siteFilter(req);
  if (scope === null) return node;
  if (!node.siteIds.some((s) => scope.includes(s))) {
    void forbidden(reply, 'this node serves none of your sites');
    return null;
  }
  return onlySites(node, scope);
}

/** Audit ids → their site, for hiding a node's audits on other owners' sites. */
async function auditSites(deps: ControlDeps, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const { rows } = await deps.pool.query<{ id: string; site_id: string }>('SELECT id::text, site_id::text FROM audits WHERE id = ANY($1::uuid[])', [ids]);
  return new Map(rows.map((r) => [r.id, r.site_id]));
}

function readRoutes(api: FastifyInstance, deps: ControlDeps): void {
  api.get('/api/v1/sites', async (req) => (await listSites(deps.pool)).filter((s) => maySite(authOf(req), s.id)).map((s) => ({
    id: s.id, host: s.host, origin: s.origin, privateRoutes: s.privateRoutes, publicRoutes: s.publicRoutes, dynamicPolicy: s.dynamicPolicy,
  })));

  api.get('/api/v1/nodes', async (req) => (await listNodes(deps.pool, siteFilter(req))).map(nodeJson));

  api.get<{ Params: { id: string } }>('/api/v1/nodes/:id', async (req, reply) => {
    const node = await visibleNode(deps, req, reply, req.params.id);
    return node ? nodeJson(node) : reply;
  });

  api.get<{ Params: { id: string } }>('/api/v1/nodes/:id/trust-events', async (req, reply) => {
    const node = await visibleNode(deps, req, reply, req.params.id);
    if (!node) return reply;
    let events = await listTrustEvents(deps.pool, node.id);
    if (siteFilter(req) !== null) {
      const sites = await auditSites(deps, [...new Set(events.flatMap((e) => (e.auditId ? [e.auditId] : [])))]);
      events = events.filter((e) => e.auditId === null || maySite(authOf(req), sites.get(e.auditId)));
    }
    return events.map((e) => ({ at: e.at.toISOString(), kind: e.kind, integrityAfter: e.integrityAfter, availabilityAfter: e.availabilityAfter, reason: e.reason, auditId: e.auditId }));
  });

  api.get('/api/v1/audits', async (req, reply) => {
    const q = parseOr400(auditsQuery, req.query, reply);
    if (!q) return reply;
    const audits = await listAudits(deps.pool, { nodeId: q.node ?? null, verdict: q.verdict ?? null, limit: q.limit, siteIds: siteFilter(req) });
    return audits.map(auditListJson);
  });

  api.get<{ Params: { id: string } }>('/api/v1/audits/:id', async (req, reply) => {
    const audit = isUuid(req.params.id) ? await findAudit(deps.pool, req.params.id) : null;
    if (!audit) return sendError(reply, 404, 'not_found', 'no audit has this id');
    return maySite(authOf(req), audit.siteId) ? auditDetailJson(audit) : forbidden(reply, 'this audit is of a site that is not yours');
  });

  api.get<{ Params: { id: string } }>('/api/v1/evidence/:id', async (req, reply) => {
    const blob = isUuid(req.params.id) ? await getEvidence(deps.pool, req.params.id) : null;
    if (!blob) return sendError(reply, 404, 'not_found', 'no evidence has this id');
    return maySite(authOf(req), blob.siteId) ? sendEvidence(reply, blob) : forbidden(reply, 'this evidence is of a site that is not yours');
  });
}

function actionRoute(api: FastifyInstance, deps: ControlDeps): void {
  // Quarantine, reinstate and ban reach every site the node serves: admins only. An owner
  // quarantines a node for their own site (POST /api/v1/sites/HOST/nodes/ID/quarantine).
  api.post<{ Params: { id: string } }>('/api/v1/nodes/:id/actions', { onRequest: adminOnly }, async (req, reply) => {
    const auth = writer(req, reply, req.body);
    if (!auth) return reply;
    const body = parseOr400(actionBody, req.body, reply);
    if (!body) return reply;
    try {
      return await runNodeAction(deps, auth.actor, req.params.id, body.action, body.reason);
    } catch (err) {
      const known = domainErrorStatus(err);
      if (known) return sendError(reply, known.status, known.error, known.message);
      throw err;
    }
  });
}

export const adminApiPlugin: ControlPlugin = async (app, deps) => {
  // Its own encapsulated scope: the auth hook and error handler apply to these routes only.
  await app.register(async (api) => {
    api.addHook('onRequest', requireAdmin(deps, unauthorized));
    api.addHook('onSend', async (_req, reply, payload) => {
      reply.header('x-content-type-options', 'nosniff');
      if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
      return payload;
    });
    api.setErrorHandler((err, req, reply) => {
      const status = typeof (err as { statusCode?: unknown }).statusCode === 'number' ? (err as { statusCode: number }).statusCode : 500;
      if (status >= 500) req.log.error({ err }, 'admin API request failed');
      return sendError(reply, status, status >= 500 ? 'internal' : 'bad_request', status >= 500 ? 'internal error' : (err as Error).message);
    });
    readRoutes(api, deps);
    actionRoute(api, deps);
    adminApiWriteRoutes(api, deps);
    siteApiRoutes(api, deps);
    accountApiRoutes(api, deps);
  });
};
