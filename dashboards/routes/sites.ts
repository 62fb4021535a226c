import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createTokenFor, MAX_TOKEN_USES, revokeToken, tokenTtlMs } from '../../balancer/control/admin-ops.js';
import { isUuid } from '../../balancer/control/api-helpers.js';
import { authOf, csrfValid } from '../../balancer/control/auth.js';
import type { ControlDeps } from '../../balancer/control/types.js';
import { listAdminActions } from '../../common/db/queries/admin-actions.js';
import { listNodes } from '../../common/db/queries/nodes.js';
import { listSites } from '../../common/db/queries/sites.js';
import { listJoinTokens } from '../../common/db/queries/tokens.js';
import { isVerityError } from '../../common/errors.js';
import { adminLogPage, sitesPage, type SitesData } from '../views/sites.js';
import { csrfOf, sendHtml } from './respond.js';

async function sitesData(deps: ControlDeps, created: SitesData['created']): Promise<SitesData> {
  const [sites, nodes, tokens] = await Promise.all([listSites(deps.pool), listNodes(deps.pool), listJoinTokens(deps.pool)]);
  const nodeCounts = new Map<string, number>();
  for (const n of nodes) for (const h of n.sites) nodeCounts.set(h, (nodeCounts.get(h) ?? 0) + 1);
  return { sites, nodeCounts, tokens, now: new Date(deps.now()), created };
}

function intIn(v: unknown, min: number, max: number): number | null {
  const n = Number(v);
  return Number.isInteger(n) && n >= min && n <= max ? n : null;
}

function checkCsrf(req: FastifyRequest<{ Body: Record<string, unknown> | undefined }>, reply: FastifyReply): string | null {
  const auth = authOf(req);
  if (!auth || !csrfValid(req, auth, (req.body ?? {})._csrf)) {
    void reply.code(403).send('bad CSRF token: reload the page and try again');
    return null;
  }
  return auth.actor;
}

export function siteRoutes(app: FastifyInstance, deps: ControlDeps): void {
  app.get<{ Querystring: { revoked?: string } }>('/sites', async (req, reply) =>
    sendHtml(reply, sitesPage(await sitesData(deps, null), csrfOf(req), req.query.revoked === '1' ? 'Token revoked.' : null)));

  app.post<{ Body: Record<string, unknown> | undefined }>('/sites/tokens', async (req, reply) => {
    const actor = checkCsrf(req, reply);
    if (!actor) return reply;
    const body = req.body ?? {};
    const uses = intIn(body.uses, 1, MAX_TOKEN_USES);
    const ttl = tokenTtlMs(typeof body.ttl === 'string' ? body.ttl : undefined);
    if (uses === null || 'problem' in ttl || typeof body.site !== 'string') {
      const why = 'problem' in ttl ? `Valid for: ${ttl.problem}.` : 'Uses must be 1–10000.';
      return sendHtml(reply, sitesPage(await sitesData(deps, null), csrfOf(req), why), 400);
    }
    try {
      const created = await createTokenFor(deps, actor, body.site, uses, ttl.ms);
      return sendHtml(reply, sitesPage(await sitesData(deps, { token: created.token, site: created.siteHost }), csrfOf(req), null), 201);
    } catch (err) {
      if (!isVerityError(err, 'SITE_ERR_UNKNOWN')) throw err;
      return sendHtml(reply, sitesPage(await sitesData(deps, null), csrfOf(req), 'That site does not exist.'), 404);
    }
  });

  app.post<{ Params: { id: string }; Body: Record<string, unknown> | undefined }>('/tokens/:id/revoke', async (req, reply) => {
    const actor = checkCsrf(req, reply);
    if (!actor) return reply;
    if (isUuid(req.params.id)) await revokeToken(deps, actor, req.params.id);
    return reply.code(303).header('location', '/sites?revoked=1').send();
  });

  app.get('/admin-log', async (req, reply) => sendHtml(reply, adminLogPage(await listAdminActions(deps.pool, 500), csrfOf(req))));
}
