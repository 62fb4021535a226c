import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { nodeActions } from '../../common/db/queries/admin-actions.js';
import { auditVerdicts, findAudit, getEvidence, listAudits, type AuditDetail, type AuditListItem } from '../../common/db/queries/dashboard.js';
import { findNode, listNodes } from '../../common/db/queries/nodes.js';
import { listSites } from '../../common/db/queries/sites.js';
import { listTrustEvents } from '../../common/db/queries/trust.js';
import { adminApiWriteRoutes } from './admin-api-writes.js';
import { domainErrorStatus, isUuid, nodeJson, parseOr400, sendError, unauthorized, writer } from './api-helpers.js';
import { requireAdmin } from './auth.js';
import { sendEvidence } from './evidence.js';
import { runNodeAction } from './admin-ops.js';
import type { ControlDeps, ControlPlugin } from './types.js';

// The admin HTTP API of CONTRACT.md ("Control plane HTTP"). Everything here needs the bearer
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

function readRoutes(api: FastifyInstance, deps: ControlDeps): void {
  api.get('/api/v1/sites', async () => (await listSites(deps.pool)).map((s) => ({
    id: s.id, host: s.host, origin: s.origin, privateRoutes: s.privateRoutes, publicRoutes: s.publicRoutes, dynamicPolicy: s.dynamicPolicy,
  })));

  api.get('/api/v1/nodes', async () => (await listNodes(deps.pool)).map(nodeJson));

  api.get<{ Params: { id: string } }>('/api/v1/nodes/:id', async (req, reply) => {
    const node = await findNode(deps.pool, req.params.id);
    return node ? nodeJson(node) : sendError(reply, 404, 'not_found', 'no node has this id');
  });

  api.get<{ Params: { id: string } }>('/api/v1/nodes/:id/trust-events', async (req, reply) => {
    const node = await findNode(deps.pool, req.params.id);
    if (!node) return sendError(reply, 404, 'not_found', 'no node has this id');
    const events = await listTrustEvents(deps.pool, node.id);
    return events.map((e) => ({ at: e.at.toISOString(), kind: e.kind, integrityAfter: e.integrityAfter, availabilityAfter: e.availabilityAfter, reason: e.reason, auditId: e.auditId }));
  });

  api.get('/api/v1/audits', async (req, reply) => {
    const q = parseOr400(auditsQuery, req.query, reply);
    if (!q) return reply;
    const audits = await listAudits(deps.pool, { nodeId: q.node ?? null, verdict: q.verdict ?? null, limit: q.limit });
    return audits.map(auditListJson);
  });

  api.get<{ Params: { id: string } }>('/api/v1/audits/:id', async (req, reply) => {
    const audit = isUuid(req.params.id) ? await findAudit(deps.pool, req.params.id) : null;
    return audit ? auditDetailJson(audit) : sendError(reply, 404, 'not_found', 'no audit has this id');
  });

  api.get<{ Params: { id: string } }>('/api/v1/evidence/:id', async (req, reply) => {
    const blob = isUuid(req.params.id) ? await getEvidence(deps.pool, req.params.id) : null;
    return blob ? sendEvidence(reply, blob) : sendError(reply, 404, 'not_found', 'no evidence has this id');
  });
}

function actionRoute(api: FastifyInstance, deps: ControlDeps): void {
  api.post<{ Params: { id: string } }>('/api/v1/nodes/:id/actions', async (req, reply) => {
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
  });
};
