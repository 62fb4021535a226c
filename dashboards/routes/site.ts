import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createTokenFor, tokenTtlMs } from '../../balancer/control/admin-ops.js';
import { authOf } from '../../balancer/control/auth.js';
import { challengeUrl } from '../../balancer/control/ownership.js';
import { maySite } from '../../balancer/control/scope.js';
import { deleteSite, editSite, quarantineForSite, reinstateForSite, sitePatchInput } from '../../balancer/control/site-ops.js';
import type { ControlDeps } from '../../balancer/control/types.js';
import { listAudits } from '../../common/db/queries/dashboard.js';
import { listNodes } from '../../common/db/queries/nodes.js';
import { listExclusions, siteState } from '../../common/db/queries/site-owners.js';
import { findSiteByHost } from '../../common/db/queries/sites.js';
import { listJoinTokens } from '../../common/db/queries/tokens.js';
import { sitePage, type SitePageData } from '../views/site.js';
import { csrfOf, forbiddenPage, notFound, sendHtml, viewerOf } from './respond.js';
import { formAuth, globsOf, knownProblem } from './sites.js';

type HostParams = { Params: { host: string }; Body: Record<string, unknown> | undefined };
type NodeParams = { Params: { host: string; id: string }; Body: Record<string, unknown> | undefined };

async function pageData(deps: ControlDeps, req: FastifyRequest, host: string, created: SitePageData['created']): Promise<SitePageData | 'missing' | 'forbidden'> {
  const site = await findSiteByHost(deps.pool, host);
  if (!site) return 'missing';
  if (!maySite(authOf(req), site.id)) return 'forbidden';
  const [state, nodes, exclusions, tokens, audits] = await Promise.all([
    siteState(deps.pool, site.id), listNodes(deps.pool, [site.id]), listExclusions(deps.pool, site.id), listJoinTokens(deps.pool, site.id),
    listAudits(deps.pool, { siteIds: [site.id], limit: 30, includePending: true }),
  ]);
  return {
    site, nodes, exclusions, tokens, audits, created, now: new Date(deps.now()), viewer: viewerOf(req),
    state: state ?? { paused: false, deleteAfter: null, challengeToken: null, challengeProof: null },
    challengeUrl: state?.challengeToken ? challengeUrl(site.origin, state.challengeToken) : null,
  };
}

export function sitePageRoutes(app: FastifyInstance, deps: ControlDeps): void {
  const render = async (req: FastifyRequest, reply: FastifyReply, host: string, flash: string | null, status = 200, created: SitePageData['created'] = null) => {
    const d = await pageData(deps, req, host, created);
    if (d === 'missing') return notFound(reply, 'site');
    if (d === 'forbidden') return forbiddenPage(req, reply, `${host.slice(0, 253)} is not one of your sites.`);
    return sendHtml(reply, sitePage(d, csrfOf(req), flash), status);
  };
  const back = (reply: FastifyReply, host: string, done: string) => reply.code(303).header('location', `/sites/${encodeURIComponent(host)}?done=${done}`).send();
  const flashes: Record<string, string> = {
    saved: 'Saved: every balancer uses the new settings within a second.', paused: 'Paused: the origin serves every visitor; nodes get none.',
    resumed: 'Resumed: nodes serve its published pages again.', quarantined: 'Node quarantined for this site: it gets none of its visitors.',
    reinstated: 'Node reinstated for this site.', deleting: 'Deleting: the site is paused now and removed once nodes have drained.', revoked: 'Token revoked.',
  };

  app.get<{ Params: { host: string }; Querystring: { done?: string; revoked?: string } }>('/sites/:host', async (req, reply) =>
    render(req, reply, req.params.host, flashes[req.query.revoked === '1' ? 'revoked' : (req.query.done ?? '')] ?? null));

  // Every action: the owner's own site only (site-ops checks it and answers AUTH_ERR_FORBIDDEN).
  const act = (path: string, fn: (req: FastifyRequest<NodeParams>, auth: NonNullable<ReturnType<typeof formAuth>>) => Promise<string>) => {
    app.post<NodeParams>(path, async (req, reply) => {
      const auth = formAuth(req, reply);
      if (!auth) return reply;
      try {
        return back(reply, req.params.host, await fn(req, auth));
      } catch (err) {
        const p = knownProblem(err);
        if (p.status === 403) return forbiddenPage(req, reply, p.message);
        return render(req, reply, req.params.host, p.message, p.status);
      }
    });
  };

  act('/sites/:host/settings', async (req, auth) => {
    const b = req.body ?? {};
    const input = sitePatchInput.parse({ origin: b.origin, private: globsOf(b.private) ?? [], public: globsOf(b.public) ?? [], dynamic: b.dynamic });
    await editSite(deps, auth, req.params.host, input);
    return 'saved';
  });
  act('/sites/:host/pause', async (req, auth) => {
    const paused = (req.body ?? {}).paused === '1';
    await editSite(deps, auth, req.params.host, { paused });
    return paused ? 'paused' : 'resumed';
  });
  act('/sites/:host/delete', async (req, auth) => {
    await deleteSite(deps, auth, req.params.host);
    return 'deleting';
  });
  act('/sites/:host/nodes/:id/quarantine', async (req, auth) => {
    await quarantineForSite(deps, auth, req.params.host, req.params.id, String((req.body ?? {}).reason ?? ''));
    return 'quarantined';
  });
  act('/sites/:host/nodes/:id/reinstate', async (req, auth) => {
    await reinstateForSite(deps, auth, req.params.host, req.params.id);
    return 'reinstated';
  });

  app.post<HostParams>('/sites/:host/tokens', async (req, reply) => {
    const auth = formAuth(req, reply);
    if (!auth) return reply;
    const b = req.body ?? {};
    const ttl = tokenTtlMs(typeof b.ttl === 'string' ? b.ttl : undefined);
    if ('problem' in ttl) return render(req, reply, req.params.host, `Valid for: ${ttl.problem}.`, 400);
    try {
      const created = await createTokenFor(deps, auth, req.params.host, Math.max(1, Math.min(10_000, Number(b.uses) || 1)), ttl.ms);
      return render(req, reply, req.params.host, null, 201, { token: created.token, site: created.siteHost });
    } catch (err) {
      const p = knownProblem(err);
      return p.status === 403 ? forbiddenPage(req, reply, p.message) : render(req, reply, req.params.host, p.message, p.status);
    }
  });
}
