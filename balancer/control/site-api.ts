import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { listClaims, listExclusions, siteState } from '../../common/db/queries/site-owners.js';
import type { Site } from '../../common/db/queries/sites.js';
import { domainErrorStatus, isUuid, parseOr400, sendError, writer } from './api-helpers.js';
import { authOf } from './auth.js';
import { challengeUrl } from './ownership.js';
import { addSite, deleteSite, editSite, ownedSite, quarantineForSite, reinstateForSite, siteInput, sitePatchInput, verifyClaim } from './site-ops.js';
import type { ControlDeps } from './types.js';

// Sites as owners manage them through the API (docs/accounts.md). The dashboard's forms call the
// same operations (site-ops.ts).

const reasonBody = z.object({ reason: z.string().trim().min(1, 'required: say why').max(2000), _csrf: z.string().optional() });

async function guard<T>(reply: FastifyReply, fn: () => Promise<T>): Promise<T | FastifyReply> {
  try {
    return await fn();
  } catch (err) {
    const known = domainErrorStatus(err);
    if (known) return sendError(reply, known.status, known.error, known.message);
    throw err;
  }
}

export async function siteJson(deps: ControlDeps, s: Site) {
  const state = await siteState(deps.pool, s.id);
  return {
    id: s.id, host: s.host, origin: s.origin, privateRoutes: s.privateRoutes, publicRoutes: s.publicRoutes, dynamicPolicy: s.dynamicPolicy,
    paused: state?.paused ?? false, deleteAfter: state?.deleteAfter?.toISOString() ?? null,
    exclusions: (await listExclusions(deps.pool, s.id)).map((e) => ({ nodeId: e.nodeId, reason: e.reason, actor: e.actor, at: e.createdAt.toISOString() })),
  };
}

export function siteApiRoutes(api: FastifyInstance, deps: ControlDeps): void {
  api.post('/api/v1/sites', async (req, reply) => {
    const auth = writer(req, reply, req.body);
    if (!auth) return reply;
    const input = parseOr400(siteInput, req.body, reply);
    if (!input) return reply;
    return guard(reply, async () => {
      const out = await addSite(deps, auth, input);
      if (out.kind === 'site') return reply.code(201).send(await siteJson(deps, out.site));
      const c = out.claim;
      return reply.code(202).send({
        claim: c.id, host: c.host, origin: c.origin, expiresAt: c.expiresAt.toISOString(),
        challenge: { url: challengeUrl(c.origin, c.challengeToken), body: c.challengeProof },
        next: `serve the body at the URL, then POST /api/v1/site-claims/${c.id}/verify`,
      });
    });
  });

  api.get('/api/v1/site-claims', async (req) => (await listClaims(deps.pool, authOf(req)?.userId ?? null, new Date(deps.now()))).map((c) => ({
    claim: c.id, host: c.host, origin: c.origin, expiresAt: c.expiresAt.toISOString(), lastError: c.lastError,
    challenge: { url: challengeUrl(c.origin, c.challengeToken), body: c.challengeProof },
  })));

  api.post<{ Params: { id: string } }>('/api/v1/site-claims/:id/verify', async (req, reply) => {
    const auth = writer(req, reply, req.body);
    if (!auth) return reply;
    if (!isUuid(req.params.id)) return sendError(reply, 404, 'not_found', 'no pending site claim has this id');
    return guard(reply, async () => reply.code(201).send(await siteJson(deps, await verifyClaim(deps, auth, req.params.id))));
  });

  api.get<{ Params: { host: string } }>('/api/v1/sites/:host', async (req, reply) => {
    const auth = authOf(req);
    if (!auth) return reply;
    return guard(reply, async () => siteJson(deps, await ownedSite(deps, auth, req.params.host)));
  });

  api.patch<{ Params: { host: string } }>('/api/v1/sites/:host', async (req, reply) => {
    const auth = writer(req, reply, req.body);
    if (!auth) return reply;
    const input = parseOr400(sitePatchInput, req.body, reply);
    if (!input) return reply;
    return guard(reply, async () => siteJson(deps, await editSite(deps, auth, req.params.host, input)));
  });

  api.delete<{ Params: { host: string } }>('/api/v1/sites/:host', async (req, reply) => {
    const auth = writer(req, reply, req.body);
    if (!auth) return reply;
    return guard(reply, async () => reply.code(202).send({ host: req.params.host, paused: true, deleteAfter: (await deleteSite(deps, auth, req.params.host)).toISOString() }));
  });

  api.post<{ Params: { host: string; id: string } }>('/api/v1/sites/:host/nodes/:id/quarantine', async (req, reply) => {
    const auth = writer(req, reply, req.body);
    if (!auth) return reply;
    const body = parseOr400(reasonBody, req.body, reply);
    if (!body) return reply;
    return guard(reply, async () => {
      await quarantineForSite(deps, auth, req.params.host, req.params.id, body.reason);
      return { site: req.params.host, node: req.params.id, quarantined: true };
    });
  });

  api.post<{ Params: { host: string; id: string } }>('/api/v1/sites/:host/nodes/:id/reinstate', async (req, reply) => {
    const auth = writer(req, reply, req.body);
    if (!auth) return reply;
    return guard(reply, async () => ({ site: req.params.host, node: req.params.id, quarantined: false, lifted: await reinstateForSite(deps, auth, req.params.host, req.params.id) }));
  });
}
